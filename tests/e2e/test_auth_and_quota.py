"""Health, authentication and the quota route over real HTTP (DESIGN §2, §4).

API Gateway caches an authorizer answer per Authorization header value for the template's
AuthorizerCacheSeconds, so every case that needs a particular answer uses a key of its own.
"""

from __future__ import annotations

import http.client
import json
import re
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from ferry.clock import parse_rfc3339
from tests.e2e.harness import E2EStack

pytestmark = pytest.mark.e2e

RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DEFAULT_LIMIT = 209_715_200


def random_key() -> str:
    """Well-formed (fy_ + 43 url-safe characters) and never issued."""
    return "fy_" + secrets.token_urlsafe(32)


def assert_envelope(response: requests.Response, status: int, type_: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert {"code", "message", "type"} <= set(error)
    assert re.fullmatch(r"[a-z][a-z0-9_]*", error["code"])
    assert isinstance(error["message"], str) and error["message"]
    assert error["type"] == type_
    return dict(error)


def test_health_is_public(stack: E2EStack) -> None:
    response = stack.get("/v1/health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert isinstance(body["version"], str) and body["version"]
    assert isinstance(body["stage"], str) and body["stage"]
    if stack.stage:
        assert body["stage"] == stack.stage
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_quota_of_a_fresh_key(stack: E2EStack) -> None:
    key = stack.create_key()[0] if stack.can_admin else stack.api_key
    before = time.time()
    response = stack.get("/v1/quota", key=key)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"limit_bytes", "used_bytes", "remaining_bytes", "window_seconds", "resets_at"}
    assert body["window_seconds"] == 86_400
    assert body["remaining_bytes"] == body["limit_bytes"] - body["used_bytes"]
    assert RFC3339_Z.match(body["resets_at"]), body["resets_at"]
    assert parse_rfc3339(body["resets_at"]) >= before - 1
    if stack.can_admin:  # a new user with no override: nothing used, the default limit
        assert body["limit_bytes"] == DEFAULT_LIMIT
        assert body["used_bytes"] == 0
        assert body["remaining_bytes"] == DEFAULT_LIMIT


def test_quota_override_of_a_key(stack: E2EStack) -> None:
    key, _, _ = stack.create_key(quota_mb=1)
    response = stack.get("/v1/quota", key=key)
    assert response.status_code == 200, response.text
    assert response.json()["limit_bytes"] == 1_048_576
    assert response.json()["remaining_bytes"] == 1_048_576


def test_bearer_scheme_is_case_insensitive(stack: E2EStack) -> None:
    key, _, _ = stack.create_key()
    response = stack.get("/v1/quota", headers={"Authorization": f"bearer {key}"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Bearer not-a-ferry-key", id="garbled"),
        pytest.param("Bearer fy_short", id="truncated"),
        pytest.param("Basic dXNlcjpwYXNz", id="other-scheme"),
        pytest.param("Bearer", id="scheme-only"),
    ],
)
def test_malformed_authorization_is_401(stack: E2EStack, authorization: str) -> None:
    assert_envelope(stack.get("/v1/quota", headers={"Authorization": authorization}), 401, "authentication_error")


def test_unknown_key_is_401(stack: E2EStack) -> None:
    error = assert_envelope(stack.get("/v1/quota", key=random_key()), 401, "authentication_error")
    assert "not valid" in error["message"]


def test_comma_joined_authorization_is_401(stack: E2EStack) -> None:
    # What API Gateway makes of two Authorization headers: one value, joined with a comma.
    header = f"Bearer {random_key()},Bearer {random_key()}"
    assert_envelope(stack.get("/v1/quota", headers={"Authorization": header}), 401, "authentication_error")


def test_comma_joined_with_a_valid_key_is_401(stack: E2EStack) -> None:
    key, _, _ = stack.create_key()
    header = f"Bearer {key},Bearer {random_key()}"
    assert_envelope(stack.get("/v1/quota", headers={"Authorization": header}), 401, "authentication_error")


def test_revoked_key_is_401(stack: E2EStack) -> None:
    key, user, key_id = stack.create_key()
    stack.revoke(user, key_id)  # before its first use: no cached "yes" for this header
    error = assert_envelope(stack.get("/v1/quota", key=key), 401, "authentication_error")
    assert "revoked" in error["message"]


def test_expired_key_is_401(stack: E2EStack) -> None:
    key, _, _ = stack.create_key(expires="2020-01-01T00:00:00Z")
    error = assert_envelope(stack.get("/v1/quota", key=key), 401, "authentication_error")
    assert "expired" in error["message"]


def test_key_in_query_string_is_ignored(stack: E2EStack) -> None:
    key, _, _ = stack.create_key()
    response = stack.http.get(f"{stack.base_url}/v1/quota", params={"api_key": key, "key": key}, timeout=30)
    assert response.status_code == 401, response.text


def test_missing_authorization_is_401(stack: E2EStack) -> None:
    # The authorizer's identity source is the Authorization header: without it API Gateway answers
    # 401 {"message": "Unauthorized"} itself, before any of our code runs (AWS and MiniStack alike,
    # as long as the authorizer cache is on). If our authorizer does run, the answer is our envelope.
    response = stack.get("/v1/quota")
    assert response.status_code == 401, response.text
    body = response.json()
    if "error" in body:
        assert_envelope(response, 401, "authentication_error")
    else:
        assert body == {"message": "Unauthorized"}


def test_unknown_route_is_404(stack: E2EStack) -> None:
    error = assert_envelope(stack.get(f"/v1/no-such-route-{secrets.token_hex(3)}"), 404, "not_found_error")
    assert error["code"] == "route_not_found"


def test_unknown_route_with_a_key_is_404(stack: E2EStack) -> None:
    assert_envelope(stack.get("/nothing/here", key=random_key()), 404, "not_found_error")


def test_two_authorization_headers_are_401(stack: E2EStack) -> None:
    # Two header lines on the wire, one of them valid: API Gateway hands the authorizer one
    # comma-joined value, which Ferry refuses rather than guessing which key was meant.
    key, _, _ = stack.create_key()
    url = urlsplit(f"{stack.base_url}/v1/quota")
    connection_class = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(url.netloc, timeout=30)
    try:
        connection.putrequest("GET", url.path)
        connection.putheader("Authorization", f"Bearer {key}")
        connection.putheader("Authorization", f"Bearer {random_key()}")
        connection.endheaders()
        response = connection.getresponse()
        status, body = response.status, json.loads(response.read())
    finally:
        connection.close()
    assert status == 401, body
    assert body["error"]["type"] == "authentication_error"
