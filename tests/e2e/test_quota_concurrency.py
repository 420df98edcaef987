"""The quota invariant against a real DynamoDB API (MiniStack's, or the stack's on AWS): 60
concurrent 5 MB reservations against a 200 MB limit admit exactly 40."""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.harness import E2EStack

pytestmark = pytest.mark.e2e
MB = 1024 * 1024


def test_sixty_concurrent_reservations_admit_exactly_forty(stack: E2EStack, monkeypatch: pytest.MonkeyPatch) -> None:
    stack.require_admin()
    assert stack.admin_env is not None and stack.table_name is not None
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        if name in stack.admin_env:
            monkeypatch.setenv(name, stack.admin_env[name])
    from ferry import aws
    from ferry.data.quota import QuotaRepository
    from ferry.errors import QuotaExceeded
    from ferry.quota import QuotaService

    aws.reset_clients()
    quota = QuotaService(QuotaRepository(stack.table_name), 200 * MB)
    user = f"e2e-concurrency-{secrets.token_hex(4)}"
    start = threading.Barrier(60)

    def reserve(_: int) -> bool:
        start.wait()
        try:
            quota.reserve(user, 5 * MB)
            return True
        except QuotaExceeded:
            return False

    try:
        with ThreadPoolExecutor(max_workers=60) as pool:
            outcomes = list(pool.map(reserve, range(60)))
        assert outcomes.count(True) == 40
        assert quota.usage(user).used_bytes == 200 * MB
    finally:
        aws.reset_clients()
