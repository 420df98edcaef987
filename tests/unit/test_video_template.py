"""template.yaml, video tasks: the state machine's definition (ASL grammar via moto's parser, and the
structure DESIGN §5 requires) and the least-privilege policies of its role and functions."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.conftest import ROOT

LAMBDA_SERVICE_ERRORS = {"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException"}


@pytest.fixture(scope="module")
def machine(template: dict[str, Any]) -> dict[str, Any]:
    return dict(template["Resources"]["VideoStateMachine"]["Properties"])


def test_definition_parses_as_asl_with_every_substitution_defined(machine: dict[str, Any]) -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    text = json.dumps(machine["Definition"])
    placeholders = set(re.findall(r"\$\{(\w+)\}", text))
    assert placeholders == set(machine["DefinitionSubstitutions"])
    for name in placeholders:
        text = text.replace("${" + name + "}", f"arn:aws:lambda:us-east-1:123456789012:function:{name}")
    AmazonStateLanguageParser.parse(text)  # raises on anything that is not valid ASL


def test_every_path_ends_and_every_task_is_guarded(machine: dict[str, Any]) -> None:
    definition = machine["Definition"]
    assert machine["Type"] == "STANDARD" and definition["TimeoutSeconds"] > 6 * 3600
    states = definition["States"]
    for name, state in states.items():
        targets = [state.get("Next"), state.get("Default")] + [c["Next"] for c in state.get("Catch", [])]
        assert all(t in states for t in targets if t), name
        assert state.get("End") or state.get("Next") or state["Type"] in ("Succeed", "Fail"), name
        if state["Type"] == "Task":
            retried = {e for r in state["Retry"] for e in r["ErrorEquals"]}
            assert retried >= LAMBDA_SERVICE_ERRORS, f"{name} does not retry Lambda service errors"
            assert [c["ErrorEquals"] for c in state["Catch"]] == [["States.ALL"]], f"{name} has no catch-all"


def test_polling_is_one_task_retried_at_a_fixed_interval(machine: dict[str, Any]) -> None:
    states = machine["Definition"]["States"]
    assert not [s for s in states.values() if s["Type"] in ("Wait", "Choice")]
    poll_retry = states["Poll"]["Retry"][-1]
    assert poll_retry["ErrorEquals"] == ["States.TaskFailed"] and poll_retry["BackoffRate"] == 1
    assert poll_retry["IntervalSeconds"] * poll_retry["MaxAttempts"] >= 21600  # the longest deadline allowed
    submit_retry = states["Submit"]["Retry"][-1]
    assert submit_retry["BackoffRate"] > 1 and submit_retry["JitterStrategy"] == "FULL"


def test_state_machine_role_invokes_only_its_own_functions(template: dict[str, Any], machine: dict[str, Any]) -> None:
    [policy] = machine["Policies"]
    [statement] = policy["Statement"]
    assert statement["Action"] == "lambda:InvokeFunction"
    assert sorted(r["Fn::GetAtt"][0] for r in statement["Resource"]) == sorted(
        v["Fn::GetAtt"][0] for v in machine["DefinitionSubstitutions"].values()
    )


def test_video_functions_have_scoped_statements(template: dict[str, Any]) -> None:
    functions = {k: v for k, v in template["Resources"].items() if k.startswith("Video") and k.endswith("Function")}
    assert len(functions) == 6
    for name, function in functions.items():
        for policy in function["Properties"]["Policies"]:
            for statement in policy["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert all("*" not in a for a in actions) and statement["Resource"] != "*", name
    create = json.dumps(functions["VideoCreateFunction"]["Properties"]["Policies"])
    assert '"states:StartExecution"' in create and '{"Ref": "VideoStateMachine"}' in create
    assert "VideoStateMachine" not in json.dumps(template["Globals"])  # no cycle through the machine's functions


def test_guard_rule_watches_only_this_machine(template: dict[str, Any]) -> None:
    event = template["Resources"]["VideoGuardFunction"]["Properties"]["Events"]["ExecutionEnded"]
    pattern = event["Properties"]["Pattern"]
    assert pattern["detail"]["status"] == ["FAILED", "TIMED_OUT", "ABORTED"]
    assert pattern["detail"]["stateMachineArn"] == [{"Ref": "VideoStateMachine"}]


def test_no_upstream_key_in_the_template() -> None:
    text = (ROOT / "template.yaml").read_text()
    assert not re.search(r"(sk-|fy_)[A-Za-z0-9]{16,}", text)
