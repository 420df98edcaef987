"""Signed asset URLs (the Chenyu dialect's `signed_url`): `?expires=<unix seconds>&signature=<hex>`
where signature = HMAC-SHA256(key, "<path>\\n<expires>"). The key is derived from a secret kept in
Secrets Manager (read through Powertools Parameters, cached for 5 minutes), never from the template,
and is the same for every function that signs or verifies."""

from __future__ import annotations

import hashlib
import hmac

from ferry.errors import Gone, PermissionDenied

_KEY_CONTEXT = b"ferry/signed-asset-url/v1"


def derive_key(secret: str) -> bytes:
    """A key for this one purpose, so the secret could serve others without reuse."""
    return hmac.new(secret.encode(), _KEY_CONTEXT, hashlib.sha256).digest()


def signature(key: bytes, path: str, expires: int) -> str:
    return hmac.new(key, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()


def signed_query(key: bytes, path: str, expires: int) -> str:
    return f"expires={expires}&signature={signature(key, path, expires)}"


def verify(key: bytes, path: str, expires: str | None, given: str | None, *, now: float) -> None:
    """Refuse a signed link that is incomplete or altered (403) or past its `expires` (410)."""
    if not expires or not given:
        raise PermissionDenied(
            "A signed link needs both 'expires' and 'signature'; use the signed_url exactly as it was returned.",
            code="invalid_signature",
        )
    if not expires.isdigit() or len(expires) > 12:
        raise PermissionDenied("The link's 'expires' is not a unix time.", code="invalid_signature")
    if not hmac.compare_digest(signature(key, path, int(expires)), given.lower()):
        raise PermissionDenied(
            "The link's signature does not match; it was altered or truncated.", code="invalid_signature"
        )
    if now >= int(expires):
        raise Gone("This signed link expired; upload the asset again for a new one.", code="signature_expired")
