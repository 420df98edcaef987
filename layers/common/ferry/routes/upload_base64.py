from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, Field

from ferry import inline
from ferry.api import current_principal
from ferry.idempotency import content_digest
from ferry.media import check_size
from ferry.routes.file_objects import CREATED, Filename, MediaTypeName, Purpose, TtlHours, options, store_once
from ferry.services import file_service

router = APIGatewayHttpRouter()


class Base64Upload(BaseModel):
    data: str = Field(description="a data URI (data:<type>;base64,…) or a bare base64 payload")
    filename: str | None = Filename
    purpose: str = Purpose
    media_type: MediaTypeName = "image"
    ttl_hours: int = TtlHours


@router.post("/v1/files/uploads/base64", summary="Upload a base64 payload or data URI", responses=CREATED)
def upload_base64(body: Base64Upload) -> Response[dict[str, Any]]:
    service = file_service()
    payload = inline.parse(body.data)
    check_size(body.media_type, payload.decoded_size, inline_cap=service.inline_cap_bytes)  # before decoding
    upload_options = options(body.media_type, body.purpose, body.ttl_hours, body.filename)
    digest = content_digest(payload.text, body.media_type, body.purpose, body.ttl_hours, body.filename)
    return store_once(
        router,
        digest,
        lambda: service.upload_bytes(current_principal(router), inline.decode(payload), upload_options),
    )
