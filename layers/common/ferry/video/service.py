"""Creating and reading video tasks (the API side of DESIGN §5).

Create validates everything before anything is stored or submitted: the model, every image (URL
syntax, the caller's own live confirmed file, or a decodable data-URI image within the inline
cap), unique labels and every @label / {{label}} in the prompt, the callback URL (SSRF policy).
Only then are data-URI images stored (charged to quota, like any upload), the task written and its
execution started (name = task id). If anything after the first store fails, the stored images are
deleted and refunded, and a task already written is marked failed: nothing stays "processing".
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from ferry import inline
from ferry.clock import Clock, SystemClock
from ferry.data.files import FileRecord
from ferry.data.tasks import FAILED, PROCESSING, TaskRecord, TaskRepository
from ferry.data.workflows import WorkflowStarter
from ferry.errors import Conflict, FerryError, Gone, InvalidRequest, NotFound, UpstreamFailed, UpstreamTimeout
from ferry.files import FileService, UploadOptions, file_id_from_reference
from ferry.keys import Principal
from ferry.media import SNIFF_BYTES, check_size, check_type, detect, verify_image
from ferry.quota import Reservation
from ferry.remote import FetchPolicy, check_url, vet_url
from ferry.video.config import ModelRoute
from ferry.video.models import ImageObject, VideoCreate

INPUT_TTL_HOURS = 24  # data-URI images stored for a task: long enough for any deadline and retries
_BRACES = re.compile(r"\{\{\s*([^{}\s]*)\s*\}\}")
_AT = re.compile(r"(?<![\w@.])@([A-Za-z][A-Za-z0-9_-]*)")


class TaskNotStarted(FerryError):
    status, type, code = 503, "api_error", "task_not_started"


def new_task_id() -> str:
    return "video_" + secrets.token_hex(16)


@dataclass
class _Image:
    index: int
    role: str | None
    label: str | None
    url: str | None = None  # resolved now (https URL, or a file's delivery URL)
    data: bytes | None = None  # a data-URI image, stored after everything validated


@dataclass(frozen=True)
class Plan:
    route: ModelRoute
    images: list[_Image]
    prompt: str
    callback_url: str | None


def _at(index: int, exc: FerryError) -> FerryError:
    exc.message = f"images[{index}]: {exc.message}"
    exc.args = (exc.message,)
    return exc


class VideoService:
    def __init__(
        self,
        tasks: TaskRepository,
        files: FileService,
        routes: dict[str, ModelRoute],
        *,
        starter: WorkflowStarter | None,
        policy: FetchPolicy,
        default_deadline_seconds: int,
        delivery_url: Any,
        clock: Clock | None = None,
    ):
        self.tasks = tasks
        self.files = files
        self.routes = routes
        self.starter = starter
        self.policy = policy
        self.default_deadline_seconds = default_deadline_seconds
        self._delivery_url = delivery_url  # (FileRecord, base) -> str
        self.clock = clock or SystemClock()

    # ------------------------------------------------------------------ validation
    def plan(self, principal: Principal, body: VideoCreate, *, delivery_base: str) -> Plan:
        route = self.routes.get(body.model)
        if route is None:
            known = (
                f"Models available here: {', '.join(sorted(self.routes))}."
                if self.routes
                else "No models are configured here; the operator sets them with the VideoModels parameter."
            )
            raise InvalidRequest(f"Unknown model {body.model!r}. {known}", code="model_not_found")
        images = [self._image(principal, i, item, delivery_base) for i, item in enumerate(body.images)]
        if route.provider == "kling" and not images:
            raise InvalidRequest(f"Model {body.model!r} generates from an image: send at least one in 'images'.")
        labels: dict[str, _Image] = {}
        for image in images:
            if image.label is not None:
                if image.label in labels:
                    raise InvalidRequest(f"images[{image.index}]: the label {image.label!r} is used twice.")
                labels[image.label] = image
        for role in ("first_frame", "last_frame"):
            if sum(1 for image in images if image.role == role) > 1:
                raise InvalidRequest(f"Only one image may have the role {role!r}.")
        ordered = (
            [i for i in images if i.role == "first_frame"]
            + [i for i in images if i.role not in ("first_frame", "last_frame")]
            + [i for i in images if i.role == "last_frame"]
        )
        position = {image.index: n for n, image in enumerate(ordered, start=1)}

        def label_ref(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in labels:
                defined = ", ".join(sorted(labels)) or "no image has a label"
                raise InvalidRequest(
                    f"The prompt refers to {match.group(0)!r}, but no image has the label {name!r} ({defined})."
                )
            return f"image {position[labels[name].index]}"

        prompt = _BRACES.sub(label_ref, body.prompt)
        if labels:  # "@name" only means a reference when the request names images at all
            prompt = _AT.sub(label_ref, prompt)
        callback_url = self._callback(body.callback_url) if body.callback_url else None
        return Plan(route=route, images=ordered, prompt=prompt, callback_url=callback_url)

    def _image(self, principal: Principal, index: int, item: str | ImageObject, base: str) -> _Image:
        uri, role, label = (item, None, None) if isinstance(item, str) else (item.uri, item.role, item.label)
        uri = uri.strip()
        image = _Image(index=index, role=role, label=label)
        try:
            if uri[:5].lower() == "data:":
                payload = inline.parse(uri)
                check_size("image", payload.decoded_size, inline_cap=self.files.inline_cap_bytes)
                data = inline.decode(payload)
                check_type("image", detect(data[:SNIFF_BYTES]))
                verify_image(data)
                image.data = data
                return image
            file_id = file_id_from_reference(uri)
            if file_id is not None:
                image.url = self._file_url(principal, file_id, uri, base)
                return image
            if uri[:8].lower() == "https://":
                check_url(uri, self.policy, "The URL")
                image.url = uri
                return image
        except FerryError as exc:
            raise _at(index, exc) from None
        raise InvalidRequest(
            f"images[{index}] must be an https:// URL, one of your file ids (file_…), an asset:// URI, "
            "or a data:image/…;base64 URI."
        )

    def _file_url(self, principal: Principal, file_id: str, reference: str, base: str) -> str:
        record = self.files.repository.get(file_id)
        if record is None or record.user_id != principal.user_id:
            raise NotFound(f"No file {reference} exists for this API key's user.", code="file_not_found")
        if record.status != "confirmed":
            raise Conflict(f"The file {reference} is {record.status}; only confirmed files can be used.")
        if record.expires_epoch <= int(self.clock.now()):
            raise Gone(f"The file {reference} expired at {record.expires_at}; upload it again.", code="file_expired")
        if record.media_type != "image":
            raise InvalidRequest(f"The file {reference} is a {record.media_type}, not an image.")
        return str(self._delivery_url(record, base))

    def _callback(self, url: str) -> str:
        try:
            vet_url(url, self.policy, timeout=5.0)
        except (UpstreamFailed, UpstreamTimeout) as exc:
            raise InvalidRequest(f"callback_url: {exc.message}", code="invalid_url") from None
        except FerryError as exc:
            exc.message = f"callback_url: {exc.message}"
            raise
        return url

    # ------------------------------------------------------------------ create
    def create(self, principal: Principal, body: VideoCreate, *, delivery_base: str) -> TaskRecord:
        plan = self.plan(principal, body, delivery_base=delivery_base)
        stored: list[FileRecord] = []
        record: TaskRecord | None = None
        try:
            for image in plan.images:
                if image.data is not None:
                    options = UploadOptions(media_type="image", purpose="video_input", ttl_hours=INPUT_TTL_HOURS)
                    file = self.files.upload_bytes(principal, image.data, options)
                    stored.append(file)
                    image.url = self._delivery_url(file, delivery_base)
            now = int(self.clock.now())
            request = {
                "model": body.model,
                "prompt": plan.prompt,
                "image_urls": [image.url for image in plan.images],
                "aspect_ratio": body.aspect_ratio,
                "size": body.size,
                "duration": body.duration,
            }
            record = TaskRecord(
                id=new_task_id(),
                user_id=principal.user_id,
                model=body.model,
                provider=plan.route.provider,
                status=PROCESSING,
                created_at=now,
                status_update_time=now,
                deadline=now + (plan.route.deadline_seconds or self.default_deadline_seconds),
                request=json.dumps(request, separators=(",", ":")),
                delivery_base=delivery_base,
                callback_url=plan.callback_url,
                input_file_ids=[f.id for f in stored],
            )
            self.tasks.put(record)
            if self.starter is None:
                raise TaskNotStarted("Video tasks are not configured on this deployment (no state machine).")
            self.starter.start(record.id, {"task_id": record.id, "model": record.model, "deadline": record.deadline})
        except BaseException as exc:
            self._discard(stored)
            if record is not None:
                self._fail_unstarted(record)
                if not isinstance(exc, FerryError):
                    raise TaskNotStarted(
                        "The task could not be started; nothing was charged. Retry in a few seconds."
                    ) from exc
            raise
        return record

    def _discard(self, stored: list[FileRecord]) -> None:
        for file in stored:
            try:
                self.files.storage.delete(file.key)
                self.files.repository.delete(file.id)
                self.files.quota.refund(Reservation(file.user_id, file.quota_bucket, file.quota_bytes))
            except Exception:  # noqa: S112  best effort: the lifecycle rule removes the object anyway
                continue

    def _fail_unstarted(self, record: TaskRecord) -> None:
        with contextlib.suppress(Exception):  # the guard rule never sees an execution that never started
            self.tasks.update_processing(
                record.id,
                status=FAILED,
                status_update_time=int(self.clock.now()),
                error_code="task_not_started",
                error="The task could not be started; create it again.",
            )

    # ------------------------------------------------------------------ query
    def get(self, principal: Principal, task_id: str) -> TaskRecord:
        record = self.tasks.get(task_id) if re.fullmatch(r"video_[0-9a-f]{32}", task_id) else None
        if record is None or record.user_id != principal.user_id:
            raise NotFound(f"No video task {task_id} exists for this API key's user.", code="task_not_found")
        return record
