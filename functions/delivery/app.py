"""GET/HEAD /f/{name}: local delivery (a 302 to a short presigned GET; production uses CloudFront)."""

from ferry.api import build_resolver, lambda_handler_for
from ferry.routes import chenyu, delivery

# chenyu.content_router: GET/HEAD /assets/{asset_id}/content, the Chenyu dialect's content_url and signed_url.
app = build_resolver(delivery.router, chenyu.content_router, public=True)
lambda_handler = lambda_handler_for(app)
