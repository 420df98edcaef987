"""GET /v1/files, GET /v1/files/{id}, DELETE /v1/files/{id}."""

from ferry.api import build_resolver, lambda_handler_for
from ferry.routes import files

app = build_resolver(files.router)
lambda_handler = lambda_handler_for(app)
