"""Idempotency-Key on POST routes (DESIGN §2), with Powertools Idempotency.

The record is keyed by (user, Idempotency-Key) and validated against a digest of what the request
means (the file's bytes and options, not the multipart boundary), so the same key and content
within 24 h returns the first response and charges quota once, while the same key with different
content is a 409 rather than a silent replay of something else.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from ferry import aws
from ferry.errors import Conflict, InvalidRequest
from ferry.settings import get_settings

_KEY_SHAPE = re.compile(r"^[\x21-\x7e]{1,255}$")
WINDOW_SECONDS = 24 * 3600


def idempotency_key(headers: dict[str, str]) -> str | None:
    value = next((v for k, v in headers.items() if k.lower() == "idempotency-key"), None)
    if value is None:
        return None
    if not _KEY_SHAPE.match(value.strip()):
        raise InvalidRequest("Idempotency-Key must be 1-255 visible ASCII characters (a UUID is a good choice).")
    return value.strip()


def content_digest(*parts: bytes | str | int | None) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode()
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def run_once(
    *, user_id: str, key: str | None, digest: str, operation: Callable[[], dict[str, Any]], lambda_context: Any = None
) -> dict[str, Any]:
    """Run `operation`, or return what it returned the first time this user sent this key."""
    if key is None:
        return operation()
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    persistence = DynamoDBPersistenceLayer(
        table_name=get_settings().idempotency_table_name, boto3_client=aws.client("dynamodb")
    )
    config = IdempotencyConfig(
        event_key_jmespath="[user_id, key]",
        payload_validation_jmespath="digest",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=WINDOW_SECONDS,
        hash_function="sha256",
    )
    if lambda_context is not None and hasattr(lambda_context, "get_remaining_time_in_millis"):
        config.register_lambda_context(lambda_context)

    @idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=config)
    def once(request: dict[str, str]) -> dict[str, Any]:
        return operation()

    try:
        result: dict[str, Any] = once(request={"user_id": user_id, "key": key, "digest": digest})
        return result
    except IdempotencyValidationError:
        raise Conflict(
            "This Idempotency-Key was already used with a different request; use a new key for a new request.",
            code="idempotency_key_reused",
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict(
            "A request with this Idempotency-Key is still being processed; retry in a few seconds.",
            code="idempotency_in_progress",
        ) from None
