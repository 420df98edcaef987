from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, Field

from ferry.api import current_principal
from ferry.clock import rfc3339
from ferry.idempotency import content_digest, idempotency_key, run_once
from ferry.routes.file_objects import (
    Filename,
    MediaTypeName,
    Purpose,
    TtlHours,
    created,
    delivery_base,
    file_object,
    options,
)
from ferry.services import file_service
from ferry.settings import get_settings

router = APIGatewayHttpRouter()


class PresignRequest(BaseModel):
    filename: str | None = Filename
    mime_type: str = Field(max_length=100, description="the Content-Type the upload will carry")
    size: int = Field(gt=0, description="exact or maximum size in bytes; quota is held for it until the upload lands")
    media_type: MediaTypeName = "image"
    purpose: str = Purpose
    ttl_hours: int = TtlHours


class PresignedPost(BaseModel):
    method: str
    url: str
    fields: dict[str, str]
    expires_at: str


class Presigned(BaseModel):
    id: str
    status: str
    url: str
    expires_at: str
    upload: PresignedPost


@router.post(
    "/v1/files/uploads/presign",
    summary="Upload straight to storage: a presigned POST (up to 20 MB images, 100 MB video/audio/file)",
    responses={
        201: {"description": "Upload with the returned form", "content": {"application/json": {"model": Presigned}}}
    },
)
def presign(body: PresignRequest) -> Response[dict[str, Any]]:
    principal = current_principal(router)
    window = get_settings().presign_window_seconds

    def issue() -> dict[str, Any]:
        record, post = file_service().presign(
            principal,
            options(body.media_type, body.purpose, body.ttl_hours, body.filename),
            size=body.size,
            mime_type=body.mime_type,
            window_seconds=window,
        )
        file = file_object(record, delivery_base(router.current_event.headers))
        return {
            "id": record.id,
            "status": record.status,
            "url": file["url"],
            "expires_at": record.expires_at,
            "upload": {
                "method": "POST",
                "url": post["url"],
                "fields": post["fields"],
                "expires_at": rfc3339(record.upload_expires_epoch or 0),
            },
        }

    digest = content_digest(body.model_dump_json())
    result = run_once(
        user_id=principal.user_id,
        key=idempotency_key(router.current_event.headers),
        digest=digest,
        operation=issue,
        lambda_context=getattr(router, "lambda_context", None),
    )
    return created(result)
