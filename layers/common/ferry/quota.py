"""The rolling 24-hour upload quota (DESIGN §4).

Charges land in 5-minute buckets. A charge made at time t is counted until the end of its bucket
plus 24 h, so it counts for at least 24 h and at most 24 h 5 min: rounding only ever makes the
quota stricter. Reservations are one conditional write; buckets that have left the window are
compacted away (also conditionally) only when a reservation would otherwise be refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ferry.clock import Clock, SystemClock, rfc3339
from ferry.data.quota import QuotaRepository
from ferry.errors import PayloadTooLarge, QuotaExceeded

WINDOW_SECONDS = 24 * 3600
GRANULARITY_SECONDS = 300
_MAX_ATTEMPTS = 8


def bucket_of(epoch_seconds: float) -> int:
    return int(epoch_seconds // GRANULARITY_SECONDS) * GRANULARITY_SECONDS


def leaves_window_at(bucket: int) -> int:
    """When the bytes charged in `bucket` stop counting."""
    return bucket + GRANULARITY_SECONDS + WINDOW_SECONDS


@dataclass(frozen=True)
class Reservation:
    """Bytes held against a user's quota; keep it to settle or refund later."""

    user_id: str
    bucket: int
    nbytes: int


@dataclass(frozen=True)
class Usage:
    limit_bytes: int
    used_bytes: int
    remaining_bytes: int
    window_seconds: int
    resets_at: str

    def as_dict(self) -> dict[str, int | str]:
        return self.__dict__.copy()


class QuotaService:
    def __init__(self, repository: QuotaRepository, default_limit_bytes: int, clock: Clock | None = None):
        self._repo = repository
        self._default_limit = default_limit_bytes
        self._clock = clock or SystemClock()

    def limit_for(self, override_bytes: int | None) -> int:
        return override_bytes if override_bytes else self._default_limit

    def reserve(self, user_id: str, nbytes: int, limit_override: int | None = None) -> Reservation:
        """Hold `nbytes` of the user's window, or raise QuotaExceeded with a Retry-After."""
        if nbytes <= 0:
            raise ValueError("a reservation must be for at least one byte")
        limit = self.limit_for(limit_override)
        if nbytes > limit:
            raise PayloadTooLarge(
                f"This upload is {nbytes} bytes, more than your whole 24-hour quota of {limit} bytes.",
                code="larger_than_quota",
            )
        for _ in range(_MAX_ATTEMPTS):
            now = self._clock.now()
            bucket = bucket_of(now)
            if self._repo.try_charge(user_id, bucket, nbytes, limit - nbytes, leaves_window_at(bucket)):
                return Reservation(user_id=user_id, bucket=bucket, nbytes=nbytes)
            buckets = self._repo.read(user_id)
            stale = {b: v for b, v in buckets.items() if leaves_window_at(b) <= now}
            if not stale:
                raise self._exceeded(buckets, nbytes, limit, now)
            self._repo.compact(user_id, stale)  # lost races are fine: someone else compacted
        raise self._exceeded(self._repo.read(user_id), nbytes, limit, self._clock.now())

    def refund(self, reservation: Reservation) -> None:
        """Give the whole reservation back (the upload failed or was rejected)."""
        self._repo.uncharge(reservation.user_id, reservation.bucket, reservation.nbytes)

    def settle(self, reservation: Reservation, actual_bytes: int) -> Reservation:
        """Shrink a reservation to what was really stored."""
        if actual_bytes > reservation.nbytes:
            raise ValueError("a settlement cannot exceed its reservation")
        if actual_bytes < reservation.nbytes:
            self._repo.uncharge(reservation.user_id, reservation.bucket, reservation.nbytes - actual_bytes)
        return Reservation(reservation.user_id, reservation.bucket, actual_bytes)

    def usage(self, user_id: str, limit_override: int | None = None) -> Usage:
        now = self._clock.now()
        live = {b: v for b, v in self._repo.read(user_id).items() if leaves_window_at(b) > now and v > 0}
        limit = self.limit_for(limit_override)
        used = sum(live.values())
        return Usage(
            limit_bytes=limit,
            used_bytes=used,
            remaining_bytes=max(0, limit - used),
            window_seconds=WINDOW_SECONDS,
            resets_at=rfc3339(max(map(leaves_window_at, live), default=now)),
        )

    @staticmethod
    def _exceeded(buckets: dict[int, int], nbytes: int, limit: int, now: float) -> QuotaExceeded:
        live = sorted((b, v) for b, v in buckets.items() if leaves_window_at(b) > now)
        used = sum(v for _, v in live)
        retry_at = now
        for bucket, value in live:
            if used + nbytes <= limit:
                break
            used -= value
            retry_at = leaves_window_at(bucket)
        retry_after = max(1, math.ceil(retry_at - now))
        return QuotaExceeded(
            f"This upload needs {nbytes} bytes but your 24-hour quota of {limit} bytes has "
            f"{max(0, limit - sum(v for _, v in live))} left. Retry in {retry_after} s.",
            retry_after_seconds=retry_after,
        )
