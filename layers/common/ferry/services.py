"""Service objects wired to the container's settings, built on first use and then reused."""

from __future__ import annotations

import functools

from ferry.data.keys import KeyRepository
from ferry.data.quota import QuotaRepository
from ferry.keys import KeyService
from ferry.quota import QuotaService
from ferry.settings import get_settings


@functools.cache
def key_service() -> KeyService:
    return KeyService(KeyRepository(get_settings().table_name))


@functools.cache
def quota_service() -> QuotaService:
    settings = get_settings()
    return QuotaService(QuotaRepository(settings.table_name), settings.quota_limit_bytes)


def reset() -> None:
    """Forget built services (tests change settings and mocks between cases)."""
    get_settings.cache_clear()
    key_service.cache_clear()
    quota_service.cache_clear()
