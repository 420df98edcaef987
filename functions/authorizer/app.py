"""API Gateway HTTP API Lambda authorizer: Bearer fy_ key → caller context."""

from typing import Any

from ferry.auth import authorize
from ferry.observability import logger
from ferry.services import key_service


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return authorize(event, key_service())
