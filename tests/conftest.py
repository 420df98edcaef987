"""Fixtures shared by every test layer (moto style: credentials first, handlers imported after)."""

from __future__ import annotations

import copy
import functools
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"


@functools.cache
def _decoded_template() -> dict[str, Any]:
    from cfnlint.decode import decode

    decoded, problems = decode(str(ROOT / "template.yaml"))
    assert decoded is not None, problems
    return dict(decoded)


def load_template() -> dict[str, Any]:
    """template.yaml with its short forms (!Ref, !Sub, …) in long form, parsed once per session."""
    return copy.deepcopy(_decoded_template())


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials so nothing can reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def ferry_env(monkeypatch: pytest.MonkeyPatch, aws_credentials: None) -> Iterator[dict[str, str]]:
    """The environment the template gives every function, with fresh settings and clients."""
    env = {
        "FERRY_STAGE": "test",
        "FERRY_VERSION": "0.1.0",
        "FERRY_TABLE_NAME": "ferry-test",
        "FERRY_BUCKET_NAME": "ferry-test-media",
        "FERRY_EVENT_BUS_NAME": "ferry-test",
        "FERRY_IDEMPOTENCY_TABLE_NAME": "ferry-test-idempotency",
        "FERRY_QUOTA_LIMIT_BYTES": "209715200",
        "POWERTOOLS_SERVICE_NAME": "ferry",
        "POWERTOOLS_METRICS_NAMESPACE": "Ferry",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from ferry import aws, services

    services.reset()
    aws.reset_clients()
    yield env
    services.reset()
    aws.reset_clients()


def load_function(name: str) -> ModuleType:
    """Import functions/<name>/app.py under a unique module name (every handler is `app.py`)."""
    path = ROOT / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"ferry_function_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_event(relative: str) -> dict[str, Any]:
    return json.loads((EVENTS / relative).read_text())


class LambdaContext:
    function_name = "test"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "req-00000000-0000-0000-0000-000000000000"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


SAMPLE_KEY = "fy_SampleKeyForLocalEventsOnly0000000000000000"  # the key in events/authorizer/*.json


class FrozenClock:
    """A clock tests move by hand."""

    def __init__(self, start: float = 1_795_262_400.0):  # 2026-11-21T12:00:00Z
        self.t = start

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def http_event(
    method: str,
    path: str,
    *,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    authorizer: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An HTTP API (payload 2.0) event, derived from the sample in events/health/get_health.json."""
    event = load_event("health/get_health.json")
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {path}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["headers"].update(headers or {})
    if body is not None:
        event["body"] = body
    if authorizer is not None:
        event["requestContext"]["authorizer"] = {"lambda": authorizer}
    return event


AUTHENTICATED = {"authenticated": "true", "user_id": "alice", "key_id": "key_alice", "quota_bytes": ""}


def multipart_event(
    path: str,
    *,
    fields: dict[str, str],
    file: tuple[str, bytes, str] | None,
    authorizer: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A multipart/form-data POST as API Gateway delivers it: the body base64-encoded."""
    import base64

    from urllib3 import encode_multipart_formdata

    parts: dict[str, Any] = dict(fields)
    if file is not None:
        parts["file"] = file
    body, content_type = encode_multipart_formdata(parts)
    event = http_event("POST", path, headers={"content-type": content_type}, authorizer=authorizer)
    event["body"] = base64.b64encode(body).decode()
    event["isBase64Encoded"] = True
    return event
