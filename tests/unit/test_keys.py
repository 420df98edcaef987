import hashlib
import re

import pytest

from ferry.keys import KEY_PREFIX, REJECTION_MESSAGES, KeyRejected, digest_of, key_from_authorization

KEY = "fy_" + "a1B2-_" * 7 + "x"


def test_sample_key_has_the_documented_shape() -> None:
    assert len(KEY) == 46 and KEY.startswith(KEY_PREFIX)


@pytest.mark.parametrize(
    "header",
    [f"Bearer {KEY}", f"bearer {KEY}", f"BEARER {KEY}", f"Bearer\t{KEY}", f"  Bearer {KEY}  ", f"BeArEr   {KEY}"],
)
def test_bearer_scheme_is_case_insensitive_and_whitespace_tolerant(header: str) -> None:
    assert key_from_authorization(header) == KEY


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("   ", "missing"),
        (KEY, "malformed"),  # no scheme
        (f"Basic {KEY}", "malformed"),
        ("Bearer", "malformed"),
        ("Bearer ", "malformed"),
        ("Bearer fy_short", "malformed"),
        ("Bearer " + KEY + "x", "malformed"),  # 44 characters after the prefix
        ("Bearer sk_" + KEY[3:], "malformed"),  # another vendor's prefix
        ("Bearer fy_" + "a" * 42 + "=", "malformed"),  # not url-safe base64
        (f"Bearer {KEY} extra", "malformed"),
        (f"Bearer {KEY},Bearer {KEY}", "duplicated"),  # API Gateway joined two headers
        (f"Bearer {KEY}, Bearer other", "duplicated"),
    ],
)
def test_unusable_authorization_headers_are_rejected_with_a_reason(header: str | None, reason: str) -> None:
    with pytest.raises(KeyRejected) as caught:
        key_from_authorization(header)
    assert caught.value.reason == reason
    assert caught.value.reason in REJECTION_MESSAGES


def test_digest_is_sha256_hex_of_the_key() -> None:
    assert digest_of(KEY) == hashlib.sha256(KEY.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", digest_of(KEY))


def test_rejection_messages_never_echo_the_key() -> None:
    assert all(KEY not in message for message in REJECTION_MESSAGES.values())
