from __future__ import annotations

import functools
import posixpath
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, Field

from ferry.api import current_principal
from ferry.data.files import FileRecord
from ferry.data.storage import PART_SIZE
from ferry.files import UploadOptions
from ferry.idempotency import content_digest
from ferry.media import RULES
from ferry.routes.file_objects import CREATED, Filename, MediaTypeName, Purpose, TtlHours, store_once
from ferry.services import file_service
from ferry.settings import get_settings

if TYPE_CHECKING:
    from ferry.remote import FetchPolicy

router = APIGatewayHttpRouter()
LAMBDA_MARGIN_SECONDS = 4.0  # time kept back to finish the S3 upload and the record


class UrlUpload(BaseModel):
    url: str = Field(max_length=4096, description="http(s) URL Ferry fetches (public addresses only)")
    filename: str | None = Filename
    purpose: str = Purpose
    media_type: MediaTypeName = "image"
    ttl_hours: int = TtlHours


@functools.cache
def fetch_policy() -> FetchPolicy:
    from ferry.remote import FetchPolicy, parse_networks  # requests/urllib3: off the cold start

    return FetchPolicy(allowed_networks=parse_networks(get_settings().url_allowed_networks))


def _deadline() -> float | None:
    context = getattr(router, "lambda_context", None)
    if context is None or not hasattr(context, "get_remaining_time_in_millis"):
        return None
    return max(1.0, float(context.get_remaining_time_in_millis()) / 1000 - LAMBDA_MARGIN_SECONDS)


def _name_in(url: str) -> str | None:
    return unquote(posixpath.basename(urlparse(url).path)) or None


@router.post("/v1/files/uploads/url", summary="Store a copy of a remote http(s) file", responses=CREATED)
def upload_url(body: UrlUpload) -> Response[dict[str, Any]]:
    principal = current_principal(router)

    def transfer() -> FileRecord:
        from ferry.remote import open_remote

        with open_remote(
            body.url, max_bytes=RULES[body.media_type].cap_bytes, policy=fetch_policy(), deadline_seconds=_deadline()
        ) as remote:
            options = UploadOptions(
                media_type=body.media_type,
                purpose=body.purpose,
                ttl_hours=body.ttl_hours,
                filename=body.filename or _name_in(remote.final_url),
            )
            return file_service().upload_stream(
                principal, remote.iter_chunks(PART_SIZE), options, declared_size=remote.content_length
            )

    digest = content_digest(body.url, body.media_type, body.purpose, body.ttl_hours, body.filename)
    return store_once(router, digest, transfer)
