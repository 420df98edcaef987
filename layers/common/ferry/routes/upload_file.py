from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, Field

from ferry.api import current_principal
from ferry.files import TTL_HOURS_MAX, TTL_HOURS_MIN
from ferry.idempotency import content_digest
from ferry.routes.file_objects import CREATED, PURPOSE_PATTERN, MediaTypeName, options, read_form, store_once
from ferry.services import file_service

router = APIGatewayHttpRouter()


class UploadForm(BaseModel):
    """The form fields beside the `file` part (documented in openapi.json as the request body)."""

    purpose: str = Field("model_input", pattern=PURPOSE_PATTERN)
    media_type: MediaTypeName = "image"
    ttl_hours: int = Field(72, ge=TTL_HOURS_MIN, le=TTL_HOURS_MAX)
    filename: str | None = Field(None, max_length=1024)


@router.post("/v1/files/uploads", summary="Upload a file (multipart/form-data)", responses=CREATED)
def upload_file() -> Response[dict[str, Any]]:
    fields, part_filename, data = read_form(router, UploadForm)
    upload_options = options(fields.media_type, fields.purpose, fields.ttl_hours, fields.filename or part_filename)
    digest = content_digest(data, fields.media_type, fields.purpose, fields.ttl_hours, upload_options.filename)
    return store_once(
        router, digest, lambda: file_service().upload_bytes(current_principal(router), data, upload_options)
    )
