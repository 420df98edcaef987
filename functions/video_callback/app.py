"""Workflow step: POST the settled task to its callback_url with an HMAC-SHA256 signature."""

from typing import Any

from ferry.observability import logger
from ferry.video import steps
from ferry.video.services import video_steps


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return steps.notify(event, video_steps())
