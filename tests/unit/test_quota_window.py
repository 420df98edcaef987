import pytest

from ferry.quota import GRANULARITY_SECONDS, WINDOW_SECONDS, QuotaService, bucket_of, leaves_window_at

T0 = 1_795_262_400  # a bucket boundary


@pytest.mark.parametrize("offset", [0, 1, 150, GRANULARITY_SECONDS - 1])
def test_a_charge_counts_for_at_least_24h_and_at_most_one_granule_more(offset: int) -> None:
    charged_at = T0 + offset
    leaves = leaves_window_at(bucket_of(charged_at))
    assert charged_at + WINDOW_SECONDS <= leaves <= charged_at + WINDOW_SECONDS + GRANULARITY_SECONDS


def test_granularity_is_at_most_five_minutes() -> None:
    assert GRANULARITY_SECONDS <= 300
    assert bucket_of(T0 + 299) == T0 and bucket_of(T0 + 300) == T0 + 300


def test_retry_after_is_the_time_until_enough_old_charges_leave() -> None:
    mb = 1024 * 1024
    buckets = {T0: 100 * mb, T0 + 600: 60 * mb, T0 + 1200: 40 * mb}  # 200 MB used
    now = T0 + 3600
    # 50 MB needs the first bucket (100 MB) to leave; 150 MB needs the first two.
    needs_50 = QuotaService._exceeded(buckets, 50 * mb, 200 * mb, now)
    needs_150 = QuotaService._exceeded(buckets, 150 * mb, 200 * mb, now)
    assert needs_50.retry_after_seconds == leaves_window_at(T0) - now
    assert needs_150.retry_after_seconds == leaves_window_at(T0 + 600) - now
    assert needs_50.headers == {"Retry-After": str(needs_50.retry_after_seconds)}
    assert needs_50.status == 429 and needs_50.type == "rate_limit_error"


def test_retry_after_ignores_buckets_already_out_of_the_window() -> None:
    mb = 1024 * 1024
    now = T0 + WINDOW_SECONDS + GRANULARITY_SECONDS  # T0's bucket has just left
    exc = QuotaService._exceeded({T0: 150 * mb, T0 + 300: 200 * mb}, 10 * mb, 200 * mb, now)
    assert exc.retry_after_seconds == leaves_window_at(T0 + 300) - now
