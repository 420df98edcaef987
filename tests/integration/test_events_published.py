"""file.* events: from the table's stream (moto) through the publisher to an EventBridge rule."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.conftest import AUTHENTICATED, LambdaContext, http_event, load_function
from tests.integration.test_uploads import PNG, call, upload


@pytest.fixture
def bus_queue(aws: dict[str, str]) -> str:
    """Every event on the Ferry bus, copied to an SQS queue the test can read."""
    events, sqs = boto3.client("events"), boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="ferry-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="all", EventBusName=aws["FERRY_EVENT_BUS_NAME"], EventPattern=json.dumps({"source": ["ferry"]})
    )
    events.put_targets(Rule="all", EventBusName=aws["FERRY_EVENT_BUS_NAME"], Targets=[{"Id": "q", "Arn": queue_arn}])
    return str(queue_url)


def stream_records(table: str) -> list[dict[str, Any]]:
    stream_arn = boto3.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams")
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records += streams.get_records(ShardIterator=iterator)["Records"]
    return records


def received(queue_url: str) -> list[dict[str, Any]]:
    messages = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_upload_then_delete_publish_confirmed_then_deleted(aws: dict[str, str], bus_queue: str) -> None:
    _, created, _ = upload(PNG)
    call("files", http_event("DELETE", f"/v1/files/{created['id']}", authorizer=AUTHENTICATED))
    result = load_function("event_publisher").lambda_handler(
        {"Records": stream_records(aws["FERRY_TABLE_NAME"])}, LambdaContext()
    )
    assert result == {"batchItemFailures": []}
    events = received(bus_queue)
    assert [e["detail-type"] for e in events] == ["file.confirmed", "file.deleted"]
    confirmed, deleted = (e["detail"] for e in events)
    assert confirmed["id"] == created["id"] and confirmed["user_id"] == "alice" and confirmed["size"] == len(PNG)
    assert confirmed["path"] == f"/f/{created['id']}.png" and confirmed["mime_type"] == "image/png"
    assert deleted["reason"] == "deleted"
    assert all(e["source"] == "ferry" for e in events)
    assert "iVBOR" not in json.dumps(events)  # never the file's bytes


def test_quota_and_key_records_publish_nothing(aws: dict[str, str], bus_queue: str) -> None:
    from ferry.services import quota_service

    quota_service().reserve("alice", 10)
    records = stream_records(aws["FERRY_TABLE_NAME"])
    assert records
    result = load_function("event_publisher").lambda_handler({"Records": records}, LambdaContext())
    assert result == {"batchItemFailures": []} and received(bus_queue) == []
