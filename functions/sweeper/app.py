"""Every 5 minutes: release the quota of presigned uploads whose window closed with nothing received."""

from typing import Any

from ferry.observability import logger
from ferry.services import file_service


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    outcomes = file_service().sweep_abandoned()
    logger.info("swept pending uploads", extra=outcomes)
    return outcomes
