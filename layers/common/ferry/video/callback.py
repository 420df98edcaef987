"""Signed task callbacks.

Ferry POSTs the task (the body of GET /v1/video/query) to the task's `callback_url` with::

    X-Ferry-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>

where `body` is the exact request body (UTF-8). A receiver recomputes the HMAC over the raw body it
received with the signing secret (Secrets Manager: `ferry/<stage>/callback-signing`), compares in
constant time (`verify_signature`), and rejects timestamps older than a few minutes (replays).

The URL is user input: it passes the same SSRF policy as URL uploads (vetted, resolved once, every
address public unless a deployment allows its network, connection pinned to the vetted address, no
redirects followed).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import time
from typing import Any

from ferry.remote import Deadline, FetchPolicy, PinnedAddressAdapter, vet_url

SIGNATURE_HEADER = "X-Ferry-Signature"
TIMEOUT_SECONDS = 10.0
TOLERANCE_SECONDS = 300


def sign(secret: str, body: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    secret: str, body: str, header: str, *, now: float | None = None, tolerance: int = TOLERANCE_SECONDS
) -> bool:
    """What a receiver does: True when `header` signs `body` with `secret` within `tolerance` seconds."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


class CallbackFailed(Exception):
    """The receiver could not be reached or did not answer 2xx (the workflow retries a few times)."""


def deliver(url: str, payload: dict[str, Any], *, secret: str, policy: FetchPolicy, now: float | None = None) -> int:
    """POST `payload` to `url` under the SSRF policy; the receiver's status, or CallbackFailed."""
    import requests

    body = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    timestamp = int(time.time() if now is None else now)
    deadline = Deadline(TIMEOUT_SECONDS)
    adapter = PinnedAddressAdapter(deadline)
    session = requests.Session()
    session.trust_env = False
    try:
        vetted = vet_url(url, policy, timeout=deadline.remaining())
        request = requests.Request(
            "POST",
            vetted.url,
            data=body.encode(),
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Ferry/0.1 (+video-callback)",
                SIGNATURE_HEADER: sign(secret, body, timestamp),
            },
        ).prepare()
        address = vetted.addresses[0]
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        adapter.pin(vetted.scheme, vetted.host, vetted.port, address)
        left = deadline.remaining()
        response = adapter.send(request, timeout=(left, left), verify=True, proxies={})
        status = int(response.status_code)
        response.close()
    except CallbackFailed:
        raise
    except Exception as exc:  # network, TLS, policy: all mean "not delivered"
        raise CallbackFailed(f"The callback to {url!r} was not delivered ({type(exc).__name__}).") from None
    finally:
        adapter.close()
        session.close()
        deadline.cancel()
    if not 200 <= status < 300:
        raise CallbackFailed(f"The callback receiver answered HTTP {status}.")
    return status
