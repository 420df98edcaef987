"""The quota engine against DynamoDB (moto): DESIGN §4 invariants."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from ferry.data.quota import QuotaRepository
from ferry.errors import PayloadTooLarge, QuotaExceeded
from ferry.quota import WINDOW_SECONDS, QuotaService
from tests.conftest import FrozenClock

MB = 1024 * 1024
LIMIT = 200 * MB


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def quota(aws: dict[str, str], clock: FrozenClock) -> QuotaService:
    return QuotaService(QuotaRepository(aws["FERRY_TABLE_NAME"]), LIMIT, clock)


def test_fresh_user_has_the_whole_quota(quota: QuotaService, clock: FrozenClock) -> None:
    usage = quota.usage("alice")
    assert (usage.limit_bytes, usage.used_bytes, usage.remaining_bytes) == (LIMIT, 0, LIMIT)
    assert usage.window_seconds == 86_400


def test_reserve_refund_and_settle_move_usage(quota: QuotaService) -> None:
    first = quota.reserve("alice", 30 * MB)
    second = quota.reserve("alice", 20 * MB)
    assert quota.usage("alice").used_bytes == 50 * MB
    quota.refund(first)
    assert quota.usage("alice").used_bytes == 20 * MB
    settled = quota.settle(second, 5 * MB)
    assert settled.nbytes == 5 * MB
    assert quota.usage("alice").used_bytes == 5 * MB
    assert quota.usage("bob").used_bytes == 0  # users are independent


def test_exceeding_the_limit_is_refused_with_retry_after(quota: QuotaService, clock: FrozenClock) -> None:
    quota.reserve("alice", 150 * MB)
    clock.advance(3600)
    quota.reserve("alice", 50 * MB)
    with pytest.raises(QuotaExceeded) as refused:
        quota.reserve("alice", 1)
    # Nothing frees until the first charge (1 h older than now) leaves: just under 23 h from now.
    retry_after = refused.value.retry_after_seconds
    assert WINDOW_SECONDS - 3600 <= retry_after <= WINDOW_SECONDS - 3600 + 300
    assert refused.value.headers["Retry-After"] == str(retry_after)
    assert quota.usage("alice").used_bytes == LIMIT  # the refusal charged nothing


def test_usage_frees_exactly_when_retry_after_said(quota: QuotaService, clock: FrozenClock) -> None:
    quota.reserve("alice", LIMIT)
    with pytest.raises(QuotaExceeded) as refused:
        quota.reserve("alice", MB)
    clock.advance(refused.value.retry_after_seconds - 1)
    with pytest.raises(QuotaExceeded):
        quota.reserve("alice", MB)
    clock.advance(1)
    quota.reserve("alice", MB)
    assert quota.usage("alice").used_bytes == MB  # the old charge was compacted away


def test_an_upload_larger_than_the_whole_quota_is_413(quota: QuotaService) -> None:
    with pytest.raises(PayloadTooLarge):
        quota.reserve("alice", LIMIT + 1)


def test_key_override_sets_the_limit(quota: QuotaService) -> None:
    quota.reserve("carol", MB, limit_override=MB)
    with pytest.raises(QuotaExceeded):
        quota.reserve("carol", 1, limit_override=MB)
    assert quota.usage("carol", limit_override=MB).remaining_bytes == 0


def test_refund_of_a_charge_that_left_the_window_changes_nothing(quota: QuotaService, clock: FrozenClock) -> None:
    old = quota.reserve("alice", 100 * MB)
    clock.advance(WINDOW_SECONDS + 600)
    quota.reserve("alice", LIMIT)  # compacts the old bucket away
    quota.refund(old)
    assert quota.usage("alice").used_bytes == LIMIT


def test_resets_at_is_when_the_newest_charge_leaves(quota: QuotaService, clock: FrozenClock) -> None:
    quota.reserve("alice", MB)
    clock.advance(7200)
    quota.reserve("alice", MB)
    usage = quota.usage("alice")
    clock.advance(WINDOW_SECONDS + 300)
    assert quota.usage("alice").used_bytes == 0
    assert usage.resets_at.endswith("Z")


def test_sixty_concurrent_5mb_reservations_admit_exactly_forty(quota: QuotaService, clock: FrozenClock) -> None:
    start = threading.Barrier(60)

    def reserve_5mb(_: int) -> bool:
        start.wait()
        try:
            quota.reserve("alice", 5 * MB)
            return True
        except QuotaExceeded:
            return False

    with ThreadPoolExecutor(max_workers=60) as pool:
        outcomes = list(pool.map(reserve_5mb, range(60)))

    assert outcomes.count(True) == 40
    usage = quota.usage("alice")
    assert usage.used_bytes == LIMIT and usage.remaining_bytes == 0

    clock.advance(WINDOW_SECONDS + 300)  # the whole 24 h window later
    assert quota.usage("alice").used_bytes == 0
    quota.reserve("alice", LIMIT)


def test_stored_counter_never_exceeds_the_limit(quota: QuotaService, aws: dict[str, str]) -> None:
    for _ in range(3):
        quota.reserve("alice", 70 * MB) if quota.usage("alice").remaining_bytes >= 70 * MB else None
    item = boto3.client("dynamodb").get_item(
        TableName=aws["FERRY_TABLE_NAME"], Key={"pk": {"S": "QUOTA#alice"}, "sk": {"S": "QUOTA"}}
    )["Item"]
    assert int(item["used"]["N"]) == 140 * MB
    assert int(item["ttl"]["N"]) > 0
