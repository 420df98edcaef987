"""boto3 clients, created lazily once per container and replaceable in tests.

Only `ferry.data` modules call these. boto3 is imported on first use so that a handler module
imports quickly (cold start); the endpoint comes from the standard AWS_ENDPOINT_URL variables,
which is how the local stack points everything at MiniStack.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 4}))


def reset_clients() -> None:
    """Forget cached clients (tests start a fresh moto mock per test)."""
    client.cache_clear()
