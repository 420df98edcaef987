"""Uploads by multipart and base64 through their handlers, with moto's S3 and DynamoDB."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import boto3
import pytest

from ferry.clock import parse_rfc3339
from ferry.files import INLINE_CAP_BYTES
from ferry.services import file_service, quota_service
from tests import media_samples as samples
from tests.conftest import AUTHENTICATED, LambdaContext, http_event, load_function, multipart_event

PNG = samples.image("PNG", (64, 48))


def call(function: str, event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    response = load_function(function).lambda_handler(event, LambdaContext())
    body = json.loads(response["body"]) if response.get("body") else {}
    return response["statusCode"], body, response.get("headers", {})


def upload(content: bytes, filename: str = "reference.png", mime: str = "image/png", **fields: str) -> Any:
    event = multipart_event(
        "/v1/files/uploads",
        fields={"purpose": "model_input", **fields},
        file=(filename, content, mime),
        authorizer=AUTHENTICATED,
    )
    return call("upload_file", event)


def upload_b64(data: str, **fields: Any) -> Any:
    body = json.dumps({"data": data, "filename": "reference.png", "purpose": "model_input", **fields})
    return call("upload_base64", http_event("POST", "/v1/files/uploads/base64", body=body, authorizer=AUTHENTICATED))


def stored_objects(bucket: str) -> list[str]:
    return [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]


def used() -> int:
    return quota_service().usage("alice").used_bytes


def assert_file_object(body: dict[str, Any], content: bytes, mime: str) -> None:
    assert re.fullmatch(r"file_[0-9a-f]{32}", body["id"])
    assert body["mime_type"] == mime and body["size"] == len(content)
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["status"] == "confirmed" and body["purpose"] == "model_input"
    assert parse_rfc3339(body["expires_at"]) - parse_rfc3339(body["created_at"]) == 72 * 3600
    assert body["expires_at"].endswith("Z") and body["created_at"].endswith("Z")


def test_multipart_upload_stores_the_bytes_and_charges_quota(aws: dict[str, str]) -> None:
    status, body, _ = upload(PNG)
    assert status == 201, body
    assert_file_object(body, PNG, "image/png")
    assert (body["width"], body["height"], body["filename"], body["media_type"]) == (64, 48, "reference.png", "image")
    assert body["url"] == f"https://api.ferry.example/f/{body['id']}.png"
    [key] = stored_objects(aws["FERRY_BUCKET_NAME"])
    assert key.startswith("ttl-3d/") and key.endswith(f"{body['id']}.png")
    stored = boto3.client("s3").get_object(Bucket=aws["FERRY_BUCKET_NAME"], Key=key)
    assert stored["Body"].read() == PNG and stored["ContentType"] == "image/png"
    assert used() == len(PNG)


@pytest.mark.parametrize(
    "encode",
    [
        lambda b: "data:image/png;base64," + base64.b64encode(b).decode(),
        lambda b: base64.b64encode(b).decode(),
        lambda b: base64.urlsafe_b64encode(b).decode().rstrip("="),
    ],
)
def test_base64_upload_in_every_accepted_form(aws: dict[str, str], encode: Any) -> None:
    status, body, _ = upload_b64(encode(PNG))
    assert status == 201, body
    assert_file_object(body, PNG, "image/png")
    assert used() == len(PNG)


def test_declared_type_is_only_a_hint(aws: dict[str, str]) -> None:
    jpeg = samples.image("JPEG")
    status, body, _ = upload(jpeg, filename="looks.png", mime="image/png")
    assert status == 201 and body["mime_type"] == "image/jpeg" and body["url"].endswith(".jpg")
    status, body, _ = upload_b64("data:image/png;base64," + base64.b64encode(jpeg).decode())
    assert status == 201 and body["mime_type"] == "image/jpeg"


@pytest.mark.parametrize(
    ("content", "fields", "status", "code"),
    [
        (samples.HTML, {}, 415, "unsupported_file_type"),
        (samples.SVG, {}, 415, "unsupported_file_type"),
        (samples.MP4, {}, 415, "unsupported_file_type"),
        (PNG[: len(PNG) // 2], {}, 422, "corrupt_file"),
        (samples.png_bomb(), {}, 422, "image_too_many_pixels"),
        (PNG, {"ttl_hours": "0"}, 400, "invalid_request"),
        (PNG, {"ttl_hours": "169"}, 400, "invalid_request"),
        (PNG, {"media_type": "document"}, 400, "invalid_request"),
        (b"", {}, 400, "empty_file"),
    ],
    ids=["html", "svg", "mp4-as-image", "truncated", "bomb", "ttl-0", "ttl-169", "bad-media-type", "empty"],
)
def test_bad_uploads_store_nothing_and_charge_nothing(
    aws: dict[str, str], content: bytes, fields: dict[str, str], status: int, code: str
) -> None:
    got_status, body, _ = upload(content, **fields)
    assert (got_status, body["error"]["code"]) == (status, code), body
    assert stored_objects(aws["FERRY_BUCKET_NAME"]) == []
    assert used() == 0


def test_missing_file_part_is_400(aws: dict[str, str]) -> None:
    event = multipart_event("/v1/files/uploads", fields={"purpose": "x"}, file=None, authorizer=AUTHENTICATED)
    status, body, _ = call("upload_file", event)
    assert status == 400 and "'file'" in body["error"]["message"]


def test_video_and_file_media_types(aws: dict[str, str]) -> None:
    status, body, _ = upload(samples.MP4, filename="clip.mp4", mime="video/mp4", media_type="video")
    assert status == 201 and body["mime_type"] == "video/mp4" and "width" not in body
    status, body, _ = upload(samples.HTML, filename="page.html", mime="text/html", media_type="file")
    assert status == 201 and body["mime_type"] == "application/octet-stream" and body["url"].endswith(".bin")


@pytest.mark.parametrize(
    ("ttl", "prefix"), [("1", "ttl-1d/"), ("24", "ttl-1d/"), ("25", "ttl-2d/"), ("168", "ttl-7d/")]
)
def test_ttl_selects_the_lifecycle_prefix(aws: dict[str, str], ttl: str, prefix: str) -> None:
    status, body, _ = upload(PNG, ttl_hours=ttl)
    assert status == 201
    assert parse_rfc3339(body["expires_at"]) - parse_rfc3339(body["created_at"]) == int(ttl) * 3600
    assert stored_objects(aws["FERRY_BUCKET_NAME"])[0].startswith(prefix)


def test_inline_cap_names_the_presign_route(aws: dict[str, str]) -> None:
    big = PNG + b"\x00" * (INLINE_CAP_BYTES + 1 - len(PNG))
    status, body, _ = upload_b64(base64.b64encode(big).decode())
    assert status == 413 and "/v1/files/uploads/presign" in body["error"]["message"]
    status, body, _ = upload(big)
    assert status == 413 and "/v1/files/uploads/presign" in body["error"]["message"]
    assert used() == 0 and stored_objects(aws["FERRY_BUCKET_NAME"]) == []


def test_quota_exhaustion_is_429_with_retry_after(aws: dict[str, str]) -> None:
    quota_service().reserve("alice", 209_715_200 - len(PNG) + 1)
    status, body, headers = upload(PNG)
    assert status == 429 and int(headers["Retry-After"]) > 0
    assert body["error"]["type"] == "rate_limit_error"
    assert stored_objects(aws["FERRY_BUCKET_NAME"]) == []


def test_storage_failure_refunds_the_reservation(aws: dict[str, str]) -> None:
    boto3.client("s3").delete_bucket(Bucket=aws["FERRY_BUCKET_NAME"])
    status, body, _ = upload(PNG)
    assert status == 500 and "request_id" in body["error"]
    assert used() == 0


def test_record_failure_removes_the_object_and_refunds(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: Any, **__: Any) -> None:
        raise RuntimeError("table unavailable")

    monkeypatch.setattr(file_service().repository, "put", fail)
    status, _, _ = upload(PNG)
    assert status == 500
    assert stored_objects(aws["FERRY_BUCKET_NAME"]) == [] and used() == 0
