"""GET /v1/health, and the 404 envelope for every route API Gateway does not know."""

from ferry.api import build_resolver, lambda_handler_for
from ferry.routes import health

app = build_resolver(health.router, public=True)
lambda_handler = lambda_handler_for(app)
