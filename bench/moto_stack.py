"""An in-process stack for benchmarks: moto with the template's tables, bucket and bus, and the
functions' environment. Handlers are imported after the mock starts (moto's rule)."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "FERRY_STAGE": "bench",
    "FERRY_TABLE_NAME": "ferry-bench",
    "FERRY_IDEMPOTENCY_TABLE_NAME": "ferry-bench-idempotency",
    "FERRY_BUCKET_NAME": "ferry-bench-media",
    "FERRY_EVENT_BUS_NAME": "ferry-bench",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
}


@contextmanager
def moto_stack() -> Iterator[None]:
    import boto3
    from cfnlint.decode import decode
    from moto import mock_aws

    os.environ.update(ENV)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    template, _ = decode(str(ROOT / "template.yaml"))
    assert template is not None
    with mock_aws():
        for logical_id, name in (
            ("Table", ENV["FERRY_TABLE_NAME"]),
            ("IdempotencyTable", ENV["FERRY_IDEMPOTENCY_TABLE_NAME"]),
        ):
            props = template["Resources"][logical_id]["Properties"]
            boto3.client("dynamodb").create_table(
                TableName=name,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=props["AttributeDefinitions"],
                KeySchema=props["KeySchema"],
                **(
                    {"GlobalSecondaryIndexes": props["GlobalSecondaryIndexes"]}
                    if "GlobalSecondaryIndexes" in props
                    else {}
                ),
            )
        boto3.client("s3").create_bucket(Bucket=ENV["FERRY_BUCKET_NAME"])
        from ferry import aws, services

        aws.reset_clients()
        services.reset()
        yield


def load_function(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_fn_{name}", ROOT / "functions" / name / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Context:
    function_name = "bench"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench-request"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 29_000


def http_event(
    method: str,
    path: str,
    *,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    base64_body: bool = False,
    authenticated: bool = True,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "api.ferry.example", **(headers or {})},
        "requestContext": {
            "http": {
                "method": method,
                "path": path,
                "sourceIp": "203.0.113.1",
                "protocol": "HTTP/1.1",
                "userAgent": "b",
            },
            "requestId": "bench",
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "timeEpoch": 0,
            "accountId": "1",
            "apiId": "a",
            "domainName": "api.ferry.example",
            "domainPrefix": "api",
        },
        "isBase64Encoded": base64_body,
    }
    if authenticated:
        event["requestContext"]["authorizer"] = {
            "lambda": {"authenticated": "true", "user_id": "bench", "key_id": "k", "quota_bytes": ""}
        }
    if body is not None:
        event["body"] = body
    return event
