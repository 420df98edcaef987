"""POST /v1/video/create: validate, store data-URI images, record the task, start its workflow."""

from ferry.api import build_resolver, lambda_handler_for
from ferry.files import INLINE_CAP_BYTES
from ferry.routes import video

app = build_resolver(video.router, max_body_bytes=INLINE_CAP_BYTES * 4 // 3 + 64 * 1024)
lambda_handler = lambda_handler_for(app)
