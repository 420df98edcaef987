"""APIMart's image upload (seed 004): POST /v1/uploads/images (multipart `file`: JPEG, PNG, WebP or
GIF, 20 MB) → `{url, filename, content_type, bytes, created_at}` (created_at in unix seconds); the
URL works for 72 hours. The page documents no error shape, so errors keep Ferry's native envelope
(which is also the OpenAI-style shape APIMart's other routes use)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ferry.clock import parse_rfc3339
from ferry.data.files import FileRecord
from ferry.routes.file_objects import delivery_url

IMAGES_PATH = "/v1/uploads/images"
MEDIA_TYPE = "image"
TTL_HOURS = 72
PURPOSE = "model_input"


class UploadedImage(BaseModel):
    url: str
    filename: str
    content_type: str
    bytes: int
    created_at: int


OK: dict[int, Any] = {200: {"description": "Stored", "content": {"application/json": {"model": UploadedImage}}}}


def response(record: FileRecord, base_url: str) -> dict[str, Any]:
    return UploadedImage(
        url=delivery_url(record, base_url),
        filename=record.filename,
        content_type=record.mime_type,
        bytes=record.size,
        created_at=int(parse_rfc3339(record.created_at)),
    ).model_dump()
