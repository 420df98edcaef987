"""Base64 payloads as DESIGN §3 defines them: a data URI or a bare payload; ASCII whitespace
ignored; the standard or the URL-safe alphabet but not both; padding optional but correct when
present; the decoded size checked from the length before anything is decoded."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from ferry.errors import InvalidRequest

_DATA_URI = re.compile(r"^data:([^,;]*)((?:;[^,;]*)*?);base64,", re.IGNORECASE)
_WHITESPACE = re.compile(r"[ \t\r\n\f\v]+")
_STANDARD = re.compile(r"^[A-Za-z0-9+/]*$")
_URLSAFE = re.compile(r"^[A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Base64Payload:
    text: str  # normalised: whitespace removed, padding stripped
    urlsafe: bool
    declared_type: str | None

    @property
    def decoded_size(self) -> int:
        return len(self.text) * 3 // 4


def parse(data: str) -> Base64Payload:
    """Validate the shape; nothing is decoded yet, so the size can be checked first."""
    declared = None
    match = _DATA_URI.match(data.lstrip())
    if match:
        declared = match.group(1).strip().lower() or None
        data = data.lstrip()[match.end() :]
    elif data.lstrip()[:5].lower() == "data:":
        raise InvalidRequest("A data URI must look like data:<type>;base64,<payload>.", code="invalid_base64")
    text = _WHITESPACE.sub("", data)
    stripped = text.rstrip("=")
    padding = len(text) - len(stripped)
    if not stripped:
        raise InvalidRequest("The base64 payload is empty.", code="invalid_base64")
    standard, urlsafe = bool(_STANDARD.match(stripped)), bool(_URLSAFE.match(stripped))
    if not (standard or urlsafe):
        if "=" in stripped:
            raise InvalidRequest("'=' padding may only appear at the end of the payload.", code="invalid_base64")
        if _STANDARD.match(stripped.replace("-", "").replace("_", "")):
            raise InvalidRequest(
                "The payload mixes the standard (+/) and URL-safe (-_) alphabets.", code="invalid_base64"
            )
        raise InvalidRequest("The payload contains characters that are not base64.", code="invalid_base64")
    if padding and (len(text) % 4 != 0 or padding > 2):
        raise InvalidRequest(
            "The base64 padding is wrong: '=' may only complete the last 4-character group.", code="invalid_base64"
        )
    if len(stripped) % 4 == 1:
        raise InvalidRequest("The base64 payload has a dangling character; it is truncated.", code="invalid_base64")
    return Base64Payload(text=stripped, urlsafe=urlsafe and not standard, declared_type=declared)


def decode(payload: Base64Payload) -> bytes:
    padded = payload.text + "=" * (-len(payload.text) % 4)
    try:
        if payload.urlsafe:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except binascii.Error:
        raise InvalidRequest("The payload is not valid base64.", code="invalid_base64") from None
