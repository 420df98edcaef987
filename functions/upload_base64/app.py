"""POST /v1/files/uploads/base64 (JSON: a data URI or bare base64 payload)."""

from ferry.api import build_resolver, lambda_handler_for
from ferry.files import INLINE_CAP_BYTES
from ferry.routes import upload_base64

app = build_resolver(upload_base64.router, max_body_bytes=INLINE_CAP_BYTES * 4 // 3 + 64 * 1024)
lambda_handler = lambda_handler_for(app)
