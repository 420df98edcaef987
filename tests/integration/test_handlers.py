"""Each Lambda handler in-process, as API Gateway invokes it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ferry.quota import QuotaService
from ferry.services import quota_service
from tests.conftest import AUTHENTICATED, LambdaContext, http_event, load_function


def invoke(function: str, event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    response = load_function(function).lambda_handler(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"]), response.get("headers", {})


def test_health_reports_stage_and_version(aws: dict[str, str]) -> None:
    status, body, _ = invoke("health", http_event("GET", "/v1/health"))
    assert (status, body) == (200, {"status": "ok", "stage": "test", "version": "0.1.0"})


def test_health_function_answers_unknown_routes_with_a_404_envelope(aws: dict[str, str]) -> None:
    status, body, _ = invoke("health", http_event("DELETE", "/v2/whatever"))
    assert status == 404 and body["error"]["type"] == "not_found_error"


def test_quota_reports_the_callers_window(aws: dict[str, str]) -> None:
    service: QuotaService = quota_service()
    service.reserve("alice", 5_000_000)
    status, body, _ = invoke("quota", http_event("GET", "/v1/quota", authorizer=AUTHENTICATED))
    assert status == 200
    assert body["limit_bytes"] == 209_715_200
    assert body["used_bytes"] == 5_000_000
    assert body["remaining_bytes"] == 209_715_200 - 5_000_000
    assert body["window_seconds"] == 86_400
    assert body["resets_at"].endswith("Z")


def test_quota_honours_the_keys_override(aws: dict[str, str]) -> None:
    ctx = {**AUTHENTICATED, "quota_bytes": "1048576"}
    status, body, _ = invoke("quota", http_event("GET", "/v1/quota", authorizer=ctx))
    assert (status, body["limit_bytes"], body["remaining_bytes"]) == (200, 1_048_576, 1_048_576)


@pytest.mark.parametrize("reason", ["revoked", "expired", "unknown", "malformed", "duplicated"])
def test_quota_refuses_rejected_keys_with_401(aws: dict[str, str], reason: str) -> None:
    status, body, _ = invoke(
        "quota", http_event("GET", "/v1/quota", authorizer={"authenticated": "false", "reason": reason})
    )
    assert status == 401 and body["error"]["code"] == "invalid_api_key"


def test_missing_configuration_fails_with_the_variable_named(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ferry import services

    monkeypatch.delenv("FERRY_TABLE_NAME")
    services.reset()
    status, body, _ = invoke("quota", http_event("GET", "/v1/quota", authorizer=AUTHENTICATED))
    assert status == 500 and body["error"]["type"] == "api_error"  # the client sees no internals


def test_handlers_never_log_the_event(
    aws: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    event = http_event("GET", "/v1/quota", authorizer=AUTHENTICATED, headers={"x-secret-marker": "s3cr3t-body"})
    invoke("quota", event)
    assert "s3cr3t-body" not in capsys.readouterr().out


def test_openapi_document_is_served_without_a_key(aws: dict[str, str]) -> None:
    status, body, _headers = invoke("health", http_event("GET", "/v1/openapi.json"))
    assert status == 200 and body["info"]["title"] == "Ferry"
    assert "/v1/quota" in body["paths"]
