"""Workflow step: store the result and settle the task (or, with "abandon", mark it failed)."""

from typing import Any

from ferry.observability import logger
from ferry.video import steps
from ferry.video.services import video_steps


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("abandon"):
        return steps.abandon(event, video_steps())
    return steps.finish(event, video_steps())
