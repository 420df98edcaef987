"""Dialects as pure logic: uploadPath rules, response mapping, error envelopes, signed URLs, routing
of error renderers, and the served OpenAPI document."""

from __future__ import annotations

import json

import pytest

from ferry import openapi
from ferry.api import native_error, renderer_for
from ferry.data.files import FileRecord
from ferry.dialects import apimart, chenyu, kie
from ferry.dialects.base import infer_media_type
from ferry.errors import FerryError, Gone, InvalidRequest, PayloadTooLarge, PermissionDenied, QuotaExceeded
from ferry.signing import derive_key, signed_query, verify
from tests import media_samples as samples

RECORD = FileRecord(
    id="file_" + "ab" * 16,
    user_id="alice",
    key="ttl-3d/1795521600/file_" + "ab" * 16 + ".png",
    mime_type="image/png",
    size=2025,
    sha256="0" * 64,
    filename="uploaded-image.png",
    purpose="model_input",
    media_type="image",
    status="confirmed",
    created_at="2026-11-21T12:00:00Z",
    expires_at="2026-11-24T12:00:00Z",
    expires_epoch=1_795_521_600,
    extension="png",
    quota_bucket=0,
    quota_bytes=2025,
)
BASE = "https://api.ferry.example"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("images/user-uploads", "images/user-uploads"),
        ("  images//user-uploads/  ", "images/user-uploads"),
        ("./a/./b", "a/b"),
        ("", ""),
        (None, ""),
        ("图片/上传", "图片/上传"),
        ("a..b/c.d", "a..b/c.d"),
    ],
)
def test_upload_path_is_normalised(raw: str | None, expected: str) -> None:
    assert kie.upload_path(raw) == expected


@pytest.mark.parametrize(
    "raw", ["..", "a/../b", "a/..", "/etc", "//server/share", "a\\b", "C:/Windows", "c:x", "a\nb", "a\x7fb", "a\u200bb"]
)
def test_unsafe_upload_paths_are_refused(raw: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        kie.upload_path(raw)
    assert caught.value.code == "invalid_upload_path"


def test_upload_path_length_is_capped_in_bytes() -> None:
    assert kie.upload_path("é" * 256) == "é" * 256
    with pytest.raises(InvalidRequest):
        kie.upload_path("é" * 257)


def test_kie_response_maps_the_stored_file(ferry_env: dict[str, str]) -> None:
    body = kie.response(RECORD, "images/user-uploads", BASE)
    assert body == {
        "success": True,
        "code": 200,
        "msg": kie.SUCCESS_MESSAGE,
        "data": {
            "fileName": "uploaded-image.png",
            "filePath": "images/user-uploads/uploaded-image.png",
            "downloadUrl": f"{BASE}/f/{RECORD.id}.png",
            "fileSize": 2025,
            "mimeType": "image/png",
            "uploadedAt": "2026-11-21T12:00:00.000Z",
        },
    }
    assert kie.response(RECORD, "", BASE)["data"]["filePath"] == "uploaded-image.png"


def test_chenyu_response_maps_the_stored_file(ferry_env: dict[str, str]) -> None:
    data = chenyu.response(RECORD, BASE, "expires=1&signature=ff")["data"]
    asset = "asset_" + "ab" * 16
    assert data["asset_id"] == asset and data["asset_uri"] == f"asset://{asset}"
    assert data["content_url"] == f"{BASE}/assets/{asset}/content"
    assert data["signed_url"] == f"{BASE}/assets/{asset}/content?expires=1&signature=ff"
    assert data["url"] == f"{BASE}/f/{RECORD.id}.png"
    assert (data["size_bytes"], data["persistent"], data["original_filename"]) == (2025, False, "uploaded-image.png")


def test_apimart_response_maps_the_stored_file(ferry_env: dict[str, str]) -> None:
    assert apimart.response(RECORD, BASE) == {
        "url": f"{BASE}/f/{RECORD.id}.png",
        "filename": "uploaded-image.png",
        "content_type": "image/png",
        "bytes": 2025,
        "created_at": 1_795_262_400,
    }


def test_error_envelopes() -> None:
    too_large = PayloadTooLarge("Use POST /v1/files/uploads/presign.")
    assert kie.error_envelope(too_large, None) == {"success": False, "code": 413, "msg": too_large.message}
    assert chenyu.error_envelope(too_large, None) == {"code": 413, "msg": too_large.message, "data": None}
    crash = FerryError("Something went wrong.")
    assert kie.error_envelope(crash, "req-1")["request_id"] == "req-1"
    assert chenyu.error_envelope(crash, "req-1") == {
        "code": 500,
        "msg": crash.message,
        "data": None,
        "request_id": "req-1",
    }
    assert QuotaExceeded("wait", retry_after_seconds=5).headers == {"Retry-After": "5"}


def test_renderer_is_chosen_by_route_path() -> None:
    envelopes = {**kie.ENVELOPES, **chenyu.ENVELOPES}
    assert renderer_for(envelopes, "/api/file-url-upload") is kie.error_envelope
    assert renderer_for(envelopes, "/api/open/v2/assets") is chenyu.error_envelope
    assert renderer_for(envelopes, "/assets/asset_123/content") is chenyu.error_envelope
    assert renderer_for(envelopes, "/assets/a/b/content") is native_error
    assert renderer_for(envelopes, "/v1/files/uploads") is native_error
    assert renderer_for(envelopes, None) is native_error


def test_media_type_is_inferred_from_the_bytes() -> None:
    assert infer_media_type(samples.image("PNG")) == "image"
    assert infer_media_type(samples.MP4) == "video"
    assert infer_media_type(samples.MP3) == "audio"
    assert infer_media_type(samples.PDF) == "file"
    assert infer_media_type(samples.SVG) == "file"


def test_signed_links_verify_only_unaltered_and_unexpired() -> None:
    key = derive_key("secret")
    assert key != derive_key("other") and len(key) == 32
    path = "/assets/asset_" + "ab" * 16 + "/content"
    query = dict(part.split("=") for part in signed_query(key, path, 2_000_000_000).split("&"))
    verify(key, path, query["expires"], query["signature"], now=1_900_000_000)
    verify(key, path, query["expires"], query["signature"].upper(), now=1_900_000_000)
    for expires, signature, other_path in (
        ("2000000001", query["signature"], path),  # expiry moved
        (query["expires"], query["signature"][:-1] + "0", path),  # signature altered
        (query["expires"], query["signature"], path.replace("ab", "cd")),  # another asset
        (query["expires"], None, path),
        (None, query["signature"], path),
        ("-5", query["signature"], path),
    ):
        with pytest.raises(PermissionDenied):
            verify(key, other_path, expires, signature, now=1_900_000_000)
    with pytest.raises(Gone):
        verify(key, path, query["expires"], query["signature"], now=2_000_000_000)


def test_openapi_describes_the_dialect_routes() -> None:
    document = json.loads(openapi.served())
    for path, envelope in (
        ("/api/file-url-upload", "KieError"),
        ("/api/file-base64-upload", "KieError"),
        ("/api/file-stream-upload", "KieError"),
        ("/api/open/v2/assets", "ChenyuError"),
        ("/v1/uploads/images", "Error"),
    ):
        post = document["paths"][path]["post"]
        assert post["responses"]["default"]["content"]["application/json"]["schema"]["$ref"].endswith(f"/{envelope}")
        assert "200" in post["responses"]
    assert "multipart/form-data" in document["paths"]["/api/open/v2/assets"]["post"]["requestBody"]["content"]
