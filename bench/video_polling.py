"""Video task polling cost: state transitions per task, from the execution history, for a task the
provider keeps "processing" for 30 polls (completed on the 31st), on Ferry's state machine and on the
naive Wait → Task → Choice loop, both run in this same benchmark on MiniStack (the real ASL
interpreter, Wait and Retry intervals scaled to 1 %), with the same Lambdas and the same fake
provider (tests/fake_upstream.py). Target: Ferry / naive ≤ 0.4, and ≤ 1.2 transitions per poll.

Both executions start from a task record written directly to the table (not through the API), so
each machine runs exactly one execution of the same task script.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from bench.transitions import count, history
from ferry.data.tasks import TaskRecord, TaskRepository
from local import stack as local_stack
from tests.e2e.video import provision_upstream_keys, video_models_parameter
from tests.fake_upstream import FakeUpstream

PROCESSING_POLLS = 30
STAGE = "bench"


def naive_definition(provider_arn: str, finish_arn: str, callback_arn: str) -> dict[str, Any]:
    """What polling costs without Ferry's trick: a Wait, the poll Task (which returns "processing")
    and a Choice per poll. Submit/Finish/Notify are Ferry's own steps, so only the loop differs."""
    task = {"Type": "Task", "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Finish"}]}
    return {
        "StartAt": "Submit",
        "States": {
            "Submit": {**task, "Resource": provider_arn, "ResultPath": "$.submit", "Next": "Wait",
                       "Parameters": {"step": "submit", "task_id.$": "$.task_id"}},
            "Wait": {"Type": "Wait", "Seconds": 10, "Next": "Poll"},
            "Poll": {**task, "Resource": provider_arn, "ResultPath": "$.result", "Next": "Done?",
                     "Parameters": {"step": "poll", "mode": "return", "task_id.$": "$.task_id", "model.$": "$.model",
                                    "deadline.$": "$.deadline", "submit.$": "$.submit"}},
            "Done?": {"Type": "Choice", "Default": "Finish",
                      "Choices": [{"Variable": "$.result.outcome", "StringEquals": "processing", "Next": "Wait"}]},
            "Finish": {"Type": "Task", "Resource": finish_arn, "ResultPath": "$.task", "Next": "Notify",
                       "Parameters": {"state.$": "$", "attempt.$": "$$.State.RetryCount"}},
            "Notify": {"Type": "Task", "Resource": callback_arn, "ResultPath": None, "Next": "End",
                       "Parameters": {"task_id.$": "$.task_id"}},
            "End": {"Type": "Succeed"},
        },
    }  # fmt: skip


def _task(repository: TaskRepository, marker: str) -> TaskRecord:
    now = int(time.time())
    request = {"model": "veo3.1-components", "prompt": f"{marker} [fake processing={PROCESSING_POLLS}]"}
    record = TaskRecord(
        id="video_" + secrets.token_hex(16),
        user_id="bench",
        model="veo3.1-components",
        provider="unified",
        status="processing",
        created_at=now,
        status_update_time=now,
        deadline=now + 3600,
        request=json.dumps({**request, "image_urls": []}),
    )
    repository.put(record)
    return record


def _run(sfn: Any, machine: str, record: TaskRecord, poll_state: str, timeout: float = 900) -> dict[str, Any]:
    payload = {"task_id": record.id, "model": record.model, "deadline": record.deadline}
    started = time.monotonic()
    arn = sfn.start_execution(stateMachineArn=machine, name=record.id, input=json.dumps(payload))["executionArn"]
    while (status := sfn.describe_execution(executionArn=arn)["status"]) == "RUNNING":
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{arn} still running after {timeout} s")
        time.sleep(0.5)
    figures: dict[str, Any] = count(history(sfn, arn), poll_state=poll_state)
    figures["status"] = status
    figures["seconds"] = round(time.monotonic() - started, 1)
    figures["per_poll"] = round(figures["transitions"] / max(1, figures["polls"]), 3)
    return figures


def run() -> dict[str, Any]:
    print("\nvideo polling: deploying the stack on MiniStack (a minute or two)", flush=True)
    with FakeUpstream(api_key="e2e-upstream-key").running() as upstream:
        ministack, deployment = local_stack.up(
            local_stack.free_port(),
            local_stack.ROOT / ".local-stack" / "bench-video",
            stage=STAGE,
            parameters={"UrlAllowedNetworks": "127.0.0.1/32", "VideoModels": video_models_parameter(upstream, STAGE)},
            reuse=False,
        )
        try:
            provision_upstream_keys(deployment.endpoint, STAGE)
            sfn = local_stack.client(deployment.endpoint, "stepfunctions")
            cfn = local_stack.client(deployment.endpoint, "cloudformation")
            resources = {
                r["LogicalResourceId"]: r["PhysicalResourceId"]
                for r in cfn.describe_stack_resources(StackName=deployment.stack_name)["StackResources"]
            }
            arn = f"arn:aws:lambda:{local_stack.REGION}:{local_stack.ACCOUNT_ID}:function:"
            naive = sfn.create_state_machine(
                name="ferry-bench-naive-polling",
                definition=json.dumps(
                    naive_definition(
                        arn + resources["VideoProviderFunction"],
                        arn + resources["VideoFinishFunction"],
                        arn + resources["VideoCallbackFunction"],
                    )
                ),
                roleArn=f"arn:aws:iam::{local_stack.ACCOUNT_ID}:role/ferry-bench",
            )["stateMachineArn"]
            tasks = TaskRepository(deployment.table_name, dynamodb=local_stack.client(deployment.endpoint, "dynamodb"))
            ferry = _run(sfn, deployment.outputs["VideoStateMachineArn"], _task(tasks, "ferry"), "Poll")
            loop = _run(sfn, naive, _task(tasks, "naive"), "Poll")
        finally:
            ministack.stop()
    ratio = round(ferry["transitions"] / loop["transitions"], 3)
    print(f"{'machine':<28}{'polls':>6}{'transitions':>13}{'per poll':>10}{'status':>11}{'seconds':>9}")
    for name, figures in (("ferry (Retry = poll loop)", ferry), ("naive Wait→Task→Choice", loop)):
        print(
            f"{name:<28}{figures['polls']:>6}{figures['transitions']:>13}{figures['per_poll']:>10}"
            f"{figures['status']:>11}{figures['seconds']:>9}"
        )
    print(f"ratio ferry / naive: {ratio} (target ≤ 0.4); ferry per poll {ferry['per_poll']} (target ≤ 1.2)")
    return {"processing_polls": PROCESSING_POLLS, "ferry": ferry, "naive": loop, "ratio": ratio}


if __name__ == "__main__":
    run()
