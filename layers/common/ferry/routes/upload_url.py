from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, Field

from ferry.api import current_principal
from ferry.data.files import FileRecord
from ferry.data.storage import PART_SIZE
from ferry.files import UploadOptions
from ferry.idempotency import content_digest
from ferry.media import RULES
from ferry.routes.file_objects import CREATED, Filename, MediaTypeName, Purpose, TtlHours, fetch_deadline, store_once
from ferry.services import fetch_policy, file_service

router = APIGatewayHttpRouter()


class UrlUpload(BaseModel):
    url: str = Field(max_length=4096, description="http(s) URL Ferry fetches (public addresses only)")
    filename: str | None = Filename
    purpose: str = Purpose
    media_type: MediaTypeName = "image"
    ttl_hours: int = TtlHours


@router.post("/v1/files/uploads/url", summary="Store a copy of a remote http(s) file", responses=CREATED)
def upload_url(body: UrlUpload) -> Response[dict[str, Any]]:
    principal = current_principal(router)

    def transfer() -> FileRecord:
        from ferry.remote import filename_in, open_remote

        with open_remote(
            body.url,
            max_bytes=RULES[body.media_type].cap_bytes,
            policy=fetch_policy(),
            deadline_seconds=fetch_deadline(router),
        ) as remote:
            options = UploadOptions(
                media_type=body.media_type,
                purpose=body.purpose,
                ttl_hours=body.ttl_hours,
                filename=body.filename or filename_in(remote.final_url),
            )
            return file_service().upload_stream(
                principal, remote.iter_chunks(PART_SIZE), options, declared_size=remote.content_length
            )

    digest = content_digest(body.url, body.media_type, body.purpose, body.ttl_hours, body.filename)
    return store_once(router, digest, transfer)
