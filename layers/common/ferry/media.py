"""What a file really is (magic bytes decide) and whether Ferry may store it (DESIGN §3 type policy).

Declared Content-Types, data-URI types and filename extensions are hints only: they are never
trusted for the stored Content-Type. puremagic ranks candidates; the two families it cannot split
(ISO-BMFF: mp4 / quicktime / m4a, and EBML: webm / matroska) are decided from the container's own
brand field.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from dataclasses import dataclass
from typing import Literal

from ferry.errors import InvalidRequest, PayloadTooLarge, UnprocessableContent, UnsupportedMediaType

MediaType = Literal["image", "video", "audio", "file"]
OCTET_STREAM = "application/octet-stream"
SNIFF_BYTES = 4096
MB = 1024 * 1024

EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
    "audio/mp4": "m4a",
    "audio/ogg": "ogg",
    "audio/flac": "flac",
}


@dataclass(frozen=True)
class TypeRule:
    allowed: frozenset[str]
    cap_bytes: int


RULES: dict[str, TypeRule] = {
    "image": TypeRule(frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"}), 20 * MB),
    "video": TypeRule(frozenset({"video/mp4", "video/quicktime", "video/webm"}), 100 * MB),
    "audio": TypeRule(frozenset({"audio/mpeg", "audio/wav", "audio/mp4", "audio/ogg", "audio/flac"}), 100 * MB),
    "file": TypeRule(frozenset(), 100 * MB),  # anything; stored as octet-stream unless a known safe type
}

_ALIASES = {
    "audio/wave": "audio/wav",
    "audio/x-wav": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "application/ogg": "audio/ogg",
    "audio/x-flac": "audio/flac",
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
}
_ACTIVE = re.compile(r"(html|xml|svg|javascript|ecmascript|x-sh|x-php|x-python|x-perl)")
_MARKUP_START = re.compile(rb"^(\xef\xbb\xbf)?\s*<", re.DOTALL)
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"F4A ", b"F4B "}


def _container_type(head: bytes) -> str | None:
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return "video/quicktime"
        return "audio/mp4" if brand in _AUDIO_BRANDS else "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        # EBML DocType element (0x4282) carries "webm" or "matroska".
        return "video/webm" if b"\x42\x82\x84webm" in head[:64] else "video/x-matroska"
    return None


def detect(head: bytes) -> str | None:
    """The detected MIME type of content starting with `head`, or None if nothing is recognised."""
    if not head:
        return None
    container = _container_type(head)
    if container:
        return container
    if _MARKUP_START.match(head[:512]):
        return "text/html"  # markup of any kind is active content
    import puremagic

    try:
        candidates = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        return None
    ranked = sorted((c for c in candidates if c.mime_type), key=lambda c: -c.confidence)
    return _ALIASES.get(ranked[0].mime_type, ranked[0].mime_type) if ranked else None


def is_active(mime: str | None) -> bool:
    return mime is not None and bool(_ACTIVE.search(mime))


@dataclass(frozen=True)
class Verdict:
    mime_type: str
    extension: str


def check_type(media_type: str, detected: str | None) -> Verdict:
    """Enforce the allow-list of `media_type`; returns the Content-Type to store."""
    rule = RULES[media_type]
    if media_type == "file":
        if detected in EXTENSIONS and not is_active(detected):
            return Verdict(detected, EXTENSIONS[detected])
        return Verdict(OCTET_STREAM, "bin")
    if detected not in rule.allowed:
        allowed = ", ".join(sorted(t.split("/")[1] for t in rule.allowed))
        found = f"looks like {detected}" if detected else "is not a recognised format"
        raise UnsupportedMediaType(
            f"This file {found}; media_type '{media_type}' accepts {allowed}. "
            "Send the right media_type, or media_type 'file' for other content."
        )
    return Verdict(detected, EXTENSIONS[detected])


def check_size(media_type: str, size: int, *, inline_cap: int | None = None) -> None:
    if size <= 0:
        raise InvalidRequest("The file is empty.", code="empty_file")
    cap = RULES[media_type].cap_bytes
    if inline_cap is not None and size > inline_cap and inline_cap < cap:
        raise PayloadTooLarge(
            f"Uploads through this route are limited to {inline_cap} bytes (API Gateway and Lambda request "
            f"limits); this one is {size} bytes. Use POST /v1/files/uploads/presign to upload up to {cap} bytes "
            "straight to storage."
        )
    if size > cap:
        raise PayloadTooLarge(f"This {media_type} is {size} bytes; the limit for {media_type} files is {cap} bytes.")


MAX_IMAGE_PIXELS = 50_000_000


def verify_image(data: bytes) -> tuple[int, int]:
    """Decode the image fully (Pillow verify + load under a pixel cap); returns (width, height)."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
            with Image.open(io.BytesIO(data)) as probe:
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                return image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnprocessableContent(
            f"This image decodes to more than {MAX_IMAGE_PIXELS} pixels (a decompression bomb); send a smaller image.",
            code="image_too_many_pixels",
        ) from None
    except Exception:  # Pillow raises many types for truncated or corrupt data
        raise UnprocessableContent(
            "This image is truncated or corrupt and cannot be decoded; re-export it and upload again.",
        ) from None


_UNSAFE_FILENAME_CHARS = re.compile(r"[\x00-\x1f\x7f/\\]")
_BIDI_AND_INVISIBLE = {"Cf"}  # format characters: bidi overrides, zero-width joiners, …


def sanitize_filename(name: str | None, fallback: str) -> str:
    """The original name as harmless metadata: no controls, bidi marks, slashes, leading dots; ≤ 255 bytes."""
    cleaned = "".join(
        ch for ch in unicodedata.normalize("NFC", name or "") if unicodedata.category(ch) not in _BIDI_AND_INVISIBLE
    )
    cleaned = _UNSAFE_FILENAME_CHARS.sub("_", cleaned).strip().lstrip(".").strip()
    encoded = cleaned.encode("utf-8")[:255]
    cleaned = encoded.decode("utf-8", errors="ignore")
    return cleaned or fallback
