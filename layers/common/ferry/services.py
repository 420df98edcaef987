"""Service objects wired to the container's settings, built on first use and then reused."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from ferry.data import secrets
from ferry.data.files import FileRepository
from ferry.data.keys import KeyRepository
from ferry.data.names import NameRepository
from ferry.data.quota import QuotaRepository
from ferry.data.storage import Storage
from ferry.files import FileService
from ferry.keys import KeyService
from ferry.named import NamedFiles
from ferry.quota import QuotaService
from ferry.settings import SettingsError, get_settings
from ferry.signing import derive_key

if TYPE_CHECKING:
    from ferry.remote import FetchPolicy


@functools.cache
def key_service() -> KeyService:
    return KeyService(KeyRepository(get_settings().table_name))


@functools.cache
def quota_service() -> QuotaService:
    settings = get_settings()
    return QuotaService(QuotaRepository(settings.table_name), settings.quota_limit_bytes)


@functools.cache
def file_service() -> FileService:
    settings = get_settings()
    if not settings.bucket_name:
        raise SettingsError("Invalid Ferry configuration (FERRY_BUCKET_NAME: required by the files functions)")
    return FileService(
        FileRepository(settings.table_name),
        Storage(settings.bucket_name),
        quota_service(),
        pending_grace_seconds=settings.pending_grace_seconds,
    )


@functools.cache
def named_files() -> NamedFiles:
    return NamedFiles(file_service(), NameRepository(get_settings().table_name))


def signing_key() -> bytes:
    """The key of signed asset URLs, derived from the secret FERRY_SIGNING_SECRET_ARN names."""
    arn = get_settings().signing_secret_arn
    if not arn:
        raise SettingsError("Invalid Ferry configuration (FERRY_SIGNING_SECRET_ARN: required to sign asset URLs)")
    return derive_key(secrets.read_secret(arn))


@functools.cache
def fetch_policy() -> FetchPolicy:
    """The SSRF policy of every server-side fetch (URL uploads, provider results, callbacks)."""
    from ferry.remote import FetchPolicy, parse_networks  # requests/urllib3: off the cold start

    return FetchPolicy(allowed_networks=parse_networks(get_settings().url_allowed_networks))


def reset() -> None:
    """Forget built services (tests change settings and mocks between cases)."""
    get_settings.cache_clear()
    key_service.cache_clear()
    quota_service.cache_clear()
    file_service.cache_clear()
    named_files.cache_clear()
    fetch_policy.cache_clear()
    secrets.reset()
    from ferry.video import services as video_services  # on first use: video modules off the cold start

    video_services.reset()
