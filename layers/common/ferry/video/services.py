"""The video service objects, wired to the container's settings once and then reused."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from ferry.clock import Clock, SystemClock
from ferry.data.event_bus import EventBus
from ferry.data.files import FileRecord, FileRepository
from ferry.data.secrets import read_secret
from ferry.data.tasks import TaskRecord, TaskRepository
from ferry.quota import QuotaService, Reservation
from ferry.services import fetch_policy
from ferry.settings import SettingsError, get_settings
from ferry.video.config import ModelRoute, parse_routes
from ferry.video.providers import Provider, provider_for

if TYPE_CHECKING:  # imported on first use: the workflow's functions start without them
    from ferry.files import FileService
    from ferry.remote import FetchPolicy
    from ferry.video.service import VideoService

RESULT_DOWNLOAD_SECONDS = 240.0


class Uncharged(QuotaService):
    """Quota for provider results: stored for the user, charged to nobody (README, Video tasks)."""

    def __init__(self) -> None:
        pass

    def reserve(self, user_id: str, nbytes: int, limit_override: int | None = None) -> Reservation:
        return Reservation(user_id, 0, 0)

    def refund(self, reservation: Reservation) -> None:
        return None

    def settle(self, reservation: Reservation, actual_bytes: int) -> Reservation:
        return reservation


def delivery_url(record: FileRecord, base: str) -> str:
    from ferry.routes.file_objects import delivery_url as url_of

    return url_of(record, base)


def _bucket() -> str:
    settings = get_settings()
    if not settings.bucket_name:
        raise SettingsError("Invalid Ferry configuration (FERRY_BUCKET_NAME: required by the video functions)")
    return settings.bucket_name


class VideoSteps:
    """What the workflow's steps need: tasks, providers (with their keys), result storage, the bus."""

    def __init__(
        self,
        tasks: TaskRepository,
        routes: dict[str, ModelRoute],
        *,
        results: FileService | None = None,
        bus: EventBus | None = None,
        policy: FetchPolicy | None = None,
        secret_reader: Any = read_secret,
        callback_secret_name: str = "",
        result_ttl_hours: int = 72,
        session: Any = None,
        clock: Clock | None = None,
    ):
        self.tasks = tasks
        self.routes = routes
        self.results = results
        self.bus = bus or EventBus("")
        if policy is None:
            from ferry.remote import FetchPolicy

            policy = FetchPolicy()
        self.policy = policy
        self._read_secret = secret_reader
        self._callback_secret_name = callback_secret_name
        self.result_ttl_hours = result_ttl_hours
        self._session = session
        self.clock = clock or SystemClock()

    def provider(self, model: str) -> Provider:
        route = self.routes.get(model)
        if route is None:
            raise KeyError(f"model {model!r} is no longer configured")
        key = self._read_secret(route.secret) if route.secret else None
        return provider_for(route, key, self._session)

    def callback_secret(self) -> str:
        if not self._callback_secret_name:
            raise SettingsError("Invalid Ferry configuration (FERRY_CALLBACK_SECRET_NAME: required for callbacks)")
        return str(self._read_secret(self._callback_secret_name))

    def store_result(self, task: TaskRecord, url: str) -> FileRecord:
        """Copy the provider's video (its URL expires) into the bucket as one of the user's files."""
        from ferry.data.storage import PART_SIZE
        from ferry.files import UploadOptions
        from ferry.keys import Principal
        from ferry.media import RULES
        from ferry.remote import open_remote

        assert self.results is not None
        options = UploadOptions(media_type="video", purpose="video_result", ttl_hours=self.result_ttl_hours)
        with open_remote(
            url, max_bytes=RULES["video"].cap_bytes, policy=self.policy, deadline_seconds=RESULT_DOWNLOAD_SECONDS
        ) as remote:
            return self.results.upload_stream(
                Principal(user_id=task.user_id, key_id=""),
                remote.iter_chunks(PART_SIZE),
                options,
                declared_size=remote.content_length,
            )

    def discard_result(self, file: FileRecord) -> None:
        assert self.results is not None
        self.results.storage.delete(file.key)
        self.results.repository.delete(file.id)

    @staticmethod
    def delivery_url(file: FileRecord, base: str) -> str:
        return delivery_url(file, base)


@functools.cache
def video_service() -> VideoService:
    from ferry.data.workflows import WorkflowStarter
    from ferry.services import file_service
    from ferry.video.service import VideoService

    settings = get_settings()
    starter = WorkflowStarter(settings.video_state_machine_arn) if settings.video_state_machine_arn else None
    return VideoService(
        TaskRepository(settings.table_name),
        file_service(),
        parse_routes(settings.video_models),
        starter=starter,
        policy=fetch_policy(),
        default_deadline_seconds=settings.video_deadline_seconds,
        delivery_url=delivery_url,
    )


@functools.cache
def video_steps() -> VideoSteps:
    from ferry.data.storage import Storage
    from ferry.files import FileService

    settings = get_settings()
    results = None
    if settings.bucket_name:
        results = FileService(FileRepository(settings.table_name), Storage(_bucket()), Uncharged())
    return VideoSteps(
        TaskRepository(settings.table_name),
        parse_routes(settings.video_models),
        results=results,
        bus=EventBus(settings.event_bus_name),
        policy=fetch_policy(),
        callback_secret_name=settings.callback_secret_name,
        result_ttl_hours=settings.video_result_ttl_hours,
    )


def reset() -> None:
    from ferry.data import secrets

    video_service.cache_clear()
    video_steps.cache_clear()
    secrets.reset()
