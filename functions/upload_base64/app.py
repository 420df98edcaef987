"""POST /v1/files/uploads/base64 (JSON: a data URI or bare base64 payload), and KIE.AI's
POST /api/file-base64-upload."""

from ferry.api import build_resolver, lambda_handler_for
from ferry.files import INLINE_CAP_BYTES
from ferry.routes import kie, upload_base64

app = build_resolver(upload_base64.router, kie.base64_router, max_body_bytes=INLINE_CAP_BYTES * 4 // 3 + 64 * 1024)
lambda_handler = lambda_handler_for(app)
