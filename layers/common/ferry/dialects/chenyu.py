"""Chenyu's workflow assets (seed 003): POST /api/open/v2/assets (multipart `file`, `media_type`
image|video|audio|file inferred when absent, `purpose` temp_input only, `ttl_hours` default 48).

Answer: `{"code": 0, "msg", "data": {asset_id, asset_uri, url, content_url, signed_url, media_type,
mime_type, size_bytes, purpose, persistent: false, expires_at, status: "confirmed",
original_filename}}`. `asset_id` is `asset_<the file id's 128 bits>` and `asset_uri` is
`asset://<asset_id>`, accepted wherever Ferry takes a file reference (video inputs).
`url` is Ferry's normal file URL (CloudFront when deployed with a CDN, else GET /f/{name});
`content_url` is GET /assets/{asset_id}/content on this API (the Delivery function: 302 to the
bytes, 410 after expires_at); `signed_url` is content_url plus `expires` and an HMAC `signature`
that the Delivery function verifies (ferry.signing).

Errors: `{"code": <non-zero>, "msg", "data": null}` where `code` is the HTTP status of the answer
(400, 401, 403, 404, 409, 410, 413, 415, 422, 429, 500, 502, 504), 5xx adding `request_id`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from ferry.data.files import FileRecord
from ferry.errors import FerryError
from ferry.files import TTL_HOURS_MAX, TTL_HOURS_MIN, asset_id_for
from ferry.routes.file_objects import delivery_url

ASSETS_PATH = "/api/open/v2/assets"
CONTENT_PATH = "/assets/<asset_id>/content"  # Powertools path syntax; the template says {asset_id}
PURPOSE = "temp_input"
TTL_HOURS = 48
SUCCESS_MESSAGE = "上传成功"


def content_path(asset_id: str) -> str:
    return f"/assets/{asset_id}/content"


class AssetForm(BaseModel):
    """The form fields beside the `file` part."""

    media_type: Literal["image", "video", "audio", "file"] | None = None
    purpose: Literal["temp_input"] = "temp_input"
    ttl_hours: int = Field(TTL_HOURS, ge=TTL_HOURS_MIN, le=TTL_HOURS_MAX)

    @field_validator("media_type", "purpose", "ttl_hours", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any, info: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return cls.model_fields[info.field_name].default
        return value.strip() if isinstance(value, str) else value


class Asset(BaseModel):
    asset_id: str
    asset_uri: str
    url: str
    content_url: str
    signed_url: str
    media_type: str
    mime_type: str
    size_bytes: int
    purpose: str
    persistent: bool
    expires_at: str
    status: str
    original_filename: str


class AssetResponse(BaseModel):
    code: int
    msg: str
    data: Asset


class ChenyuError(BaseModel):
    code: int
    msg: str
    data: None = None
    request_id: str | None = None


OK: dict[int, Any] = {200: {"description": "Stored", "content": {"application/json": {"model": AssetResponse}}}}


def response(record: FileRecord, base_url: str, signed_query: str) -> dict[str, Any]:
    asset_id = asset_id_for(record.id)
    content_url = base_url + content_path(asset_id)
    asset = Asset(
        asset_id=asset_id,
        asset_uri=f"asset://{asset_id}",
        url=delivery_url(record, base_url),
        content_url=content_url,
        signed_url=f"{content_url}?{signed_query}",
        media_type=record.media_type,
        mime_type=record.mime_type,
        size_bytes=record.size,
        purpose=record.purpose,
        persistent=False,
        expires_at=record.expires_at,
        status=record.status,
        original_filename=record.filename,
    )
    return AssetResponse(code=0, msg=SUCCESS_MESSAGE, data=asset).model_dump()


def error_envelope(exc: FerryError, request_id: str | None) -> dict[str, Any]:
    body = ChenyuError(code=exc.status, msg=exc.message, request_id=request_id).model_dump()
    if body["request_id"] is None:
        del body["request_id"]
    return body


ENVELOPES = {ASSETS_PATH: error_envelope, CONTENT_PATH: error_envelope}
