"""Presigned uploads: issue → POST straight to S3 (moto) → finalize (the SQS-fed function) → confirmed
or rejected; abandoned windows released by the sweeper. Quota follows every step."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
import requests

from ferry.services import file_service, quota_service
from tests import media_samples as samples
from tests.conftest import AUTHENTICATED, FrozenClock, LambdaContext, http_event, load_function
from tests.integration.test_uploads import PNG, call, stored_objects


def presign(**fields: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    body = {"filename": "big.png", "mime_type": "image/png", "size": 100_000, "media_type": "image", **fields}
    return call(
        "presign", http_event("POST", "/v1/files/uploads/presign", body=json.dumps(body), authorizer=AUTHENTICATED)
    )


def post_to_s3(upload: dict[str, Any], content: bytes, content_type: str | None = None) -> requests.Response:
    fields = dict(upload["fields"])
    if content_type:
        fields["Content-Type"] = content_type
    return requests.post(upload["url"], data=fields, files={"file": ("x", content)}, timeout=10)


def sqs_event(*keys: str) -> dict[str, Any]:
    notification = {
        "Records": [
            {"eventName": "ObjectCreated:Post", "s3": {"bucket": {"name": "b"}, "object": {"key": k, "size": 1}}}
            for k in keys
        ]
    }
    return {"Records": [{"messageId": "m1", "body": json.dumps(notification), "eventSource": "aws:sqs"}]}


def finalize(key: str) -> dict[str, Any]:
    return load_function("finalize").lambda_handler(sqs_event(key), LambdaContext())


def key_of(file_id: str) -> str:
    record = file_service().repository.get(file_id)
    assert record is not None
    return record.key


def used() -> int:
    return quota_service().usage("alice").used_bytes


def test_presign_reserves_the_declared_size_and_returns_a_post_policy(aws: dict[str, str]) -> None:
    status, body, _ = presign()
    assert status == 201, body
    assert body["status"] == "pending" and body["id"].startswith("file_")
    upload = body["upload"]
    assert upload["method"] == "POST" and upload["expires_at"].endswith("Z")
    assert upload["fields"]["Content-Type"] == "image/png"
    assert upload["fields"]["key"] == key_of(body["id"])
    assert upload["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    policy = json.loads(__import__("base64").b64decode(upload["fields"]["policy"]))
    assert ["content-length-range", 1, 100_000] in policy["conditions"]
    assert used() == 100_000
    status, file, _ = call("files", http_event("GET", f"/v1/files/{body['id']}", authorizer=AUTHENTICATED))
    assert status == 200 and file["status"] == "pending"
    name = body["url"].rsplit("/", 1)[1]
    assert call("delivery", http_event("GET", f"/f/{name}"))[0] == 404  # only confirmed files are served


def test_good_upload_is_confirmed_and_settled_to_its_real_size(aws: dict[str, str]) -> None:
    _, body, _ = presign()
    assert post_to_s3(body["upload"], PNG).status_code in (200, 204)
    assert finalize(key_of(body["id"])) == {"batchItemFailures": []}
    _, file, _ = call("files", http_event("GET", f"/v1/files/{body['id']}", authorizer=AUTHENTICATED))
    assert (file["status"], file["size"], file["width"], file["height"]) == ("confirmed", len(PNG), 64, 48)
    assert used() == len(PNG)
    assert call("delivery", http_event("GET", "/f/" + body["url"].rsplit("/", 1)[1]))[0] == 302
    assert finalize(key_of(body["id"])) == {"batchItemFailures": []}  # redelivered: nothing changes
    assert used() == len(PNG)


@pytest.mark.parametrize(
    ("content", "reason"),
    [(samples.HTML, "text/html"), (samples.image("JPEG"), "image/jpeg"), (PNG[:100], "corrupt")],
    ids=["html-declared-png", "jpeg-declared-png", "truncated"],
)
def test_mismatched_upload_is_rejected_deleted_and_refunded(aws: dict[str, str], content: bytes, reason: str) -> None:
    _, body, _ = presign()
    post_to_s3(body["upload"], content)
    finalize(key_of(body["id"]))
    _, file, _ = call("files", http_event("GET", f"/v1/files/{body['id']}", authorizer=AUTHENTICATED))
    assert file["status"] == "rejected" and reason in file["reason"]
    assert stored_objects(aws["FERRY_BUCKET_NAME"]) == []
    assert used() == 0


def test_abandoned_presign_is_released_by_the_sweeper(aws: dict[str, str]) -> None:
    clock = FrozenClock(start=__import__("time").time())
    file_service().clock = clock
    _, body, _ = presign()
    assert used() == 100_000
    assert load_function("sweeper").lambda_handler({}, LambdaContext()) == {}  # window still open
    clock.advance(600 + 300 + 1)  # window + grace
    assert load_function("sweeper").lambda_handler({}, LambdaContext()) == {"abandoned": 1}
    assert used() == 0
    _, file, _ = call("files", http_event("GET", f"/v1/files/{body['id']}", authorizer=AUTHENTICATED))
    assert file["status"] == "rejected" and "window closed" in file["reason"]
    assert load_function("sweeper").lambda_handler({}, LambdaContext()) == {}  # nothing left to sweep


def test_sweeper_finalizes_an_upload_whose_event_was_lost(aws: dict[str, str]) -> None:
    clock = FrozenClock(start=__import__("time").time())
    file_service().clock = clock
    _, body, _ = presign()
    post_to_s3(body["upload"], PNG)
    clock.advance(901)
    assert load_function("sweeper").lambda_handler({}, LambdaContext()) == {"confirmed": 1}
    assert used() == len(PNG)


def test_late_object_after_abandonment_is_deleted(aws: dict[str, str]) -> None:
    clock = FrozenClock(start=__import__("time").time())
    file_service().clock = clock
    _, body, _ = presign()
    clock.advance(901)
    load_function("sweeper").lambda_handler({}, LambdaContext())
    key = key_of(body["id"])
    boto3.client("s3").put_object(Bucket=aws["FERRY_BUCKET_NAME"], Key=key, Body=PNG)
    finalize(key)
    assert stored_objects(aws["FERRY_BUCKET_NAME"]) == [] and used() == 0


def test_object_bigger_than_declared_is_rejected(aws: dict[str, str]) -> None:
    _, body, _ = presign(size=100)
    boto3.client("s3").put_object(Bucket=aws["FERRY_BUCKET_NAME"], Key=key_of(body["id"]), Body=PNG)
    finalize(key_of(body["id"]))
    _, file, _ = call("files", http_event("GET", f"/v1/files/{body['id']}", authorizer=AUTHENTICATED))
    assert file["status"] == "rejected" and used() == 0


def test_objects_without_a_presign_record_are_left_alone(aws: dict[str, str]) -> None:
    # An inline upload's object is notified too, possibly before its record is written.
    key = "ttl-3d/1900000000/file_0123456789abcdef0123456789abcdef.png"
    boto3.client("s3").put_object(Bucket=aws["FERRY_BUCKET_NAME"], Key=key, Body=PNG)
    finalize(key)
    assert stored_objects(aws["FERRY_BUCKET_NAME"]) == [key]


def test_inline_uploads_are_untouched_by_finalize(aws: dict[str, str]) -> None:
    from tests.integration.test_uploads import upload

    _, created, _ = upload(PNG)
    finalize(key_of(created["id"]))
    _, file, _ = call("files", http_event("GET", f"/v1/files/{created['id']}", authorizer=AUTHENTICATED))
    assert file == created and len(stored_objects(aws["FERRY_BUCKET_NAME"])) == 1


def test_a_bad_message_fails_alone(aws: dict[str, str]) -> None:
    _, body, _ = presign()
    post_to_s3(body["upload"], PNG)
    good = sqs_event(key_of(body["id"]))["Records"][0]
    bad = {"messageId": "broken", "body": "{not json", "eventSource": "aws:sqs"}
    test_event = {"messageId": "t", "body": json.dumps({"Event": "s3:TestEvent"}), "eventSource": "aws:sqs"}
    result = load_function("finalize").lambda_handler({"Records": [good, bad, test_event]}, LambdaContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": "broken"}]}
    assert used() == len(PNG)


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"mime_type": "text/html"}, 415),
        ({"mime_type": "video/mp4"}, 415),
        ({"size": 20 * 1024 * 1024 + 1}, 413),
        ({"size": 0}, 400),
        ({"media_type": "video", "mime_type": "video/mp4", "size": 100 * 1024 * 1024}, 201),
    ],
)
def test_presign_validation(aws: dict[str, str], fields: dict[str, Any], status: int) -> None:
    assert presign(**fields)[0] == status


def test_file_media_type_is_pinned_to_octet_stream(aws: dict[str, str]) -> None:
    _, body, _ = presign(media_type="file", mime_type="text/html", filename="page.html")
    assert body["upload"]["fields"]["Content-Type"] == "application/octet-stream"
