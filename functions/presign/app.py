"""POST /v1/files/uploads/presign: a presigned S3 POST for direct uploads."""

from ferry.api import build_resolver, lambda_handler_for
from ferry.routes import presign

app = build_resolver(presign.router, max_body_bytes=16 * 1024)
lambda_handler = lambda_handler_for(app)
