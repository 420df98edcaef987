"""Workflow steps that talk to the provider: {"step": "submit"} and {"step": "poll"} (raises
StillProcessing while the provider works: the Poll state's Retry is the polling loop)."""

from typing import Any

from ferry.observability import logger
from ferry.video import steps
from ferry.video.services import video_steps


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("step") == "submit":
        return steps.submit(event, video_steps())
    return steps.poll(event, video_steps(), raise_while_processing=event.get("mode") != "return")
