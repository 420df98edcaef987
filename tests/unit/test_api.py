"""The shared HTTP edge: authentication for every non-public route, and the error envelope."""

import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

from ferry import errors
from ferry.api import build_resolver, current_principal
from tests.conftest import AUTHENTICATED, LambdaContext, http_event

router = APIGatewayHttpRouter()


class Echo(BaseModel):
    name: str
    size: int


@router.post("/v1/echo")
def echo(body: Echo) -> dict[str, Any]:
    principal = current_principal(router)
    return {"user": principal.user_id, "quota": principal.quota_bytes, **body.model_dump()}


RAISED: dict[str, Exception] = {}


@router.get("/v1/raise")
def raise_it() -> None:
    raise RAISED["exc"]


public_router = APIGatewayHttpRouter()


@public_router.get("/v1/health")
def public() -> dict[str, str]:
    return {"status": "ok"}


def caller(app: Any) -> Any:
    def _call(event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        response = app.resolve(event, LambdaContext())
        return response["statusCode"], json.loads(response["body"]), response["headers"]

    return _call


@pytest.fixture
def call(ferry_env: dict[str, str]) -> Any:
    return caller(build_resolver(router, max_body_bytes=1000))


def assert_envelope(body: dict[str, Any], code: str, type_: str) -> None:
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["type"] == type_
    assert isinstance(body["error"]["message"], str) and body["error"]["message"].endswith(".")


def test_authenticated_caller_reaches_the_route(call: Any) -> None:
    status, body, headers = call(
        http_event("POST", "/v1/echo", body='{"name": "a.png", "size": 3}', authorizer=AUTHENTICATED)
    )
    assert status == 200
    assert body == {"user": "alice", "quota": None, "name": "a.png", "size": 3}
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_quota_override_travels_from_the_authorizer(call: Any) -> None:
    ctx = {**AUTHENTICATED, "quota_bytes": "1048576"}
    status, body, _ = call(http_event("POST", "/v1/echo", body='{"name": "a", "size": 1}', authorizer=ctx))
    assert status == 200 and body["quota"] == 1048576


@pytest.mark.parametrize(
    ("authorizer", "expected_phrase"),
    [
        (None, "Authorization: Bearer"),  # route reached without the authorizer: deny by default
        ({"authenticated": "false", "reason": "revoked"}, "revoked"),
        ({"authenticated": "false", "reason": "expired"}, "expired"),
        ({"authenticated": "false", "reason": "malformed"}, "Bearer <key>"),
        ({"authenticated": "false", "reason": "duplicated"}, "exactly one"),
        ({"authenticated": "false", "reason": "something-new"}, "not valid"),
        ({"authenticated": "true"}, "Authorization: Bearer"),  # no user id
    ],
)
def test_unauthenticated_calls_get_401_in_the_envelope(
    call: Any, authorizer: dict[str, str] | None, expected_phrase: str
) -> None:
    status, body, _ = call(http_event("POST", "/v1/echo", body='{"name": "a", "size": 1}', authorizer=authorizer))
    assert status == 401
    assert_envelope(body, "invalid_api_key", "authentication_error")
    assert expected_phrase in body["error"]["message"]


def test_public_function_needs_no_key(ferry_env: dict[str, str]) -> None:
    call = caller(build_resolver(public_router, public=True))
    status, body, _ = call(http_event("GET", "/v1/health"))
    assert (status, body) == (200, {"status": "ok"})
    status, body, _ = call(http_event("GET", "/v1/elsewhere"))
    assert status == 404 and body["error"]["code"] == "route_not_found"


def test_authentication_comes_before_the_body_is_read(call: Any) -> None:
    rejected = {"authenticated": "false", "reason": "revoked"}
    status, body, headers = call(http_event("POST", "/v1/echo", body="{not json", authorizer=rejected))
    assert status == 401 and body["error"]["code"] == "invalid_api_key"
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, _, _ = call(http_event("POST", "/v1/echo", body="x" * 5000, authorizer=rejected))
    assert status == 401


def test_oversized_bodies_are_413_before_parsing(call: Any) -> None:
    status, body, _ = call(http_event("POST", "/v1/echo", body="x" * 1001, authorizer=AUTHENTICATED))
    assert status == 413 and "presign" in body["error"]["message"]
    assert body["error"]["type"] == "invalid_request_error"


def test_malformed_json_is_a_400_naming_the_problem(call: Any) -> None:
    status, body, _ = call(http_event("POST", "/v1/echo", body='{"name": "a",', authorizer=AUTHENTICATED))
    assert status == 400
    assert_envelope(body, "invalid_request", "invalid_request_error")
    assert "not valid JSON" in body["error"]["message"]


def test_wrong_field_type_is_a_400_naming_the_field(call: Any) -> None:
    status, body, _ = call(
        http_event("POST", "/v1/echo", body='{"name": "a", "size": "big"}', authorizer=AUTHENTICATED)
    )
    assert status == 400
    assert_envelope(body, "invalid_request", "invalid_request_error")
    assert "'size'" in body["error"]["message"]


def test_unknown_route_is_a_404_envelope(call: Any) -> None:
    status, body, _ = call(http_event("GET", "/v1/nope", authorizer=AUTHENTICATED))
    assert status == 404
    assert_envelope(body, "route_not_found", "not_found_error")
    assert "/v1/nope" in body["error"]["message"]


@pytest.mark.parametrize(
    ("exc", "status", "type_"),
    [
        (errors.InvalidRequest("Bad."), 400, "invalid_request_error"),
        (errors.PermissionDenied("No."), 403, "permission_error"),
        (errors.NotFound("Gone."), 404, "not_found_error"),
        (errors.Conflict("Busy."), 409, "invalid_request_error"),
        (errors.Gone("Expired."), 410, "invalid_request_error"),
        (errors.PayloadTooLarge("Big."), 413, "invalid_request_error"),
        (errors.UnsupportedMediaType("Type."), 415, "invalid_request_error"),
        (errors.UnprocessableContent("Corrupt."), 422, "invalid_request_error"),
        (errors.UpstreamFailed("Upstream."), 502, "upstream_error"),
        (errors.UpstreamTimeout("Slow."), 504, "upstream_error"),
    ],
)
def test_domain_errors_map_to_their_status_and_type(call: Any, exc: errors.FerryError, status: int, type_: str) -> None:
    RAISED["exc"] = exc
    got_status, body, _ = call(http_event("GET", "/v1/raise", authorizer=AUTHENTICATED))
    assert got_status == status
    assert_envelope(body, exc.code, type_)
    assert ("request_id" in body["error"]) == (status >= 500)


def test_quota_exceeded_carries_retry_after(call: Any) -> None:
    RAISED["exc"] = errors.QuotaExceeded("Wait.", retry_after_seconds=120)
    status, body, headers = call(http_event("GET", "/v1/raise", authorizer=AUTHENTICATED))
    assert status == 429 and headers["Retry-After"] == "120"
    assert_envelope(body, "quota_exceeded", "rate_limit_error")


def test_unexpected_errors_hide_internals_and_carry_a_request_id(call: Any) -> None:
    RAISED["exc"] = KeyError("internal_table_name_secret")
    status, body, _ = call(http_event("GET", "/v1/raise", authorizer=AUTHENTICATED))
    assert status == 500
    assert_envelope(body, "internal_error", "api_error")
    assert body["error"]["request_id"] == LambdaContext.aws_request_id
    assert "internal_table_name_secret" not in json.dumps(body) and "Traceback" not in json.dumps(body)
