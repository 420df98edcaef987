"""KIE.AI's three upload routes (ferry.dialects.kie), on the functions of their native siblings:
URL → UploadUrlFunction, base64 → UploadBase64Function, stream → UploadFileFunction."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from ferry import inline
from ferry.api import current_principal
from ferry.data.files import FileRecord
from ferry.data.storage import PART_SIZE
from ferry.dialects import kie
from ferry.dialects.base import DialectRouter, answer_once, infer_media_type
from ferry.files import UploadOptions
from ferry.idempotency import content_digest
from ferry.media import RULES, SNIFF_BYTES, check_size
from ferry.routes.file_objects import fetch_deadline, read_form
from ferry.services import fetch_policy, file_service, named_files

url_router = DialectRouter(kie.ENVELOPES)
base64_router = DialectRouter(kie.ENVELOPES)
stream_router = DialectRouter(kie.ENVELOPES)


def _options(media_type: str, file_name: str | None) -> UploadOptions:
    return UploadOptions(media_type=media_type, purpose=kie.PURPOSE, ttl_hours=kie.TTL_HOURS, filename=file_name)


def _store_named(router: Any, path: str, data: bytes, file_name: str | None) -> FileRecord:
    principal = current_principal(router)
    record = file_service().upload_bytes(principal, data, _options(infer_media_type(data[:SNIFF_BYTES]), file_name))
    named_files().publish(principal, kie.file_path(path, record.filename), record)
    return record


@url_router.post(kie.URL_PATH, summary="KIE.AI: store a copy of a remote file", responses=kie.OK, tags=["KIE.AI"])
def kie_url_upload(body: kie.KieUrlUpload) -> Response[dict[str, Any]]:
    principal = current_principal(url_router)
    path = kie.upload_path(body.uploadPath)
    deadline = fetch_deadline(url_router)

    def transfer() -> FileRecord:
        from ferry.remote import filename_in, open_remote

        media_type = "file"  # any type KIE stores; the bytes still decide the stored Content-Type
        with open_remote(
            body.fileUrl, max_bytes=RULES[media_type].cap_bytes, policy=fetch_policy(), deadline_seconds=deadline
        ) as remote:
            options = _options(media_type, body.fileName or filename_in(remote.final_url))
            record = file_service().upload_stream(
                principal, remote.iter_chunks(PART_SIZE), options, declared_size=remote.content_length
            )
        named_files().publish(principal, kie.file_path(path, record.filename), record)
        return record

    return answer_once(
        url_router,
        dialect="kie",
        digest=content_digest(body.fileUrl, path, body.fileName),
        upload=transfer,
        render=lambda record, base: kie.response(record, path, base),
    )


@base64_router.post(kie.BASE64_PATH, summary="KIE.AI: upload a base64 payload", responses=kie.OK, tags=["KIE.AI"])
def kie_base64_upload(body: kie.KieBase64Upload) -> Response[dict[str, Any]]:
    path = kie.upload_path(body.uploadPath)
    payload = inline.parse(body.base64Data)
    check_size("file", payload.decoded_size, inline_cap=file_service().inline_cap_bytes)  # before decoding
    return answer_once(
        base64_router,
        dialect="kie",
        digest=content_digest(payload.text, path, body.fileName),
        upload=lambda: _store_named(base64_router, path, inline.decode(payload), body.fileName),
        render=lambda record, base: kie.response(record, path, base),
    )


@stream_router.post(kie.STREAM_PATH, summary="KIE.AI: upload a file (multipart)", responses=kie.OK, tags=["KIE.AI"])
def kie_stream_upload() -> Response[dict[str, Any]]:
    fields, part_filename, data = read_form(stream_router, kie.KieStreamForm)
    path = kie.upload_path(fields.uploadPath)
    file_name = fields.fileName or part_filename
    return answer_once(
        stream_router,
        dialect="kie",
        digest=content_digest(data, path, file_name),
        upload=lambda: _store_named(stream_router, path, data, file_name),
        render=lambda record, base: kie.response(record, path, base),
    )
