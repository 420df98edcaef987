"""S3 ObjectCreated notifications (delivered through SQS) → FileService.finalize, one record at a time,
with partial batch failures so one bad record never re-runs the others."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from ferry.observability import logger
from ferry.services import file_service


def handle_message(body: str) -> list[str]:
    """Finalize every object named in one SQS message (an S3 event notification); returns outcomes."""
    notification = json.loads(body)
    outcomes = []
    for record in notification.get("Records", []):  # s3:TestEvent messages have none
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        key = unquote_plus(record["s3"]["object"]["key"])
        if not key.startswith("ttl-"):
            continue
        outcome = file_service().finalize(key)
        logger.info("finalized upload", extra={"key": key, "outcome": outcome})
        outcomes.append(outcome)
    return outcomes


def _finalize_record(record: Any) -> list[str]:
    return handle_message(record.body)


def handle_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.SQS)
    response: dict[str, Any] = dict(
        process_partial_response(event=event, record_handler=_finalize_record, processor=processor, context=context)
    )
    return response
