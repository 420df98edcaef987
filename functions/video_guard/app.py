"""EventBridge: an execution that FAILED, TIMED_OUT or was ABORTED marks its task failed."""

from typing import Any

from ferry.observability import logger
from ferry.video import steps
from ferry.video.services import video_steps


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return steps.guard(event, video_steps())
