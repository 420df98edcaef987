import base64

import pytest

from ferry import inline
from ferry.errors import InvalidRequest

RAW = bytes(range(256)) * 3
STD = base64.b64encode(RAW).decode()
URLSAFE = base64.urlsafe_b64encode(RAW).decode()


@pytest.mark.parametrize(
    ("data", "declared"),
    [
        (STD, None),
        (STD.rstrip("="), None),
        (URLSAFE, None),
        (URLSAFE.rstrip("="), None),
        ("data:image/png;base64," + STD, "image/png"),
        ("DATA:Image/PNG;BASE64," + STD, "image/png"),
        ("data:image/png;name=a.png;base64," + STD, "image/png"),
        ("data:;base64," + STD, None),
        ("\n".join(STD[i : i + 76] for i in range(0, len(STD), 76)), None),  # MIME line breaks
        (" \t" + STD + "\r\n", None),
    ],
)
def test_accepted_forms_decode_to_the_bytes(data: str, declared: str | None) -> None:
    payload = inline.parse(data)
    assert payload.declared_type == declared
    assert inline.decode(payload) == RAW


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        ("", "empty"),
        ("====", "empty"),
        ("QQ=", "padding"),
        ("QUJD=", "padding"),
        ("QQ===", "padding"),
        ("QUJD" + "A", "dangling"),
        ("QU=JD", "'='"),
        ("ab+c-_AA", "mixes"),
        ("QUJD*", "not base64"),
        ("QUJD\x00", "not base64"),
        ("QUJDé", "not base64"),
        ("data:image/png,QUJD", "data:<type>;base64"),
    ],
)
def test_malformed_payloads_are_400_saying_why(data: str, phrase: str) -> None:
    with pytest.raises(InvalidRequest, match=phrase):
        inline.parse(data)


def test_size_is_known_before_decoding() -> None:
    for size in (1, 2, 3, 4, 1000, 1001, 1002):
        encoded = base64.b64encode(b"x" * size).decode()
        assert inline.parse(encoded).decoded_size == size
        assert inline.parse(encoded.rstrip("=")).decoded_size == size
