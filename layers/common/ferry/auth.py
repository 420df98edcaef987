"""The Lambda REQUEST authorizer (HTTP API, simple responses).

Every request is allowed through with a context saying who the caller is or why the key was
refused: an HTTP API cannot customise an authorizer's deny response, and Ferry's callers must get a
401 in the documented envelope, which `ferry.api` renders for any route from this context.
"""

from __future__ import annotations

from typing import Any

from ferry.keys import KeyRejected, KeyService, key_from_authorization


def _header(headers: dict[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def authorize(event: dict[str, Any], keys: KeyService) -> dict[str, Any]:
    try:
        principal = keys.verify(key_from_authorization(_header(event.get("headers"), "authorization")))
    except KeyRejected as rejected:
        return {"isAuthorized": True, "context": {"authenticated": "false", "reason": rejected.reason}}
    return {
        "isAuthorized": True,
        "context": {
            "authenticated": "true",
            "user_id": principal.user_id,
            "key_id": principal.key_id,
            "quota_bytes": str(principal.quota_bytes or ""),
        },
    }
