"""GET /v1/video/query?id=: a video task's status, from DynamoDB only."""

from ferry.api import build_resolver, lambda_handler_for
from ferry.routes import video

app = build_resolver(video.router)
lambda_handler = lambda_handler_for(app)
