"""POST /v1/files/uploads (multipart/form-data)."""

from ferry.api import build_resolver, lambda_handler_for
from ferry.files import INLINE_CAP_BYTES
from ferry.routes import upload_file

app = build_resolver(upload_file.router, max_body_bytes=INLINE_CAP_BYTES + 64 * 1024)
lambda_handler = lambda_handler_for(app)
