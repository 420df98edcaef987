"""The KIE.AI, Chenyu and APIMart routes through their handlers (moto): request mapping, defaults,
response fields and types, every error in each dialect's own envelope, KIE's replace-by-name and
Chenyu's signed asset URLs."""

from __future__ import annotations

import base64
import http.server
import json
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from ferry.clock import parse_rfc3339
from ferry.files import INLINE_CAP_BYTES, asset_id_for, file_id_from_reference
from ferry.services import file_service, named_files, quota_service, signing_key
from ferry.signing import signed_query
from tests import media_samples as samples
from tests.conftest import AUTHENTICATED, FrozenClock, LambdaContext, http_event, load_function, multipart_event
from tests.integration.test_uploads import PNG, stored_objects

JPEG = samples.image("JPEG", (32, 24))
BOB = {**AUTHENTICATED, "user_id": "bob", "key_id": "key_bob"}
NOBODY = {"authenticated": "false", "reason": "unknown"}


@pytest.fixture
def env(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """moto plus the signing secret the template creates."""
    from ferry import services

    arn = boto3.client("secretsmanager").create_secret(Name="ferry-test-signing", SecretString="s3cr3t" * 10)["ARN"]
    monkeypatch.setenv("FERRY_SIGNING_SECRET_ARN", arn)
    services.reset()
    return aws


def call(function: str, event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    response = load_function(function).lambda_handler(event, LambdaContext())
    body = json.loads(response["body"]) if response.get("body") else {}
    return response["statusCode"], body, response.get("headers", {})


def form(
    path: str,
    content: bytes | None,
    filename: str = "reference.png",
    authorizer: dict[str, str] = AUTHENTICATED,
    **fields: str,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    file = (filename, content, "application/octet-stream") if content is not None else None
    return call("upload_file", multipart_event(path, fields=fields, file=file, authorizer=authorizer))


def kie_stream(content: bytes, authorizer: dict[str, str] = AUTHENTICATED, **fields: str) -> Any:
    return form("/api/file-stream-upload", content, authorizer=authorizer, **fields)


def kie_base64(data: str, authorizer: dict[str, str] = AUTHENTICATED, **fields: Any) -> Any:
    body = json.dumps({"base64Data": data, **fields})
    return call("upload_base64", http_event("POST", "/api/file-base64-upload", body=body, authorizer=authorizer))


def chenyu(content: bytes | None, authorizer: dict[str, str] = AUTHENTICATED, **fields: str) -> Any:
    return form("/api/open/v2/assets", content, filename="input.png", authorizer=authorizer, **fields)


def apimart(content: bytes, filename: str = "photo.jpg", authorizer: dict[str, str] = AUTHENTICATED) -> Any:
    return form("/v1/uploads/images", content, filename=filename, authorizer=authorizer)


def used(user: str = "alice") -> int:
    return quota_service().usage(user).used_bytes


def assert_kie_error(body: dict[str, Any], status: int) -> None:
    assert body["success"] is False and body["code"] == status and isinstance(body["msg"], str) and body["msg"]
    assert "error" not in body


def assert_chenyu_error(body: dict[str, Any], status: int) -> None:
    assert body["code"] == status != 0 and isinstance(body["msg"], str) and body["msg"] and body["data"] is None


# ---------------------------------------------------------------------------------------------- KIE.AI
def test_kie_stream_upload_answers_kie_envelope(env: dict[str, str]) -> None:
    status, body, _ = kie_stream(PNG, uploadPath="images/user-uploads", fileName="uploaded-image.png")
    assert status == 200, body
    assert (body["success"], body["code"], type(body["msg"])) == (True, 200, str)
    data = body["data"]
    assert data["fileName"] == "uploaded-image.png"
    assert data["filePath"] == "images/user-uploads/uploaded-image.png"
    assert (data["fileSize"], data["mimeType"]) == (len(PNG), "image/png")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z", data["uploadedAt"])
    assert re.fullmatch(r"https://api\.ferry\.example/f/file_[0-9a-f]{32}\.png", data["downloadUrl"])
    file_id = data["downloadUrl"].rsplit("/", 1)[1].split(".")[0]
    record = file_service().repository.get(file_id)
    assert record is not None and record.expires_epoch - parse_rfc3339(record.created_at) == 72 * 3600
    assert used() == len(PNG)


def test_kie_base64_upload_takes_data_uri_or_bare_payload(env: dict[str, str]) -> None:
    for data in ("data:image/png;base64," + base64.b64encode(PNG).decode(), base64.b64encode(JPEG).decode()):
        status, body, _ = kie_base64(data, uploadPath="b64", fileName=None)
        assert status == 200, body
        assert body["data"]["filePath"].startswith("b64/file_")
    assert used() == len(PNG) + len(JPEG)


@pytest.fixture
def origin(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from ferry import services

    monkeypatch.setenv("FERRY_URL_ALLOWED_NETWORKS", "127.0.0.1/32")
    services.reset()
    services.fetch_policy.cache_clear()

    class Origin(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = PNG if self.path.endswith(".png") else b"missing"
            self.send_response(200 if self.path.endswith(".png") else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Origin)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    services.fetch_policy.cache_clear()


def kie_url(body: dict[str, Any], authorizer: dict[str, str] = AUTHENTICATED) -> Any:
    event = http_event("POST", "/api/file-url-upload", body=json.dumps(body), authorizer=authorizer)
    return call("upload_url", event)


def test_kie_url_upload_fetches_and_names_from_the_url(origin: str) -> None:
    status, body, _ = kie_url({"fileUrl": f"{origin}/images/sample.png", "uploadPath": "images/downloaded"})
    assert status == 200, body
    assert body["data"]["filePath"] == "images/downloaded/sample.png" and body["data"]["fileSize"] == len(PNG)
    status, body, _ = kie_url({"fileUrl": f"{origin}/missing.bin", "uploadPath": "x"})
    assert status == 502 and body["success"] is False and body["code"] == 502 and "request_id" in body
    status, body, _ = kie_url({"fileUrl": "http://169.254.169.254/latest/meta-data/", "uploadPath": "x"})
    assert_kie_error(body, 400)
    status, body, _ = kie_url({"uploadPath": "x"})
    assert status == 400 and "fileUrl" in body["msg"]


def test_kie_same_name_replaces_the_earlier_file_without_refund(env: dict[str, str]) -> None:
    first = kie_stream(PNG, uploadPath="refs", fileName="hero.png")[1]["data"]
    second = kie_stream(JPEG, uploadPath="refs//", fileName="hero.png")[1]["data"]
    assert first["filePath"] == second["filePath"] == "refs/hero.png"
    first_id = first["downloadUrl"].rsplit("/", 1)[1].split(".")[0]
    second_id = second["downloadUrl"].rsplit("/", 1)[1].split(".")[0]
    assert file_service().repository.get(first_id) is None  # record gone (the stream says file.deleted)
    objects = stored_objects(env["FERRY_BUCKET_NAME"])
    assert len(objects) == 1 and objects[0].endswith(f"{second_id}.jpg")  # object gone
    assert used() == len(PNG) + len(JPEG)  # the replaced file's charge settles: no refund
    principal = type("P", (), {"user_id": "alice"})()
    assert named_files().current(principal, "refs/hero.png") == second_id  # type: ignore[arg-type]
    # another folder, or another user, is another name
    kie_stream(PNG, uploadPath="other", fileName="hero.png")
    kie_stream(PNG, uploadPath="refs", fileName="hero.png", authorizer=BOB)
    assert file_service().repository.get(second_id) is not None
    assert len(stored_objects(env["FERRY_BUCKET_NAME"])) == 3


def test_kie_replaced_file_is_announced_as_deleted(env: dict[str, str]) -> None:
    from ferry.events import from_stream
    from tests.integration.test_events_published import stream_records

    first = kie_stream(PNG, uploadPath="refs", fileName="hero.png")[1]["data"]
    kie_stream(JPEG, uploadPath="refs", fileName="hero.png")
    first_id = first["downloadUrl"].rsplit("/", 1)[1].split(".")[0]
    events = from_stream(stream_records(env["FERRY_TABLE_NAME"]))
    # the new file is confirmed (record written), then named, then the old one deleted
    assert [e.detail_type for e in events] == ["file.confirmed", "file.confirmed", "file.deleted"]
    assert events[2].detail["id"] == first_id
    assert next(e for e in events if e.detail_type == "file.deleted").detail["reason"] == "deleted"


def test_kie_concurrent_same_name_uploads_leave_exactly_one_file(env: dict[str, str]) -> None:
    images = [samples.image("PNG", (10 + i, 10)) for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda c: kie_stream(c, uploadPath="race", fileName="same.png"), images))
    assert all(status == 200 for status, _, _ in results), results
    objects = stored_objects(env["FERRY_BUCKET_NAME"])
    live = [
        url.rsplit("/", 1)[1].split(".")[0]
        for _, body, _ in results
        if file_service().repository.get((url := body["data"]["downloadUrl"]).rsplit("/", 1)[1].split(".")[0])
    ]
    assert len(live) == 1 and len(objects) == 1 and objects[0].endswith(f"{live[0]}.png")
    principal = type("P", (), {"user_id": "alice"})()
    assert named_files().current(principal, "race/same.png") == live[0]  # type: ignore[arg-type]
    assert used() == sum(len(c) for c in images)


def test_kie_name_that_stays_contended_undoes_the_upload(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from ferry.data.names import NameRepository

    monkeypatch.setattr(NameRepository, "_update_if", lambda self, **_: False)  # another upload always wins
    status, body, _ = kie_stream(PNG, uploadPath="busy", fileName="a.png")
    assert status == 409
    assert_kie_error(body, 409)
    assert stored_objects(env["FERRY_BUCKET_NAME"]) == [] and used() == 0


@pytest.mark.parametrize(
    "upload_path",
    ["../etc", "a/../b", "/abs/path", "a\\b", "C:/x", "a\x00b", "tab\there", "rtl\u202eabc", "x" * 513],
)
def test_kie_refuses_unsafe_upload_paths(env: dict[str, str], upload_path: str) -> None:
    status, body, _ = kie_stream(PNG, uploadPath=upload_path, fileName="a.png")
    assert status == 400, body
    assert_kie_error(body, 400)
    assert stored_objects(env["FERRY_BUCKET_NAME"]) == [] and used() == 0


def test_kie_errors_keep_the_http_status_in_code(env: dict[str, str]) -> None:
    status, body, _ = kie_stream(PNG, authorizer=NOBODY, uploadPath="a")
    assert status == 401
    assert_kie_error(body, 401)
    status, body, _ = kie_stream(b"\x89PNG\r\n\x1a\n" + PNG[8:40], uploadPath="a")  # truncated image
    assert status == 422
    assert_kie_error(body, 422)
    big = base64.b64encode(PNG + b"\x00" * (INLINE_CAP_BYTES + 1 - len(PNG))).decode()
    status, body, _ = kie_base64(big, uploadPath="a")
    assert status == 413 and "/v1/files/uploads/presign" in body["msg"]
    assert_kie_error(body, 413)
    status, body, _ = kie_base64("not base64 !!", uploadPath="a")
    assert_kie_error(body, 400)
    quota_service().reserve("alice", 209_715_200 - len(PNG) + 1)
    status, body, headers = kie_stream(PNG, uploadPath="a")
    assert status == 429 and int(headers["Retry-After"]) > 0
    assert_kie_error(body, 429)


def test_over_cap_bodies_are_refused_in_the_dialect_shape_before_parsing(env: dict[str, str]) -> None:
    event = multipart_event("/api/file-stream-upload", fields={}, file=("a.png", PNG, "image/png"))
    event["requestContext"]["authorizer"] = {"lambda": AUTHENTICATED}
    event["body"] = "A" * ((INLINE_CAP_BYTES + 64 * 1024) * 4 // 3 + 8)
    status, body, _ = call("upload_file", event)
    assert status == 413 and "/v1/files/uploads/presign" in body["msg"]
    assert_kie_error(body, 413)
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/api/open/v2/assets"
    status, body, _ = call("upload_file", event)
    assert_chenyu_error(body, 413)
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/v1/uploads/images"
    status, body, _ = call("upload_file", event)
    assert status == 413 and body["error"]["code"] == "file_too_large"


# ---------------------------------------------------------------------------------------------- Chenyu
def test_chenyu_asset_upload_answers_every_documented_field(env: dict[str, str]) -> None:
    status, body, _ = chenyu(PNG, media_type="image", purpose="temp_input")
    assert status == 200, body
    assert (body["code"], type(body["msg"])) == (0, str)
    data = body["data"]
    file_id = file_id_from_reference(data["asset_uri"])
    assert file_id and data["asset_id"] == asset_id_for(file_id) and data["asset_uri"] == f"asset://{data['asset_id']}"
    assert re.fullmatch(r"asset_[0-9a-f]{32}", data["asset_id"])
    assert data["url"] == f"https://api.ferry.example/f/{file_id}.png"
    assert data["content_url"] == f"https://api.ferry.example/assets/{data['asset_id']}/content"
    assert data["signed_url"].startswith(data["content_url"] + "?expires=")
    assert set(parse_qs(urlsplit(data["signed_url"]).query)) == {"expires", "signature"}
    assert (data["media_type"], data["mime_type"], data["size_bytes"]) == ("image", "image/png", len(PNG))
    assert (data["purpose"], data["persistent"], data["status"]) == ("temp_input", False, "confirmed")
    assert data["original_filename"] == "input.png"
    record = file_service().repository.get(file_id)
    assert record is not None and parse_rfc3339(data["expires_at"]) - parse_rfc3339(record.created_at) == 48 * 3600


def test_chenyu_infers_media_type_and_honours_ttl(env: dict[str, str]) -> None:
    status, body, _ = chenyu(samples.MP4, ttl_hours="6")
    assert status == 200, body
    assert (body["data"]["media_type"], body["data"]["mime_type"]) == ("video", "video/mp4")
    status, body, _ = chenyu(samples.PDF, media_type="")
    assert (body["data"]["media_type"], body["data"]["mime_type"]) == ("file", "application/octet-stream")


def test_chenyu_errors_are_non_zero_codes(env: dict[str, str]) -> None:
    for fields, status in (
        ({"purpose": "persistent"}, 400),
        ({"ttl_hours": "500"}, 400),
        ({"media_type": "image"}, 415),
    ):
        got, body, _ = chenyu(samples.TEXT if status == 415 else PNG, **fields)
        assert got == status, body
        assert_chenyu_error(body, status)
    got, body, _ = chenyu(None)
    assert_chenyu_error(body, 400)
    got, body, _ = chenyu(PNG, authorizer=NOBODY)
    assert got == 401
    assert_chenyu_error(body, 401)
    got, body, _ = chenyu(samples.png_bomb())
    assert got == 422
    assert_chenyu_error(body, 422)
    quota_service().reserve("alice", 209_715_200 - len(PNG) + 1)
    got, body, headers = chenyu(PNG)
    assert got == 429 and int(headers["Retry-After"]) > 0
    assert_chenyu_error(body, 429)
    assert stored_objects(env["FERRY_BUCKET_NAME"]) == []


def deliver(url: str, method: str = "GET") -> tuple[int, dict[str, Any], dict[str, str]]:
    parts = urlsplit(url)
    event = http_event(method, parts.path)
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} /assets/{{asset_id}}/content"
    event["rawQueryString"] = parts.query
    if parts.query:
        event["queryStringParameters"] = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return call("delivery", event)


def test_chenyu_content_and_signed_urls_are_verified_by_delivery(env: dict[str, str]) -> None:
    data = chenyu(PNG)[1]["data"]
    for url in (data["content_url"], data["signed_url"]):
        status, _, headers = deliver(url)
        assert status == 302 and headers["Location"].startswith("https://")
        assert deliver(url, "HEAD")[0] == 302
    tampered = data["signed_url"][:-4] + ("0000" if not data["signed_url"].endswith("0000") else "1111")
    status, body, _ = deliver(tampered)
    assert status == 403
    assert_chenyu_error(body, 403)
    status, body, _ = deliver(data["content_url"] + "?expires=9999999999")
    assert_chenyu_error(body, 403)
    path = urlsplit(data["content_url"]).path
    past = int(file_service().clock.now()) - 1
    status, body, _ = deliver(f"{data['content_url']}?{signed_query(signing_key(), path, past)}")
    assert status == 410
    assert_chenyu_error(body, 410)
    other = chenyu(JPEG)[1]["data"]  # a valid signature of another asset does not open this one
    status, _, _ = deliver(data["content_url"] + "?" + urlsplit(other["signed_url"]).query)
    assert status == 403
    status, body, _ = deliver("https://api.ferry.example/assets/asset_" + "0" * 32 + "/content")
    assert status == 404
    assert_chenyu_error(body, 404)


def test_chenyu_links_refuse_after_the_asset_expires(env: dict[str, str]) -> None:
    data = chenyu(PNG, ttl_hours="1")[1]["data"]
    clock = FrozenClock(file_service().clock.now() + 3601)
    file_service().clock = clock
    for url in (data["content_url"], data["signed_url"]):
        status, body, _ = deliver(url)
        assert status == 410
        assert_chenyu_error(body, 410)


# ---------------------------------------------------------------------------------------------- APIMart
def test_apimart_image_upload(env: dict[str, str]) -> None:
    status, body, _ = apimart(JPEG)
    assert status == 200, body
    assert set(body) == {"url", "filename", "content_type", "bytes", "created_at"}
    assert (body["filename"], body["content_type"], body["bytes"]) == ("photo.jpg", "image/jpeg", len(JPEG))
    assert isinstance(body["created_at"], int) and abs(body["created_at"] - file_service().clock.now()) < 60
    file_id = body["url"].rsplit("/", 1)[1].split(".")[0]
    record = file_service().repository.get(file_id)
    assert record is not None and record.expires_epoch - body["created_at"] == 72 * 3600


def test_apimart_errors_use_the_native_envelope(env: dict[str, str]) -> None:
    status, body, _ = apimart(samples.MP4, filename="clip.mp4")
    assert status == 415 and body["error"]["code"] == "unsupported_file_type"
    status, body, _ = apimart(JPEG, authorizer=NOBODY)
    assert status == 401 and body["error"]["type"] == "authentication_error"
    big = JPEG + b"\x00" * (INLINE_CAP_BYTES + 1 - len(JPEG))
    status, body, _ = apimart(big)
    assert status == 413 and "/v1/files/uploads/presign" in body["error"]["message"]


# ---------------------------------------------------------------------------------------------- shared
def test_idempotency_key_works_on_dialect_routes(env: dict[str, str]) -> None:
    def once(path: str, content: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        event = multipart_event(path, fields={}, file=("a.png", content, "image/png"), authorizer=AUTHENTICATED)
        event["headers"]["idempotency-key"] = "3b1f2c8e-0000-4000-8000-00000000f005"
        return call("upload_file", event)

    first, again = once("/v1/uploads/images", PNG), once("/v1/uploads/images", PNG)
    assert first[0] == again[0] == 200 and first[1] == again[1]
    assert used() == len(PNG) and len(stored_objects(env["FERRY_BUCKET_NAME"])) == 1
    status, body, _ = once("/api/open/v2/assets", PNG)  # the same key on another dialect: another request
    assert status == 409
    assert_chenyu_error(body, 409)


def test_unexpected_failures_carry_a_request_id_in_the_dialect_shape(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_: Any, **__: Any) -> None:
        raise RuntimeError("table unavailable")

    monkeypatch.setattr(file_service().repository, "put", fail)
    status, body, _ = kie_stream(PNG, uploadPath="a")
    assert status == 500 and body["code"] == 500 and body["request_id"] and "table" not in body["msg"]
    status, body, _ = chenyu(PNG)
    assert status == 500 and body["code"] == 500 and body["request_id"]
    assert used() == 0
