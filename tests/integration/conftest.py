"""Integration tests run handlers in-process against moto, with resources built from template.yaml."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from tests.conftest import load_template


def template_resource(logical_id: str) -> dict[str, Any]:
    return dict(load_template()["Resources"][logical_id]["Properties"])


_ITEM_WRITES = ("put_item", "update_item", "delete_item", "get_item", "transact_write_items")


@pytest.fixture
def item_level_atomicity(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies each single-item write atomically (condition check and update together);
    moto checks and applies in two unlocked steps, so concurrent tests could see races that real
    DynamoDB never allows. Serialise moto's item operations to restore that guarantee. Code that
    reads, then writes in a second call is still exposed to races, so tests can still catch it."""
    lock = threading.RLock()
    for name in _ITEM_WRITES:
        original = getattr(DynamoDBBackend, name)

        def serialised(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return __original(*args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, serialised)


@pytest.fixture
def aws(ferry_env: dict[str, str], item_level_atomicity: None) -> Iterator[dict[str, str]]:
    """moto with the template's table, named as the functions' environment says."""
    with mock_aws():
        table = template_resource("Table")
        boto3.client("dynamodb").create_table(
            TableName=ferry_env["FERRY_TABLE_NAME"],
            BillingMode=table["BillingMode"],
            AttributeDefinitions=table["AttributeDefinitions"],
            KeySchema=table["KeySchema"],
            GlobalSecondaryIndexes=table["GlobalSecondaryIndexes"],
            StreamSpecification={"StreamEnabled": True, **table["StreamSpecification"]},
        )
        idempotency = template_resource("IdempotencyTable")
        boto3.client("dynamodb").create_table(
            TableName=ferry_env["FERRY_IDEMPOTENCY_TABLE_NAME"],
            BillingMode=idempotency["BillingMode"],
            AttributeDefinitions=idempotency["AttributeDefinitions"],
            KeySchema=idempotency["KeySchema"],
        )
        boto3.client("s3").create_bucket(Bucket=ferry_env["FERRY_BUCKET_NAME"])
        boto3.client("events").create_event_bus(Name=ferry_env["FERRY_EVENT_BUS_NAME"])
        yield ferry_env
