"""S3 ObjectCreated (via SQS) → confirm or reject each presigned upload."""

from typing import Any

from ferry.finalize import handle_batch
from ferry.observability import logger


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle_batch(event, context)
