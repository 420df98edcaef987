"""APIMart's image upload (ferry.dialects.apimart) on UploadFileFunction."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, ConfigDict

from ferry.api import current_principal
from ferry.dialects import apimart
from ferry.dialects.base import DialectRouter, answer_once
from ferry.files import UploadOptions
from ferry.idempotency import content_digest
from ferry.routes.file_objects import read_form
from ferry.services import file_service

router = DialectRouter({})  # no documented error shape: the native envelope


class ImageForm(BaseModel):
    model_config = ConfigDict(extra="ignore")


@router.post(apimart.IMAGES_PATH, summary="APIMart: upload an image", responses=apimart.OK, tags=["APIMart"])
def upload_image() -> Response[dict[str, Any]]:
    _, part_filename, data = read_form(router, ImageForm)
    options = UploadOptions(
        media_type=apimart.MEDIA_TYPE, purpose=apimart.PURPOSE, ttl_hours=apimart.TTL_HOURS, filename=part_filename
    )
    return answer_once(
        router,
        dialect="apimart",
        digest=content_digest(data, part_filename),
        upload=lambda: file_service().upload_bytes(current_principal(router), data, options),
        render=apimart.response,
    )
