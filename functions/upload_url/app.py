"""POST /v1/files/uploads/url: a server-side, SSRF-safe transfer streamed into S3 (and KIE.AI's
POST /api/file-url-upload)."""

from ferry.api import build_resolver, lambda_handler_for
from ferry.routes import kie, upload_url

app = build_resolver(upload_url.router, kie.url_router, max_body_bytes=64 * 1024)
lambda_handler = lambda_handler_for(app)
