"""Step Functions: starting a video task's execution (its name is the task id)."""

from __future__ import annotations

import json
from typing import Any

from ferry import aws


class WorkflowStarter:
    def __init__(self, state_machine_arn: str, sfn: Any | None = None):
        self._arn = state_machine_arn
        self._sfn = sfn

    @property
    def _client(self) -> Any:
        return self._sfn or aws.client("stepfunctions")

    def start(self, name: str, payload: dict[str, Any]) -> str:
        response = self._client.start_execution(stateMachineArn=self._arn, name=name, input=json.dumps(payload))
        return str(response["executionArn"])
