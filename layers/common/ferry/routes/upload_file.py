from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import File, Form, UploadFile
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ferry.api import current_principal
from ferry.files import TTL_HOURS_MAX, TTL_HOURS_MIN
from ferry.idempotency import content_digest
from ferry.routes.file_objects import CREATED, PURPOSE_PATTERN, MediaTypeName, options, store_once
from ferry.services import file_service

router = APIGatewayHttpRouter()


@router.post("/v1/files/uploads", summary="Upload a file (multipart/form-data)", responses=CREATED)
def upload_file(
    file: Annotated[UploadFile, File(description="the file")],
    purpose: Annotated[str, Form(pattern=PURPOSE_PATTERN)] = "model_input",
    media_type: Annotated[MediaTypeName, Form()] = "image",
    ttl_hours: Annotated[int, Form(ge=TTL_HOURS_MIN, le=TTL_HOURS_MAX)] = 72,
    filename: Annotated[str | None, Form(max_length=1024)] = None,
) -> Response[dict[str, Any]]:
    upload_options = options(media_type, purpose, ttl_hours, filename or file.filename)
    digest = content_digest(file.content, media_type, purpose, ttl_hours, upload_options.filename)
    return store_once(
        router, digest, lambda: file_service().upload_bytes(current_principal(router), file.content, upload_options)
    )
