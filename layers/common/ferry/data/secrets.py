"""Secrets read at run time (upstream API keys, the callback signing key), cached per container.

A name starting with "/" is an SSM SecureString parameter; any other name (or ARN) is a Secrets
Manager secret. Values are cached for `max_age` seconds by Powertools Parameters, so a rotated key
is picked up within that time without a deploy. Values are never logged.
"""

from __future__ import annotations

import functools
from typing import Any

from ferry import aws

MAX_AGE_SECONDS = 300


@functools.cache
def _providers() -> tuple[Any, Any]:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider

    return SSMProvider(boto3_client=aws.client("ssm")), SecretsProvider(boto3_client=aws.client("secretsmanager"))


def read_secret(name: str) -> str:
    ssm, secrets = _providers()
    if name.startswith("/"):
        value = ssm.get(name, decrypt=True, max_age=MAX_AGE_SECONDS)
    else:
        value = secrets.get(name, max_age=MAX_AGE_SECONDS)
    if isinstance(value, bytes):
        value = value.decode()
    return str(value).strip()


def reset() -> None:
    """Forget providers and cached values (tests)."""
    _providers.cache_clear()
