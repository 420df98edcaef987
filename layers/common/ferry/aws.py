"""boto3 clients, created lazily once per container and replaceable in tests.

Only `ferry.data` modules call these. boto3 is imported on first use so that a handler module
imports quickly (cold start); the endpoint comes from the standard AWS_ENDPOINT_URL variables,
which is how the local stack points everything at MiniStack.
"""

from __future__ import annotations

import threading
from typing import Any

_clients: dict[str, Any] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    """The container's client for `service` (one instance, even when threads race to create it)."""
    existing = _clients.get(service)
    if existing is not None:
        return existing
    with _lock:
        if service not in _clients:
            import boto3
            from botocore.config import Config

            config = Config(retries={"mode": "standard", "max_attempts": 4})
            if service == "s3":  # presigned URLs and POSTs must be SigV4
                config = config.merge(Config(signature_version="s3v4"))
            _clients[service] = boto3.client(service, config=config)  # type: ignore[call-overload]
        return _clients[service]


def reset_clients() -> None:
    """Forget cached clients (tests start a fresh moto mock per test)."""
    with _lock:
        _clients.clear()


def is_conditional_check_failure(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    return bool(response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")
