"""GET/HEAD /f/{name}: local delivery (a 302 to a short presigned GET; production uses CloudFront)."""

from ferry.api import build_resolver, lambda_handler_for
from ferry.routes import delivery

app = build_resolver(delivery.router, public=True)
lambda_handler = lambda_handler_for(app)
