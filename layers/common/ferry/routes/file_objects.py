"""The file object every files route returns (DESIGN §3: Crazyrouter's fields plus Ferry's), and
the upload options the three upload routes share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, Field, ValidationError

from ferry import multipart
from ferry.api import current_principal
from ferry.data.files import FileRecord
from ferry.errors import InvalidRequest
from ferry.files import TTL_HOURS_MAX, TTL_HOURS_MIN, UploadOptions
from ferry.idempotency import idempotency_key, run_once
from ferry.settings import get_settings

MediaTypeName = Literal["image", "video", "audio", "file"]
PURPOSE_PATTERN = r"^[a-z0-9_.-]{1,64}$"
Purpose = Field("model_input", pattern=PURPOSE_PATTERN, description="what the file is for")
TtlHours = Field(72, ge=TTL_HOURS_MIN, le=TTL_HOURS_MAX, description="hours until the URL stops working")
Filename = Field(None, max_length=1024, description="original name; metadata only")


class FileObject(BaseModel):
    id: str
    url: str
    mime_type: str
    size: int
    expires_at: str
    created_at: str
    filename: str
    purpose: str
    media_type: str
    status: str
    sha256: str
    width: int | None = None
    height: int | None = None
    reason: str | None = None


CREATED: dict[int, Any] = {201: {"description": "Stored", "content": {"application/json": {"model": FileObject}}}}


def delivery_base(headers: dict[str, str]) -> str:
    """Where /f/<name> is served: configured, or this API's own origin as the caller reached it."""
    configured = get_settings().delivery_base_url
    if configured:
        return configured
    lowered = {k.lower(): v for k, v in headers.items()}
    host = lowered.get("x-forwarded-host") or lowered.get("host", "")
    proto = lowered.get("x-forwarded-proto") or ("http" if host.split(":")[0].endswith("localhost") else "https")
    return f"{proto}://{host}"


def delivery_url(record: FileRecord, base_url: str) -> str:
    """Production: the CloudFront URL of the object (its path carries the expiry the edge enforces).
    Without a CDN (the local stack): this API's own GET /f/{name}."""
    cdn = get_settings().cdn_domain
    if cdn:
        return f"https://{cdn}/{record.key}"
    return f"{base_url}/f/{record.id}.{record.extension}"


def file_object(record: FileRecord, base_url: str) -> dict[str, Any]:
    body = FileObject(
        id=record.id,
        url=delivery_url(record, base_url),
        mime_type=record.mime_type,
        size=record.size,
        expires_at=record.expires_at,
        created_at=record.created_at,
        filename=record.filename,
        purpose=record.purpose,
        media_type=record.media_type,
        status=record.status,
        sha256=record.sha256,
        width=record.width,
        height=record.height,
        reason=record.reason,
    )
    return body.model_dump(exclude_none=True)


def created(body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(status_code=201, content_type="application/json", body=body)


def store_once(router: Any, digest: str, upload: Callable[[], FileRecord]) -> Response[dict[str, Any]]:
    """Run an upload under the request's Idempotency-Key (if any) and answer 201 with the file object."""
    headers = router.current_event.headers
    principal = current_principal(router)
    body = run_once(
        user_id=principal.user_id,
        key=idempotency_key(headers),
        digest=digest,
        operation=lambda: file_object(upload(), delivery_base(headers)),
        lambda_context=getattr(router, "lambda_context", None),
    )
    return created(body)


def options(media_type: str, purpose: str, ttl_hours: int, filename: str | None) -> UploadOptions:
    return UploadOptions(media_type=media_type, purpose=purpose, ttl_hours=ttl_hours, filename=filename)


Form = TypeVar("Form", bound=BaseModel)


def read_form(router: Any, model: type[Form]) -> tuple[Form, str | None, bytes]:
    """A multipart/form-data body: the fields beside `file` (validated by `model`), the file part's
    own filename and its bytes (one copy of the file at a time, as the native route)."""
    event = router.current_event
    body = multipart.body_bytes(event.body, bool(event.is_base64_encoded))
    form = multipart.parse(body, event.headers.get("content-type") or event.headers.get("Content-Type"))
    del body
    if form.file is None:
        raise InvalidRequest("Missing the 'file' part: send the file as multipart/form-data (-F file=@name.png).")
    try:
        fields = model.model_validate(form.fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        field_name = ".".join(str(p) for p in error["loc"]) or "form"
        raise InvalidRequest(f"Invalid '{field_name}': {error['msg']}.") from None
    data = bytes(form.file.data)
    form.file.data.clear()
    return fields, form.file.filename, data


LAMBDA_MARGIN_SECONDS = 4.0  # time kept back to finish the S3 upload and the record after a fetch


def fetch_deadline(router: Any) -> float | None:
    """Seconds a server-side fetch may take in this invocation: what the Lambda has left, minus a
    margin to store what was fetched (None outside Lambda)."""
    context = getattr(router, "lambda_context", None)
    if context is None or not hasattr(context, "get_remaining_time_in_millis"):
        return None
    return max(1.0, float(context.get_remaining_time_in_millis()) / 1000 - LAMBDA_MARGIN_SECONDS)
