"""Idempotency-Key: the same key and content within 24 h answers the first response, charged once."""

from __future__ import annotations

import base64
import json
from typing import Any

from ferry.services import quota_service
from tests.conftest import AUTHENTICATED, http_event, multipart_event
from tests.integration.test_uploads import PNG, call, stored_objects

BOB = {**AUTHENTICATED, "user_id": "bob", "key_id": "key_bob"}


def multipart(key: str | None, content: bytes = PNG, authorizer: dict[str, str] = AUTHENTICATED) -> Any:
    event = multipart_event(
        "/v1/files/uploads",
        fields={"purpose": "model_input"},
        file=("a.png", content, "image/png"),
        authorizer=authorizer,
    )
    if key:
        event["headers"]["idempotency-key"] = key
    return call("upload_file", event)


def test_replay_returns_the_first_response_and_charges_once(aws: dict[str, str]) -> None:
    first = multipart("8f14e45f-ceea-467a-9a3c-1c1e2b5a0001")
    again = multipart("8f14e45f-ceea-467a-9a3c-1c1e2b5a0001")  # a new multipart boundary, same content
    assert first[0] == again[0] == 201
    assert first[1] == again[1]
    assert quota_service().usage("alice").used_bytes == len(PNG)
    assert len(stored_objects(aws["FERRY_BUCKET_NAME"])) == 1


def test_without_a_key_every_request_is_new(aws: dict[str, str]) -> None:
    assert multipart(None)[1]["id"] != multipart(None)[1]["id"]
    assert quota_service().usage("alice").used_bytes == 2 * len(PNG)


def test_reusing_a_key_for_different_content_is_409(aws: dict[str, str]) -> None:
    assert multipart("k-1")[0] == 201
    status, body, _ = multipart("k-1", content=PNG + b"\x00")
    assert status == 409 and body["error"]["code"] == "idempotency_key_reused"
    assert quota_service().usage("alice").used_bytes == len(PNG)


def test_keys_belong_to_their_user(aws: dict[str, str]) -> None:
    alice, bob = multipart("shared-key"), multipart("shared-key", authorizer=BOB)
    assert alice[0] == bob[0] == 201 and alice[1]["id"] != bob[1]["id"]


def test_base64_route_honours_the_key(aws: dict[str, str]) -> None:
    body = json.dumps({"data": base64.b64encode(PNG).decode(), "filename": "a.png"})
    responses = []
    for _ in range(2):
        event = http_event("POST", "/v1/files/uploads/base64", body=body, authorizer=AUTHENTICATED)
        event["headers"]["Idempotency-Key"] = "b64-key"
        responses.append(call("upload_base64", event))
    assert responses[0][1] == responses[1][1] and responses[0][0] == 201
    assert quota_service().usage("alice").used_bytes == len(PNG)


def test_malformed_key_is_400(aws: dict[str, str]) -> None:
    status, body, _ = multipart("has space")
    assert status == 400 and "Idempotency-Key" in body["error"]["message"]


def test_failed_upload_is_not_remembered(aws: dict[str, str]) -> None:
    status, _, _ = multipart("retry-me", content=PNG[:40])
    assert status == 422
    status, body, _ = multipart("retry-me")  # the corrected retry runs: failures are not replayed
    assert status == 201 and body["size"] == len(PNG)
