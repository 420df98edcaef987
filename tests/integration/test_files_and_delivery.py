"""The files API and local delivery (GET /f/<name> → 302 to a presigned GET)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
import requests

from ferry.services import file_service, quota_service
from tests import media_samples as samples
from tests.conftest import AUTHENTICATED, FrozenClock, http_event
from tests.integration.test_uploads import PNG, call, stored_objects, upload

BOB = {**AUTHENTICATED, "user_id": "bob", "key_id": "key_bob"}


def get(path: str, authorizer: dict[str, str] | None = AUTHENTICATED, method: str = "GET") -> Any:
    function = "delivery" if path.startswith("/f/") else "files"
    return call(function, http_event(method, path, authorizer=authorizer))


def test_get_returns_your_file_and_hides_others(aws: dict[str, str]) -> None:
    _, created, _ = upload(PNG)
    status, body, _ = get(f"/v1/files/{created['id']}")
    assert status == 200 and body == created
    status, body, _ = get(f"/v1/files/{created['id']}", authorizer=BOB)
    assert status == 404 and body["error"]["type"] == "not_found_error"
    status, _, _ = get("/v1/files/file_00000000000000000000000000000000")
    assert status == 404


def test_list_is_newest_first_and_paginates_with_a_cursor(aws: dict[str, str]) -> None:
    clock = FrozenClock()
    file_service().clock = clock
    ids = []
    for _ in range(5):
        ids.append(upload(PNG)[1]["id"])
        clock.advance(1)
    call("upload_file", _bob_upload())
    seen: list[str] = []
    cursor = None
    while True:
        query = f"limit=2&cursor={cursor}" if cursor else "limit=2"
        event = http_event("GET", "/v1/files", authorizer=AUTHENTICATED)
        event["rawQueryString"] = query
        event["queryStringParameters"] = dict(pair.split("=", 1) for pair in query.split("&"))
        status, body, _ = call("files", event)
        assert status == 200
        seen += [f["id"] for f in body["data"]]
        assert body["has_more"] == (body["next_cursor"] is not None)
        if not body["has_more"]:
            break
        cursor = body["next_cursor"]
    assert seen == list(reversed(ids))


def _bob_upload() -> dict[str, Any]:
    from tests.conftest import multipart_event

    return multipart_event("/v1/files/uploads", fields={}, file=("b.png", PNG, "image/png"), authorizer=BOB)


def test_expired_files_leave_the_listing(aws: dict[str, str]) -> None:
    upload(PNG, ttl_hours="1")
    file_service().clock = FrozenClock(start=2_000_000_000)
    status, body, _ = get("/v1/files")
    assert status == 200 and body["data"] == []


def test_tampered_cursor_is_400(aws: dict[str, str]) -> None:
    event = http_event("GET", "/v1/files", authorizer=AUTHENTICATED)
    event["queryStringParameters"] = {"cursor": "not-a-cursor"}
    status, body, _ = call("files", event)
    assert status == 400 and "cursor" in body["error"]["message"]


def test_delete_removes_object_and_record_but_refunds_nothing(aws: dict[str, str]) -> None:
    _, created, _ = upload(PNG)
    status, body, _ = get(f"/v1/files/{created['id']}", authorizer=BOB, method="DELETE")
    assert status == 404  # not yours: nothing happens
    status, body, _ = get(f"/v1/files/{created['id']}", method="DELETE")
    assert (status, body) == (200, {"id": created["id"], "deleted": True})
    assert stored_objects(aws["FERRY_BUCKET_NAME"]) == []
    assert get(f"/v1/files/{created['id']}")[0] == 404
    assert quota_service().usage("alice").used_bytes == len(PNG)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_delivery_redirects_to_a_short_presigned_get(aws: dict[str, str], method: str) -> None:
    _, created, _ = upload(PNG, filename="ref.png")
    name = created["url"].rsplit("/", 1)[1]
    status, _, headers = get(f"/f/{name}", authorizer=None, method=method)
    assert status == 302
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Cache-Control"] == "no-store"
    location = urlparse(headers["Location"])
    query = parse_qs(location.query)
    assert int(query["X-Amz-Expires"][0]) <= 900
    assert query["response-content-type"] == ["image/png"]
    assert query["response-content-disposition"][0].startswith("inline;")
    assert location.path.endswith(name)
    fetched = requests.get(headers["Location"], timeout=5)  # moto answers presigned URLs in-process
    assert fetched.content == PNG


def test_presigned_link_never_outlives_the_file(aws: dict[str, str]) -> None:
    _, created, _ = upload(PNG, ttl_hours="1")
    record = file_service().repository.get(created["id"])
    assert record is not None
    file_service().clock = FrozenClock(start=record.expires_epoch - 60)
    _, _, headers = get(f"/f/{created['id']}.png", authorizer=None)
    assert parse_qs(urlparse(headers["Location"]).query)["X-Amz-Expires"] == ["60"]


def test_delivery_after_expiry_is_410_and_unknown_is_404(aws: dict[str, str]) -> None:
    _, created, _ = upload(PNG, ttl_hours="1")
    file_service().clock = FrozenClock(start=2_000_000_000)
    status, body, _ = get(f"/f/{created['id']}.png", authorizer=None)
    assert status == 410 and body["error"]["code"] == "file_expired"
    assert get("/f/file_00000000000000000000000000000000.png", authorizer=None)[0] == 404
    assert get(f"/f/{created['id']}.jpg", authorizer=None)[0] == 404  # wrong extension
    assert get("/f/..%2F..%2Fetc", authorizer=None)[0] == 404


def test_delivered_object_has_the_stored_type(aws: dict[str, str]) -> None:
    _, created, _ = upload(samples.image("GIF"), filename="a.gif", mime="image/gif")
    key = stored_objects(aws["FERRY_BUCKET_NAME"])[0]
    head = boto3.client("s3").head_object(Bucket=aws["FERRY_BUCKET_NAME"], Key=key)
    assert head["ContentType"] == "image/gif" and created["mime_type"] == "image/gif"


def test_with_a_cdn_the_url_is_the_object_path_on_the_distribution(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ferry import services

    monkeypatch.setenv("FERRY_CDN_DOMAIN", "d111111abcdef8.cloudfront.net")
    services.reset()
    _, created, _ = upload(PNG)
    key = stored_objects(aws["FERRY_BUCKET_NAME"])[0]
    assert created["url"] == f"https://d111111abcdef8.cloudfront.net/{key}"
    head = boto3.client("s3").head_object(Bucket=aws["FERRY_BUCKET_NAME"], Key=key)
    assert head["CacheControl"] == "public, max-age=300"
