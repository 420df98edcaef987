import pytest

from ferry.errors import InvalidRequest, PayloadTooLarge, UnprocessableContent, UnsupportedMediaType
from ferry.media import MB, OCTET_STREAM, check_size, check_type, detect, sanitize_filename, verify_image
from tests import media_samples as s

PNG, JPEG, WEBP, GIF = (s.image(f) for f in ("PNG", "JPEG", "WEBP", "GIF"))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (WEBP, "image/webp"),
        (GIF, "image/gif"),
        (s.MP4, "video/mp4"),
        (s.MOV, "video/quicktime"),
        (s.M4A, "audio/mp4"),
        (s.WEBM, "video/webm"),
        (s.MKV, "video/x-matroska"),
        (s.MP3, "audio/mpeg"),
        (s.WAV, "audio/wav"),
        (s.OGG, "audio/ogg"),
        (s.FLAC, "audio/flac"),
        (s.SVG, "text/html"),
        (s.HTML, "text/html"),
        (b"\xef\xbb\xbf<html>", "text/html"),
        (s.PDF, "application/pdf"),
        (s.TEXT, None),
        (b"", None),
    ],
)
def test_magic_bytes_decide_the_type(content: bytes, expected: str | None) -> None:
    assert detect(content) == expected


@pytest.mark.parametrize(
    ("media_type", "content", "stored"),
    [
        ("image", PNG, "image/png"),
        ("image", JPEG, "image/jpeg"),
        ("video", s.MP4, "video/mp4"),
        ("video", s.MOV, "video/quicktime"),
        ("video", s.WEBM, "video/webm"),
        ("audio", s.M4A, "audio/mp4"),
        ("audio", s.FLAC, "audio/flac"),
        ("file", s.PDF, OCTET_STREAM),
        ("file", s.HTML, OCTET_STREAM),  # active content is never stored with an active type
        ("file", s.SVG, OCTET_STREAM),
        ("file", s.TEXT, OCTET_STREAM),
        ("file", PNG, "image/png"),
    ],
)
def test_allowed_types_and_the_stored_content_type(media_type: str, content: bytes, stored: str) -> None:
    assert check_type(media_type, detect(content)).mime_type == stored


@pytest.mark.parametrize(
    ("media_type", "content"),
    [
        ("image", s.SVG),
        ("image", s.HTML),
        ("image", s.MP4),
        ("image", s.TEXT),
        ("video", s.MKV),
        ("video", PNG),
        ("audio", s.MP4),
        ("audio", s.PDF),
    ],
)
def test_disallowed_types_are_415(media_type: str, content: bytes) -> None:
    with pytest.raises(UnsupportedMediaType, match=f"media_type '{media_type}'"):
        check_type(media_type, detect(content))


def test_size_caps_per_media_type_and_inline_limit() -> None:
    check_size("image", 20 * MB)
    with pytest.raises(PayloadTooLarge, match=str(20 * MB)):
        check_size("image", 20 * MB + 1)
    check_size("video", 100 * MB)
    with pytest.raises(PayloadTooLarge, match="presign"):
        check_size("video", 5 * MB, inline_cap=4 * MB)
    with pytest.raises(InvalidRequest):
        check_size("image", 0)


def test_images_decode_and_report_dimensions() -> None:
    assert verify_image(s.image("PNG", (640, 480))) == (640, 480)
    assert verify_image(WEBP) == (16, 12)


@pytest.mark.parametrize("damaged", [PNG[: len(PNG) // 2], JPEG[:-40], GIF[:20], PNG[:8] + b"\x00" * 40])
def test_truncated_or_corrupt_images_are_422(damaged: bytes) -> None:
    with pytest.raises(UnprocessableContent):
        verify_image(damaged)


def test_decompression_bombs_are_422() -> None:
    with pytest.raises(UnprocessableContent, match="pixels"):
        verify_image(s.png_bomb())


@pytest.mark.parametrize(
    ("name", "clean"),
    [
        ("reference.png", "reference.png"),
        ("../../etc/passwd", "_.._etc_passwd"),
        ("..hidden", "hidden"),
        ("a\\b/c.png", "a_b_c.png"),
        ("evil\u202egnp.exe", "evilgnp.exe"),  # right-to-left override removed
        ("zero\u200bwidth.png", "zerowidth.png"),
        ("tab\there\n.png", "tab_here_.png"),
        ("", "fallback.bin"),
        (None, "fallback.bin"),
        ("   ", "fallback.bin"),
        ("é" * 200, "é" * 127),  # 255 bytes of UTF-8, never a split character
    ],
)
def test_filenames_are_sanitised(name: str | None, clean: str) -> None:
    assert sanitize_filename(name, "fallback.bin") == clean
