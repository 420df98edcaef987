"""Every sample event in events/ drives its function to the documented result."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ferry.clock import rfc3339
from ferry.data.keys import KeyRecord, KeyRepository
from ferry.keys import digest_of
from tests.conftest import EVENTS, SAMPLE_KEY, LambdaContext, load_event, load_function

AUTHORIZED_SAMPLE = {"authenticated": "true", "user_id": "sample-user"}
EXPECTED: dict[str, dict[str, Any]] = {
    "authorizer/valid_key.json": {"context": AUTHORIZED_SAMPLE},
    "authorizer/lowercase_scheme.json": {"context": AUTHORIZED_SAMPLE},
    "authorizer/garbled_key.json": {"context": {"authenticated": "false", "reason": "malformed"}},
    "authorizer/duplicated_header.json": {"context": {"authenticated": "false", "reason": "duplicated"}},
    "authorizer/unknown_key.json": {"context": {"authenticated": "false", "reason": "unknown"}},
    "event_publisher/file_confirmed.json": {"batchItemFailures": []},
    "event_publisher/file_expired_by_ttl.json": {"batchItemFailures": []},
    "health/get_health.json": {"status": 200, "body": {"status": "ok"}},
    "health/unknown_route.json": {"status": 404, "body": {"error": {"type": "not_found_error"}}},
    "quota/get_quota.json": {"status": 200, "body": {"used_bytes": 0, "limit_bytes": 209_715_200}},
    "quota/rejected_key.json": {"status": 401, "body": {"error": {"type": "authentication_error"}}},
    "upload_file/kie_stream_upload.json": {
        "status": 200,
        "body": {"success": True, "code": 200, "data": {"filePath": "images/user-uploads/uploaded-image.png"}},
    },
    "upload_file/chenyu_rejected_key.json": {"status": 401, "body": {"code": 401, "data": None}},
    "video_callback/task_gone.json": {"delivered": False},
    "video_create/unknown_model.json": {"status": 400, "body": {"error": {"code": "model_not_found"}}},
    "video_finish/task_gone.json": {"id": "video_0123456789abcdef0123456789abcdef"},
    "video_guard/execution_aborted.json": {"changed": False},
    "video_provider/poll_after_deadline.json": {"outcome": "failed", "code": "deadline_exceeded"},
    "video_query/unknown_task.json": {"status": 404, "body": {"error": {"code": "task_not_found"}}},
}


def test_every_event_file_has_an_expectation() -> None:
    on_disk = {str(p.relative_to(EVENTS)) for p in EVENTS.rglob("*.json")}
    assert on_disk == set(EXPECTED)


def contains(actual: Any, expected: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and contains(actual[k], v) for k, v in expected.items())
    return bool(actual == expected)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_event_drives_its_function(aws: dict[str, str], name: str) -> None:
    KeyRepository(aws["FERRY_TABLE_NAME"]).put(
        KeyRecord(digest_of(SAMPLE_KEY), "key_sample", "sample-user", "active", rfc3339(0))
    )
    result = load_function(name.split("/")[0]).lambda_handler(load_event(name), LambdaContext())
    expected = EXPECTED[name]
    is_http = "status" in expected
    actual = {"status": result["statusCode"], "body": json.loads(result["body"])} if is_http else result
    assert contains(actual, expected), actual
