import pytest
from urllib3 import encode_multipart_formdata

from ferry import multipart
from ferry.errors import InvalidRequest


def encoded(parts: dict[str, object]) -> tuple[bytes, str]:
    return encode_multipart_formdata(parts)  # type: ignore[arg-type]


def test_file_and_fields_are_separated_byte_exact() -> None:
    payload = bytes(range(256)) * 100 + b"\r\n--not-a-boundary\r\n"
    body, content_type = encoded({"purpose": "model_input", "ttl_hours": "24", "file": ("é.png", payload, "image/png")})
    form = multipart.parse(body, content_type)
    assert form.fields == {"purpose": "model_input", "ttl_hours": "24"}
    assert form.file is not None and bytes(form.file.data) == payload
    assert (form.file.filename, form.file.content_type) == ("é.png", "image/png")


def test_missing_file_part_leaves_file_empty() -> None:
    body, content_type = encoded({"purpose": "x"})
    assert multipart.parse(body, content_type).file is None


@pytest.mark.parametrize(
    ("parts", "phrase"),
    [
        ({"file": ("a", b"1", "x/y"), "other": ("b", b"2", "x/y")}, "exactly one file"),
        ({"purpose": "x" * 5000, "file": ("a", b"1", "x/y")}, "longer than"),
        ({f"f{i}": "v" for i in range(20)}, "Too many"),
    ],
)
def test_abusive_forms_are_400(parts: dict[str, object], phrase: str) -> None:
    body, content_type = encoded(parts)
    with pytest.raises(InvalidRequest, match=phrase):
        multipart.parse(body, content_type)


@pytest.mark.parametrize("content_type", [None, "application/json", "multipart/form-data", "text/plain; boundary=x"])
def test_not_multipart_is_400(content_type: str | None) -> None:
    with pytest.raises(InvalidRequest, match="multipart/form-data"):
        multipart.parse(b"whatever", content_type)


def test_malformed_body_is_400() -> None:
    with pytest.raises(InvalidRequest, match="malformed"):
        multipart.parse(b"--b\r\nno headers end", "multipart/form-data; boundary=b")
