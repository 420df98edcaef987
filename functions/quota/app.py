"""GET /v1/quota."""

from ferry.api import build_resolver, lambda_handler_for
from ferry.routes import quota

app = build_resolver(quota.router)
lambda_handler = lambda_handler_for(app)
