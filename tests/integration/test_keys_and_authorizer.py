"""API keys end to end in-process: issue → authorizer context → revoke/expire."""

from __future__ import annotations

import hashlib
from typing import Any

import boto3
import pytest

from ferry.auth import authorize
from ferry.data.keys import KeyRepository
from ferry.keys import KeyRejected, KeyService
from tests.conftest import FrozenClock, load_event


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def keys(aws: dict[str, str], clock: FrozenClock) -> KeyService:
    return KeyService(KeyRepository(aws["FERRY_TABLE_NAME"]), clock)


def authorizer_event(api_key: str) -> dict[str, Any]:
    event = load_event("authorizer/valid_key.json")
    event["headers"]["authorization"] = f"Bearer {api_key}"
    return event


def test_only_the_digest_is_stored(keys: KeyService, aws: dict[str, str]) -> None:
    issued = keys.issue("alice")
    items = boto3.client("dynamodb").scan(TableName=aws["FERRY_TABLE_NAME"])["Items"]
    assert len(items) == 1
    assert issued.api_key not in repr(items)
    assert items[0]["digest"]["S"] == hashlib.sha256(issued.api_key.encode()).hexdigest()


def test_issued_keys_are_unique_and_well_formed(keys: KeyService) -> None:
    issued = {keys.issue("alice").api_key for _ in range(20)}
    assert len(issued) == 20
    assert all(k.startswith("fy_") and len(k) == 46 for k in issued)


def test_valid_key_yields_the_caller_context(keys: KeyService) -> None:
    issued = keys.issue("alice", quota_bytes=1_048_576)
    response = authorize(authorizer_event(issued.api_key), keys)
    assert response == {
        "isAuthorized": True,
        "context": {
            "authenticated": "true",
            "user_id": "alice",
            "key_id": issued.record.key_id,
            "quota_bytes": "1048576",
        },
    }


def test_revoked_key_is_refused(keys: KeyService) -> None:
    issued = keys.issue("alice")
    other = keys.issue("alice")
    revoked = keys.revoke("alice", issued.record.key_id)
    assert [r.key_id for r in revoked] == [issued.record.key_id]
    assert authorize(authorizer_event(issued.api_key), keys)["context"] == {
        "authenticated": "false",
        "reason": "revoked",
    }
    assert authorize(authorizer_event(other.api_key), keys)["context"]["authenticated"] == "true"


def test_revoke_without_key_id_revokes_all_of_a_users_keys(keys: KeyService) -> None:
    a, b = keys.issue("alice"), keys.issue("alice")
    bob = keys.issue("bob")
    assert len(keys.revoke("alice")) == 2
    for issued in (a, b):
        with pytest.raises(KeyRejected, match="revoked"):
            keys.verify(issued.api_key)
    assert keys.verify(bob.api_key).user_id == "bob"


def test_key_expires_at_its_expiry(keys: KeyService, clock: FrozenClock) -> None:
    issued = keys.issue("alice", expires_at="2026-11-21T13:00:00Z")
    assert keys.verify(issued.api_key).user_id == "alice"
    clock.advance(3600)
    with pytest.raises(KeyRejected, match="expired"):
        keys.verify(issued.api_key)


def test_unknown_key_is_refused(keys: KeyService) -> None:
    with pytest.raises(KeyRejected, match="unknown"):
        keys.verify("fy_" + "Z" * 43)


@pytest.mark.parametrize("user", ["", "a b", "x" * 129, "alice/../bob"])
def test_user_ids_are_validated(keys: KeyService, user: str) -> None:
    with pytest.raises(ValueError):
        keys.issue(user)


def test_listing_never_includes_secrets(keys: KeyService) -> None:
    keys.issue("alice")
    keys.issue("bob")
    listed = keys.list()
    assert [r.user_id for r in listed] == ["alice", "bob"]
    assert [r.user_id for r in keys.list("bob")] == ["bob"]
