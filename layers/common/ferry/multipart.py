"""multipart/form-data bodies for the file upload route, parsed with python-multipart's streaming
parser into a single buffer: the file's bytes are copied once, where splitting the body would copy
it several times (the inline upload's memory target is 3× the file)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from ferry.errors import InvalidRequest

MAX_FIELDS = 16
MAX_FIELD_BYTES = 4096


@dataclass
class FilePart:
    filename: str | None
    content_type: str | None
    data: bytearray = field(default_factory=bytearray)


@dataclass
class _Part:
    header_name: bytes = b""
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    sink: bytearray = field(default_factory=bytearray)
    is_file: bool = False


@dataclass
class Form:
    fields: dict[str, str]
    file: FilePart | None


def body_bytes(body: str | None, is_base64: bool) -> bytes:
    if not body:
        return b""
    return base64.b64decode(body) if is_base64 else body.encode("latin-1")


def parse(body: bytes, content_type: str | None, *, file_field: str = "file") -> Form:
    from python_multipart.multipart import MultipartParser, parse_options_header

    kind, params = parse_options_header(content_type or "")
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise InvalidRequest("Send the file as multipart/form-data with a 'file' part (curl -F file=@name.png).")

    fields: dict[str, str] = {}
    upload: FilePart | None = None
    part = _Part()

    def on_part_begin() -> None:
        nonlocal part
        part = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        part.header_name += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        name = part.header_name.lower()
        part.headers[name] = part.headers.get(name, b"") + data[start:end]

    def on_header_end() -> None:
        part.header_name = b""

    def on_headers_finished() -> None:
        nonlocal upload
        _, disposition = parse_options_header(part.headers.get(b"content-disposition", b""))
        part.name = disposition.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in disposition or part.name == file_field:
            if part.name != file_field or upload is not None:
                raise InvalidRequest(f"Send exactly one file, in a part named '{file_field}'.")
            upload = FilePart(
                filename=disposition.get(b"filename", b"").decode("utf-8", "replace") or None,
                content_type=part.headers.get(b"content-type", b"").decode("latin-1") or None,
            )
            part.sink, part.is_file = upload.data, True
        elif len(fields) >= MAX_FIELDS:
            raise InvalidRequest("Too many form fields.")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if not part.is_file and len(part.sink) + end - start > MAX_FIELD_BYTES:
            raise InvalidRequest(f"Form field '{part.name}' is longer than {MAX_FIELD_BYTES} bytes.")
        part.sink += memoryview(data)[start:end]

    def on_part_end() -> None:
        if not part.is_file:
            fields[part.name] = part.sink.decode("utf-8", "replace")

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except InvalidRequest:
        raise
    except Exception:
        raise InvalidRequest("The multipart/form-data body is malformed.") from None
    return Form(fields=fields, file=upload)
