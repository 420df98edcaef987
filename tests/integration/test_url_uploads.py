"""POST /v1/files/uploads/url through its handler: a real HTTP server on 127.0.0.1 (explicitly
allowed, as a deployment would allow a named private network), moto for S3 and DynamoDB."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from ferry.services import quota_service
from tests import media_samples as samples
from tests.conftest import AUTHENTICATED, http_event
from tests.integration.test_uploads import PNG, call, stored_objects

VIDEO = samples.MP4 + bytes(range(256)) * 40_000  # ≈ 10 MB: more than one multipart part


class Origin(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {}

    def do_GET(self) -> None:
        status, headers, body = self.routes.get(self.path, (404, {}, b"missing"))
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def origin(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from ferry import services

    monkeypatch.setenv("FERRY_URL_ALLOWED_NETWORKS", "127.0.0.1/32")
    services.reset()
    services.fetch_policy.cache_clear()
    Origin.routes = {
        "/reference.png": (200, {"Content-Type": "image/png"}, PNG),
        "/clip.mp4": (200, {"Content-Type": "video/mp4"}, VIDEO),
        "/page": (200, {"Content-Type": "image/png"}, samples.HTML),
        "/moved": (302, {"Location": "/reference.png"}, b""),
        "/to-metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
        "/gzip": (200, {"Content-Encoding": "gzip"}, b"\x1f\x8b" + b"\x00" * 20),
    }
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Origin)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    services.fetch_policy.cache_clear()


def upload_url(url: str, **fields: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    body = json.dumps({"url": url, "purpose": "model_input", **fields})
    return call("upload_url", http_event("POST", "/v1/files/uploads/url", body=body, authorizer=AUTHENTICATED))


def test_the_seed_request_shape_stores_the_remote_file(aws: dict[str, str], origin: str) -> None:
    status, body, _ = upload_url(f"{origin}/reference.png", filename="reference.png")
    assert status == 201, body
    assert (body["mime_type"], body["size"], body["filename"]) == ("image/png", len(PNG), "reference.png")
    assert (body["width"], body["height"]) == (64, 48)
    assert quota_service().usage("alice").used_bytes == len(PNG)


def test_large_video_is_streamed(aws: dict[str, str], origin: str) -> None:
    status, body, _ = upload_url(f"{origin}/clip.mp4", media_type="video")
    assert status == 201, body
    assert (body["size"], body["mime_type"], body["filename"]) == (len(VIDEO), "video/mp4", "clip.mp4")


def test_redirects_are_followed(aws: dict[str, str], origin: str) -> None:
    status, body, _ = upload_url(f"{origin}/moved")
    assert status == 201 and body["filename"] == "reference.png"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/page", 415, "unsupported_file_type"),
        ("/nothing", 502, None),
        ("/to-metadata", 400, "url_not_allowed"),
        ("/gzip", 502, None),
    ],
)
def test_refusals_store_nothing_and_charge_nothing(
    aws: dict[str, str], origin: str, path: str, status: int, code: str | None
) -> None:
    got, body, _ = upload_url(origin + path)
    assert got == status, body
    if code:
        assert body["error"]["code"] == code
    assert stored_objects(aws["FERRY_BUCKET_NAME"]) == [] and quota_service().usage("alice").used_bytes == 0


@pytest.mark.parametrize(
    "url", ["http://127.0.0.2/x.png", "http://10.0.0.1/x.png", "file:///etc/passwd", "http://user:pw@example.com/"]
)
def test_forbidden_urls_are_400_without_a_fetch(aws: dict[str, str], origin: str, url: str) -> None:
    status, body, _ = upload_url(url)
    assert status == 400 and body["error"]["type"] == "invalid_request_error"
