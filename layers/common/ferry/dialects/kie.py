"""KIE.AI's file upload API (seed 002): /api/file-url-upload, /api/file-base64-upload,
/api/file-stream-upload.

Request: `uploadPath` (a folder of the caller's own namespace) and `fileName`; the same fileName in
the same uploadPath of the same user replaces the earlier file (ferry.named). Files live 3 days.
Answer: `{"success": true, "code": 200, "msg", "data": {fileName, filePath, downloadUrl, fileSize,
mimeType, uploadedAt}}`; errors: `{"success": false, "code": <HTTP status>, "msg"}` with the same
HTTP status (5xx add `request_id`).

uploadPath rules: surrounding whitespace and slashes at the end are dropped, runs of `/` collapse
to one and `.` segments vanish; a leading `/` (absolute), a drive letter (`C:`), `..` segments,
backslashes, control and invisible format characters, and more than 512 bytes are refused (400).
An empty uploadPath is the root of the caller's namespace (filePath = fileName).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pydantic import BaseModel, Field

from ferry.data.files import FileRecord
from ferry.errors import FerryError, InvalidRequest
from ferry.routes.file_objects import delivery_url

TTL_HOURS = 72
PURPOSE = "model_input"
MAX_UPLOAD_PATH_BYTES = 512
URL_PATH, BASE64_PATH, STREAM_PATH = "/api/file-url-upload", "/api/file-base64-upload", "/api/file-stream-upload"
SUCCESS_MESSAGE = "File uploaded successfully"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")


def upload_path(raw: str | None) -> str:
    """The sanitized uploadPath (see the module docstring for the rules)."""
    text = (raw or "").strip()
    if "\\" in text:
        raise InvalidRequest(
            "uploadPath must not contain backslashes; separate folders with '/'.", code="invalid_upload_path"
        )
    if _CONTROL.search(text) or any(unicodedata.category(ch) == "Cf" for ch in text):
        raise InvalidRequest("uploadPath must not contain control or invisible characters.", code="invalid_upload_path")
    if text.startswith("/") or _DRIVE.match(text):
        raise InvalidRequest(
            "uploadPath must be relative (for example images/user-uploads), not an absolute path.",
            code="invalid_upload_path",
        )
    segments = [s for s in text.split("/") if s not in ("", ".")]
    if ".." in segments:
        raise InvalidRequest("uploadPath must not contain '..' segments.", code="invalid_upload_path")
    path = "/".join(segments)
    if len(path.encode()) > MAX_UPLOAD_PATH_BYTES:
        raise InvalidRequest(f"uploadPath is longer than {MAX_UPLOAD_PATH_BYTES} bytes.", code="invalid_upload_path")
    return path


def file_path(path: str, file_name: str) -> str:
    return f"{path}/{file_name}" if path else file_name


def uploaded_at(created_at: str) -> str:
    """KIE's documented timestamp form: RFC 3339 UTC with milliseconds (2025-01-01T12:00:00.000Z)."""
    return created_at[:-1] + ".000Z" if created_at.endswith("Z") and "." not in created_at else created_at


class KieUrlUpload(BaseModel):
    fileUrl: str = Field(max_length=4096, description="http(s) URL Ferry fetches (public addresses only)")
    uploadPath: str | None = Field(None, max_length=1024, description="folder in your namespace")
    fileName: str | None = Field(None, max_length=1024, description="same name in the same folder replaces")


class KieBase64Upload(BaseModel):
    base64Data: str = Field(description="a data URI (data:<type>;base64,…) or a bare base64 payload")
    uploadPath: str | None = Field(None, max_length=1024, description="folder in your namespace")
    fileName: str | None = Field(None, max_length=1024, description="same name in the same folder replaces")


class KieStreamForm(BaseModel):
    uploadPath: str | None = Field(None, max_length=1024)
    fileName: str | None = Field(None, max_length=1024)


class KieFile(BaseModel):
    fileName: str
    filePath: str
    downloadUrl: str
    fileSize: int
    mimeType: str
    uploadedAt: str


class KieResponse(BaseModel):
    success: bool
    code: int
    msg: str
    data: KieFile


class KieError(BaseModel):
    success: bool = False
    code: int
    msg: str
    request_id: str | None = None


OK: dict[int, Any] = {200: {"description": "Stored", "content": {"application/json": {"model": KieResponse}}}}


def response(record: FileRecord, path: str, base_url: str) -> dict[str, Any]:
    data = KieFile(
        fileName=record.filename,
        filePath=file_path(path, record.filename),
        downloadUrl=delivery_url(record, base_url),
        fileSize=record.size,
        mimeType=record.mime_type,
        uploadedAt=uploaded_at(record.created_at),
    )
    return KieResponse(success=True, code=200, msg=SUCCESS_MESSAGE, data=data).model_dump()


def error_envelope(exc: FerryError, request_id: str | None) -> dict[str, Any]:
    return KieError(code=exc.status, msg=exc.message, request_id=request_id).model_dump(exclude_none=True)


ENVELOPES = {URL_PATH: error_envelope, BASE64_PATH: error_envelope, STREAM_PATH: error_envelope}
