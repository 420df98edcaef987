"""API keys: issue, verify and revoke. The plaintext key exists only in the create response."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from ferry.clock import Clock, SystemClock, parse_rfc3339, rfc3339
from ferry.data.keys import KeyRecord, KeyRepository

KEY_PREFIX = "fy_"
_KEY_SHAPE = re.compile(r"^fy_[A-Za-z0-9_-]{43}$")
_BEARER = re.compile(r"^bearer[ \t]+(\S+)[ \t]*$", re.IGNORECASE)


def digest_of(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling, as established by the authorizer."""

    user_id: str
    key_id: str
    quota_bytes: int | None = None


@dataclass(frozen=True)
class IssuedKey:
    api_key: str
    record: KeyRecord


class KeyRejected(Exception):
    """The presented credential is not usable; `reason` is safe to show to the caller."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


REJECTION_MESSAGES = {
    "missing": "Send your API key as 'Authorization: Bearer fy_…'.",
    "malformed": "The Authorization header must be 'Bearer <key>' with a single Ferry key (fy_…).",
    "duplicated": "Send exactly one Authorization header.",
    "unknown": "This API key is not valid. Check it, or ask your administrator for a new one.",
    "revoked": "This API key has been revoked. Ask your administrator for a new one.",
    "expired": "This API key has expired. Ask your administrator for a new one.",
}


def key_from_authorization(header: str | None) -> str:
    """The key in an Authorization header value, or KeyRejected saying what is wrong with it."""
    if header is None or not header.strip():
        raise KeyRejected("missing")
    if "," in header:  # API Gateway joins repeated headers with commas
        raise KeyRejected("duplicated")
    match = _BEARER.match(header.strip())
    if not match or not _KEY_SHAPE.match(match.group(1)):
        raise KeyRejected("malformed")
    return match.group(1)


class KeyService:
    def __init__(self, repository: KeyRepository, clock: Clock | None = None):
        self._repo = repository
        self._clock = clock or SystemClock()

    def issue(self, user_id: str, *, quota_bytes: int | None = None, expires_at: str | None = None) -> IssuedKey:
        if not re.fullmatch(r"[A-Za-z0-9._@-]{1,128}", user_id):
            raise ValueError("user ids are 1-128 characters of letters, digits and . _ @ -")
        if quota_bytes is not None and quota_bytes <= 0:
            raise ValueError("a quota override must be a positive number of bytes")
        if expires_at is not None:
            expires_at = rfc3339(parse_rfc3339(expires_at))
        api_key = KEY_PREFIX + secrets.token_urlsafe(32)
        digest = digest_of(api_key)
        record = KeyRecord(
            digest=digest,
            key_id="key_" + secrets.token_hex(8),
            user_id=user_id,
            status="active",
            created_at=rfc3339(self._clock.now()),
            expires_at=expires_at,
            quota_bytes=quota_bytes,
        )
        self._repo.put(record)
        return IssuedKey(api_key=api_key, record=record)

    def verify(self, api_key: str) -> Principal:
        digest = digest_of(api_key)
        record = self._repo.get(digest)
        if record is None or not hmac.compare_digest(record.digest, digest):
            raise KeyRejected("unknown")
        if record.status != "active":
            raise KeyRejected("revoked")
        if record.expires_at and parse_rfc3339(record.expires_at) <= self._clock.now():
            raise KeyRejected("expired")
        return Principal(user_id=record.user_id, key_id=record.key_id, quota_bytes=record.quota_bytes)

    def revoke(self, user_id: str, key_id: str | None = None) -> list[KeyRecord]:
        """Revoke one key of a user (by key id) or all of them; returns what was revoked."""
        targets = [
            r
            for r in self._repo.list_for_user(user_id)
            if r.status == "active" and (key_id is None or r.key_id == key_id)
        ]
        for record in targets:
            self._repo.set_status(record.digest, "revoked")
        return targets

    def list(self, user_id: str | None = None) -> list[KeyRecord]:
        records = self._repo.list_for_user(user_id) if user_id else self._repo.list_all()
        return sorted(records, key=lambda r: (r.user_id, r.created_at))
