"""Secrets, through Powertools Parameters (cached per container for `max_age` seconds)."""

from __future__ import annotations

import functools
from typing import Any

from ferry import aws

MAX_AGE_SECONDS = 300


@functools.cache
def _provider() -> Any:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=aws.client("secretsmanager"))


def secret_string(secret_id: str) -> str:
    value = _provider().get(secret_id, max_age=MAX_AGE_SECONDS)
    return value.decode() if isinstance(value, bytes) else str(value)


def reset() -> None:
    """Forget the provider and its cache (tests use a fresh mock per case)."""
    _provider.cache_clear()
