"""Chenyu's asset upload (ferry.dialects.chenyu) on UploadFileFunction, and its asset content route
(GET/HEAD /assets/{asset_id}/content, plain or signed) on DeliveryFunction."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from ferry.api import current_principal
from ferry.data.files import FileRecord
from ferry.dialects import chenyu
from ferry.dialects.base import DialectRouter, answer_once, infer_media_type
from ferry.errors import NotFound
from ferry.files import UploadOptions, asset_id_for, file_id_from_reference
from ferry.idempotency import content_digest
from ferry.media import SNIFF_BYTES
from ferry.routes.delivery import redirect_to
from ferry.routes.file_objects import read_form
from ferry.services import file_service, signing_key
from ferry.signing import signed_query, verify

router = DialectRouter(chenyu.ENVELOPES)
content_router = DialectRouter(chenyu.ENVELOPES)


@router.post(chenyu.ASSETS_PATH, summary="Chenyu: upload a workflow asset", responses=chenyu.OK, tags=["Chenyu"])
def upload_asset() -> Response[dict[str, Any]]:
    fields, part_filename, data = read_form(router, chenyu.AssetForm)
    media_type = fields.media_type or infer_media_type(data[:SNIFF_BYTES])
    options = UploadOptions(
        media_type=media_type, purpose=fields.purpose, ttl_hours=fields.ttl_hours, filename=part_filename
    )
    key = signing_key()  # before storing: a deployment without its secret stores nothing

    def render(record: FileRecord, base_url: str) -> dict[str, Any]:
        path = chenyu.content_path(asset_id_for(record.id))
        return chenyu.response(record, base_url, signed_query(key, path, record.expires_epoch))

    return answer_once(
        router,
        dialect="chenyu",
        digest=content_digest(data, media_type, fields.purpose, fields.ttl_hours, part_filename),
        upload=lambda: file_service().upload_bytes(current_principal(router), data, options),
        render=render,
    )


def _content(asset_id: str) -> Response[str]:
    file_id = file_id_from_reference(asset_id) if asset_id.startswith("asset_") else None
    if file_id is None:
        raise NotFound("No such asset.", code="asset_not_found")
    query = content_router.current_event.query_string_parameters or {}
    if "expires" in query or "signature" in query:
        service = file_service()
        verify(
            signing_key(),
            chenyu.content_path(asset_id),
            query.get("expires"),
            query.get("signature"),
            now=service.clock.now(),
        )
    return redirect_to(file_service().content_link(file_id))


@content_router.get(chenyu.CONTENT_PATH, include_in_schema=False)
def asset_content(asset_id: str) -> Response[str]:
    return _content(asset_id)


@content_router.head(chenyu.CONTENT_PATH, include_in_schema=False)
def asset_content_head(asset_id: str) -> Response[str]:
    return _content(asset_id)
