"""POST /v1/files/uploads (multipart/form-data), and the multipart routes of the compatible dialects:
KIE.AI POST /api/file-stream-upload, Chenyu POST /api/open/v2/assets, APIMart POST /v1/uploads/images."""

from ferry.api import build_resolver, lambda_handler_for
from ferry.files import INLINE_CAP_BYTES
from ferry.routes import apimart, chenyu, kie, upload_file

app = build_resolver(
    upload_file.router,
    kie.stream_router,
    chenyu.router,
    apimart.router,
    max_body_bytes=INLINE_CAP_BYTES + 64 * 1024,
)
lambda_handler = lambda_handler_for(app)
