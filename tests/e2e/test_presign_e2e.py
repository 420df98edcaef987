"""Presigned uploads through the deployed stack (DESIGN §3, §4): a real multipart POST straight to the
stack's S3, the S3 → SQS notification, the finalize function, the sweeper, and the quota at each step.
Also reads the bucket's lifecycle rules back and checks every TTL class has one."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from ferry.files import ttl_class_days
from tests.e2e.conftest import PRESIGN_WINDOW_SECONDS
from tests.e2e.harness import E2EStack
from tests.e2e.test_upload_delivery import png

pytestmark = pytest.mark.e2e

HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>\n"


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, interval: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def presign(stack: E2EStack, key: str, size: int, **fields: Any) -> dict[str, Any]:
    body = {"filename": "frame.png", "mime_type": "image/png", "size": size, "media_type": "image", **fields}
    response = stack.http.post(
        f"{stack.base_url}/v1/files/uploads/presign", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    assert response.status_code == 201, response.text
    file: dict[str, Any] = response.json()
    assert file["status"] == "pending"
    return file


def post_to_s3(upload: dict[str, Any], content: bytes) -> requests.Response:
    """The form a browser or `curl -F` sends: the policy fields first, the file last."""
    assert upload["method"] == "POST"
    return requests.post(upload["url"], data=upload["fields"], files={"file": ("frame.png", content)}, timeout=30)


def file_status(stack: E2EStack, key: str, file_id: str) -> dict[str, Any]:
    response = stack.get(f"/v1/files/{file_id}", key=key)
    assert response.status_code == 200, response.text
    file: dict[str, Any] = response.json()
    return file


def settled(stack: E2EStack, key: str, file_id: str) -> dict[str, Any]:
    file: dict[str, Any] = wait_for(
        lambda: (f := file_status(stack, key, file_id))["status"] != "pending" and f, timeout=45
    )
    assert file, f"{file_id} was still pending after 45 s: the S3 event never reached the finalizer"
    return file


def used_bytes(stack: E2EStack, key: str) -> int:
    return int(stack.get("/v1/quota", key=key).json()["used_bytes"])


def test_a_good_image_posted_to_s3_is_confirmed_settled_and_delivered(stack: E2EStack) -> None:
    key = stack.create_key()[0]
    content = png(5, 4)
    file = presign(stack, key, size=50_000)
    assert used_bytes(stack, key) == 50_000  # the declared size is held while the upload is awaited

    response = post_to_s3(file["upload"], content)
    assert response.status_code in (200, 201, 204), response.text

    confirmed = settled(stack, key, file["id"])
    assert confirmed["status"] == "confirmed", confirmed
    assert (confirmed["size"], confirmed["mime_type"], confirmed["width"], confirmed["height"]) == (
        len(content),
        "image/png",
        5,
        4,
    )
    assert used_bytes(stack, key) == len(content)  # settled to the real size

    name = file["url"].rsplit("/", 1)[1]
    delivery = stack.get(f"/f/{name}")
    assert delivery.status_code == 302, delivery.text
    fetched = requests.get(delivery.headers["Location"], timeout=30)
    assert fetched.status_code == 200
    assert (fetched.headers["Content-Type"], fetched.content) == ("image/png", content)


def test_a_body_over_the_declared_size_is_refused_by_s3(stack: E2EStack) -> None:
    key = stack.create_key()[0]
    content = png(5, 4)
    file = presign(stack, key, size=len(content) - 1)

    response = post_to_s3(file["upload"], content)
    assert response.status_code == 400, response.text
    assert "EntityTooLarge" in response.text
    assert (
        stack.aws("s3")
        .list_objects_v2(
            Bucket=stack.deployment.bucket_name if stack.deployment else "", Prefix=file["upload"]["fields"]["key"]
        )
        .get("KeyCount", 0)
        == 0
    )
    assert file_status(stack, key, file["id"])["status"] == "pending"  # nothing arrived (yet)


def test_html_declared_as_png_is_rejected_and_refunded(stack: E2EStack) -> None:
    key = stack.create_key()[0]
    file = presign(stack, key, size=10_000)
    assert used_bytes(stack, key) == 10_000

    response = post_to_s3(file["upload"], HTML)  # the policy pins Content-Type image/png; S3 takes it
    assert response.status_code in (200, 201, 204), response.text

    rejected = settled(stack, key, file["id"])
    assert rejected["status"] == "rejected", rejected
    assert used_bytes(stack, key) == 0
    assert stack.deployment is not None
    objects = stack.aws("s3").list_objects_v2(
        Bucket=stack.deployment.bucket_name, Prefix=file["upload"]["fields"]["key"]
    )
    assert objects.get("KeyCount", 0) == 0  # the stored bytes are deleted
    name = file["url"].rsplit("/", 1)[1]
    assert stack.get(f"/f/{name}").status_code == 404


def invoke_sweeper(stack: E2EStack) -> dict[str, int]:
    assert stack.deployment is not None
    function = stack.aws("cloudformation").describe_stack_resource(
        StackName=stack.deployment.stack_name, LogicalResourceId="SweeperFunction"
    )["StackResourceDetail"]["PhysicalResourceId"]
    result = stack.aws("lambda").invoke(FunctionName=function, Payload=b"{}")
    payload = json.loads(result["Payload"].read() or b"null")
    assert "FunctionError" not in result, payload
    outcomes: dict[str, int] = payload
    return outcomes


def test_an_abandoned_presign_frees_its_quota_once_its_window_closes(stack: E2EStack) -> None:
    key = stack.create_key()[0]
    file = presign(stack, key, size=30_000)
    assert used_bytes(stack, key) == 30_000

    invoke_sweeper(stack)  # the window is still open: nothing to release yet
    assert file_status(stack, key, file["id"])["status"] == "pending"
    assert used_bytes(stack, key) == 30_000

    # The e2e stack is deployed with a short window and no grace (conftest.py).
    time.sleep(PRESIGN_WINDOW_SECONDS + 1)
    outcomes = invoke_sweeper(stack)
    assert outcomes.get("abandoned", 0) >= 1, outcomes
    released = file_status(stack, key, file["id"])
    assert released["status"] == "rejected", released
    assert used_bytes(stack, key) == 0


def test_every_ttl_class_has_a_lifecycle_rule_on_the_deployed_bucket(stack: E2EStack) -> None:
    assert stack.deployment is not None
    rules = stack.aws("s3").get_bucket_lifecycle_configuration(Bucket=stack.deployment.bucket_name)["Rules"]
    enabled = [r for r in rules if r["Status"] == "Enabled"]
    expiry_by_prefix = {prefix_of(r): r["Expiration"]["Days"] for r in enabled if "Expiration" in r}
    for ttl_hours in range(1, 169):
        days = ttl_class_days(ttl_hours)
        assert expiry_by_prefix.get(f"ttl-{days}d/") == days, f"ttl_hours={ttl_hours} has no ttl-{days}d/ rule"
    aborts = [r for r in enabled if "AbortIncompleteMultipartUpload" in r]
    assert aborts and all(r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] <= 1 for r in aborts)
    assert any(prefix_of(r) == "" for r in aborts)  # covers every prefix


def prefix_of(rule: dict[str, Any]) -> str:
    """S3 reports a rule's prefix in `Filter` (or, for rules written the older way, on the rule)."""
    return str(rule.get("Filter", {}).get("Prefix", rule.get("Prefix", "")))
