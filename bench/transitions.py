"""State transitions of a Step Functions execution, counted from its history (GetExecutionHistory).

Step Functions bills a Standard workflow per state transition: every state entered, and every
retry of a Task (a re-attempt is a transition too). So: transitions = StateEntered events + the
TaskScheduled events beyond the first of each Task state entry. A poll is one scheduling of the
Lambda of the state named `poll_state` (the Poll task of Ferry's machine, or the Task of a naive
Wait → Task → Choice loop).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def count(events: Iterable[dict[str, Any]], poll_state: str = "Poll") -> dict[str, int]:
    entered = retries = polls = 0
    current, scheduled_in_entry = "", 0
    for event in events:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            entered += 1
            current, scheduled_in_entry = event["stateEnteredEventDetails"]["name"], 0
        elif kind in ("TaskScheduled", "LambdaFunctionScheduled"):
            scheduled_in_entry += 1
            if scheduled_in_entry > 1:
                retries += 1
            if current == poll_state:
                polls += 1
    return {"transitions": entered + retries, "states_entered": entered, "retries": retries, "polls": polls}


def history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events += page["events"]
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]
