"""Files: the common upload path (DESIGN §3) and the operations on stored files.

Every upload: size against the media type's cap (and the inline cap for bodies that came through
API Gateway) → type from magic bytes → image decoding → quota reserved → object stored under its
TTL-class prefix → record written. Any failure after the reservation refunds it and removes what
was stored, so a failed upload costs nothing and leaves nothing behind.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import math
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from ferry.clock import Clock, SystemClock, rfc3339
from ferry.data.files import FileRecord, FileRepository
from ferry.data.storage import PART_SIZE, Storage
from ferry.errors import FerryError, Gone, InvalidRequest, NotFound, PayloadTooLarge, UnsupportedMediaType
from ferry.keys import Principal
from ferry.media import (
    EXTENSIONS,
    OCTET_STREAM,
    RULES,
    SNIFF_BYTES,
    Verdict,
    check_size,
    check_type,
    detect,
    sanitize_filename,
    verify_image,
)
from ferry.quota import QuotaService, Reservation

# API Gateway passes at most 10 MB and a synchronous Lambda invocation at most 6 MiB of event, in
# which binary bodies are base64 (4/3 larger): about 4.7 MB of file fits, less headers and JSON.
INLINE_CAP_BYTES = 4_500_000
TTL_HOURS_MIN, TTL_HOURS_MAX = 1, 168
RECORD_GRACE_SECONDS = 8 * 86400  # the record outlives the object the lifecycle rule deletes
DELIVERY_LINK_SECONDS = 900


def _rechunk(chunks: Iterator[bytes], size: int) -> Iterator[bytes]:
    """Regroup a byte stream into `size`-byte parts (S3 wants ≥ 5 MiB for every part but the last)."""
    buffer = bytearray()
    for chunk in chunks:
        if not buffer and len(chunk) == size:  # already a whole part: no copy
            yield chunk
            continue
        buffer += chunk
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


def declared_type(media_type: str, mime_type: str) -> str:
    """The Content-Type a presigned POST must carry: an allowed type of the media type, or
    application/octet-stream for `file` (storage never serves a declared active type)."""
    if media_type == "file":
        return OCTET_STREAM
    mime = mime_type.strip().lower()
    if mime not in RULES[media_type].allowed:
        allowed = ", ".join(sorted(RULES[media_type].allowed))
        raise UnsupportedMediaType(f"mime_type must be one of {allowed} for media_type '{media_type}'.")
    return mime


def new_file_id() -> str:
    return "file_" + secrets.token_hex(16)


FILE_PREFIX, ASSET_PREFIX, ASSET_SCHEME = "file_", "asset_", "asset://"


def asset_id_for(file_id: str) -> str:
    """The Chenyu-dialect name of a file: `asset_<same 128 bits>`; `asset://<it>` is its URI."""
    return ASSET_PREFIX + file_id.removeprefix(FILE_PREFIX)


def file_id_from_reference(reference: str) -> str | None:
    """The file id a caller's reference names (`file_…`, `asset_…` or `asset://asset_…`), or None
    when the text is not a file reference at all."""
    name = reference.removeprefix(ASSET_SCHEME) if reference.startswith(ASSET_SCHEME) else reference
    for prefix in (FILE_PREFIX, ASSET_PREFIX):
        suffix = name.removeprefix(prefix)
        if suffix != name and len(suffix) == 32 and all(c in "0123456789abcdef" for c in suffix):
            return FILE_PREFIX + suffix
    return None


def ttl_class_days(ttl_hours: int) -> int:
    return math.ceil(ttl_hours / 24)


@dataclass(frozen=True)
class UploadOptions:
    media_type: str = "image"
    purpose: str = "model_input"
    ttl_hours: int = 72
    filename: str | None = None

    def __post_init__(self) -> None:
        if not TTL_HOURS_MIN <= self.ttl_hours <= TTL_HOURS_MAX:
            raise InvalidRequest(f"ttl_hours must be between {TTL_HOURS_MIN} and {TTL_HOURS_MAX}.")


class FileService:
    def __init__(
        self,
        repository: FileRepository,
        storage: Storage,
        quota: QuotaService,
        clock: Clock | None = None,
        inline_cap_bytes: int = INLINE_CAP_BYTES,
        pending_grace_seconds: int = 300,
    ):
        self.repository = repository
        self.storage = storage
        self.quota = quota
        self.clock = clock or SystemClock()
        self.inline_cap_bytes = inline_cap_bytes
        self.pending_grace_seconds = pending_grace_seconds

    # ------------------------------------------------------------------ uploads
    def upload_bytes(self, principal: Principal, data: bytes, options: UploadOptions) -> FileRecord:
        """An inline upload (multipart or base64): the whole body is in memory already."""
        check_size(options.media_type, len(data), inline_cap=self.inline_cap_bytes)
        return self._store_bytes(principal, data, options)

    def _store_bytes(self, principal: Principal, data: bytes, options: UploadOptions) -> FileRecord:
        verdict = check_type(options.media_type, detect(data[:SNIFF_BYTES]))
        width = height = None
        if verdict.mime_type.startswith("image/"):
            width, height = verify_image(data)
        digest = hashlib.sha256(data)
        reservation = self.quota.reserve(principal.user_id, len(data), principal.quota_bytes)
        record = self._record(
            principal,
            options,
            verdict,
            reservation,
            len(data),
            digest.hexdigest(),
            width,
            height,
            file_id=new_file_id(),
            now=int(self.clock.now()),
        )
        try:
            self.storage.put(
                record.key,
                data,
                content_type=record.mime_type,
                filename=record.filename,
                sha256_b64=base64.b64encode(digest.digest()).decode(),
            )
            self._write_record_or_remove_object(record)
        except BaseException:
            self.quota.refund(reservation)
            raise
        return record

    def upload_stream(
        self, principal: Principal, chunks: Iterator[bytes], options: UploadOptions, *, declared_size: int | None
    ) -> FileRecord:
        """A server-side transfer: stream into a multipart upload with bounded memory (images, which
        must be decoded whole, are buffered; their cap is 20 MB)."""
        if declared_size is not None:
            check_size(options.media_type, declared_size)
        parts = _rechunk(chunks, PART_SIZE)
        first = next(parts, b"")
        check_size(options.media_type, len(first))  # an empty body is a 400
        verdict = check_type(options.media_type, detect(first[:SNIFF_BYTES]))
        if verdict.mime_type.startswith("image/"):
            return self._store_bytes(principal, first + b"".join(parts), options)

        reservations: list[Reservation] = []
        if declared_size is not None:
            reservations.append(self.quota.reserve(principal.user_id, declared_size, principal.quota_bytes))
        digest, size = hashlib.sha256(), 0

        def counted(part: bytes) -> bytes:
            nonlocal size
            if declared_size is None:  # no length announced: hold quota part by part
                reservations.append(self.quota.reserve(principal.user_id, len(part), principal.quota_bytes))
            digest.update(part)
            size += len(part)
            return part

        file_id, now = new_file_id(), int(self.clock.now())
        try:
            key = self._key(file_id, options, verdict, now)
            filename = sanitize_filename(options.filename, f"{file_id}.{verdict.extension}")
            self.storage.put_stream(
                key,
                (counted(part) for part in itertools.chain([first], parts)),
                content_type=verdict.mime_type,
                filename=filename,
            )
            if declared_size is not None and size < declared_size:
                reservations[0] = self.quota.settle(reservations[0], size)
            record = self._record(
                principal,
                options,
                verdict,
                reservations[0],
                size,
                digest.hexdigest(),
                None,
                None,
                file_id=file_id,
                now=now,
            )
            self._write_record_or_remove_object(record)
        except BaseException:
            for reservation in reservations:
                self.quota.refund(reservation)
            raise
        return record

    def _write_record_or_remove_object(self, record: FileRecord) -> None:
        try:
            self.repository.put(record, ttl=record.expires_epoch + RECORD_GRACE_SECONDS)
        except BaseException:
            self.storage.delete(record.key)
            raise

    def _record(
        self,
        principal: Principal,
        options: UploadOptions,
        verdict: Verdict,
        reservation: Reservation,
        size: int,
        sha256_hex: str,
        width: int | None,
        height: int | None,
        *,
        file_id: str,
        now: int,
    ) -> FileRecord:
        expires = now + options.ttl_hours * 3600
        return FileRecord(
            id=file_id,
            user_id=principal.user_id,
            key=self._key(file_id, options, verdict, now),
            mime_type=verdict.mime_type,
            size=size,
            sha256=sha256_hex,
            filename=sanitize_filename(options.filename, f"{file_id}.{verdict.extension}"),
            purpose=options.purpose,
            media_type=options.media_type,
            status="confirmed",
            created_at=rfc3339(now),
            expires_at=rfc3339(expires),
            expires_epoch=expires,
            extension=verdict.extension,
            quota_bucket=reservation.bucket,
            quota_bytes=reservation.nbytes,
            width=width,
            height=height,
        )

    @staticmethod
    def _key(file_id: str, options: UploadOptions, verdict: Verdict, now: int) -> str:
        expires = now + options.ttl_hours * 3600
        return f"ttl-{ttl_class_days(options.ttl_hours)}d/{expires}/{file_id}.{verdict.extension}"

    # ------------------------------------------------------------------ presigned uploads
    def presign(
        self, principal: Principal, options: UploadOptions, *, size: int, mime_type: str, window_seconds: int
    ) -> tuple[FileRecord, dict[str, Any]]:
        """Reserve the declared size and hand out a POST policy for exactly this key, type and size."""
        check_size(options.media_type, size)
        content_type = declared_type(options.media_type, mime_type)
        verdict = Verdict(content_type, EXTENSIONS.get(content_type, "bin"))
        reservation = self.quota.reserve(principal.user_id, size, principal.quota_bytes)
        now = int(self.clock.now())
        record = replace(
            self._record(
                principal, options, verdict, reservation, size, "", None, None, file_id=new_file_id(), now=now
            ),
            status="pending",
            upload_expires_epoch=now + window_seconds,
        )
        try:
            post = self.storage.presigned_post(
                record.key, content_type=content_type, max_bytes=size, expires_in=window_seconds
            )
            self.repository.put(record, ttl=record.expires_epoch + RECORD_GRACE_SECONDS)
        except BaseException:
            self.quota.refund(reservation)
            raise
        return record, post

    def finalize(self, key: str) -> str:
        """Settle the presigned upload that just landed at `key`: confirmed or rejected. Returns the
        outcome; a redelivered event finds the file settled and changes nothing."""
        file_id = key.rsplit("/", 1)[-1].split(".", 1)[0]
        record = self.repository.get(file_id) if file_id.startswith("file_") else None
        if record is None or record.key != key:
            # Inline and URL uploads store the object before their record, and S3 notifies for them
            # too; a presigned upload's record always exists before its URL is handed out.
            return "not_presigned"
        if record.status != "pending":
            if record.status == "rejected":
                self.storage.delete(key)  # arrived after its upload was given up (or re-sent)
            return "already_settled"
        try:
            size, sha256, width, height = self._inspect(record)
        except FerryError as problem:
            return self._reject(record, problem.message)
        if not self.repository.settle_pending(
            record.id,
            "confirmed",
            size=size,
            sha256=sha256,
            quota_bytes=size,
            **({"width": width, "height": height} if width is not None else {}),
        ):
            return "already_settled"
        self.quota.settle(self._reservation(record), size)
        return "confirmed"

    def _inspect(self, record: FileRecord) -> tuple[int, str, int | None, int | None]:
        size = self.storage.size_of(record.key)
        if size is None:
            raise NotFound("The uploaded object disappeared before it was checked.")
        check_size(record.media_type, size)
        if size > record.quota_bytes:
            raise PayloadTooLarge(f"The upload is {size} bytes, more than the {record.quota_bytes} declared.")
        head = self.storage.open(record.key, first_bytes=SNIFF_BYTES).read()
        detected = check_type(record.media_type, detect(head))
        if detected.mime_type != record.mime_type:
            raise UnsupportedMediaType(
                f"The uploaded bytes are {detected.mime_type}, not the declared {record.mime_type}."
            )
        digest, width, height = hashlib.sha256(), None, None
        if record.mime_type.startswith("image/"):
            data = self.storage.open(record.key).read()  # ≤ 20 MB: images must decode whole
            width, height = verify_image(data)
            digest.update(data)
        else:
            for chunk in self.storage.open(record.key).iter_chunks(PART_SIZE):
                digest.update(chunk)
        return size, digest.hexdigest(), width, height

    def _reject(self, record: FileRecord, reason: str) -> str:
        if not self.repository.settle_pending(record.id, "rejected", reason=reason):
            return "already_settled"
        self.storage.delete(record.key)
        self.quota.refund(self._reservation(record))
        return "rejected"

    def sweep_abandoned(self) -> dict[str, int]:
        """Release presigned uploads whose window closed (plus a grace for late events) with nothing
        received; an object that did arrive is finalized here instead."""
        outcomes: dict[str, int] = {}
        cutoff = int(self.clock.now()) - self.pending_grace_seconds
        for record in self.repository.pending_closed_before(cutoff):
            if self.storage.size_of(record.key) is not None:
                outcome = self.finalize(record.key)
            else:
                outcome = self._reject(record, "The upload window closed before the file arrived; ask for a new one.")
                outcome = "abandoned" if outcome == "rejected" else outcome
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        return outcomes

    @staticmethod
    def _reservation(record: FileRecord) -> Reservation:
        return Reservation(record.user_id, record.quota_bucket, record.quota_bytes)

    # ------------------------------------------------------------------ files API
    def get(self, principal: Principal, file_id: str) -> FileRecord:
        record = self.repository.get(file_id) if file_id.startswith("file_") else None
        if record is None or record.user_id != principal.user_id:
            raise NotFound(f"No file {file_id} exists for this API key's user.", code="file_not_found")
        return record

    def list(self, principal: Principal, *, limit: int, cursor: str | None) -> tuple[list[FileRecord], str | None]:
        try:
            return self.repository.list_for_user(
                principal.user_id, live_after_epoch=int(self.clock.now()), limit=limit, cursor=cursor
            )
        except ValueError:
            raise InvalidRequest("The cursor is not one this API returned; start again without it.") from None

    def delete(self, principal: Principal, file_id: str) -> FileRecord:
        record = self.get(principal, file_id)
        self.storage.delete(record.key)
        self.repository.delete(record.id)
        return record

    # ------------------------------------------------------------------ delivery
    def delivery_link(self, name: str) -> str:
        """A short presigned GET for /f/<id>.<ext>, never outliving the file's expires_at."""
        file_id, _, extension = name.partition(".")
        record = self._served(file_id)
        if record is None or record.extension != extension:
            raise NotFound("No such file.", code="file_not_found")
        return self._link(record, "file")

    def content_link(self, file_id: str) -> str:
        """delivery_link for a file named by its id alone (the Chenyu dialect's asset content route)."""
        record = self._served(file_id)
        if record is None:
            raise NotFound("No such asset.", code="asset_not_found")
        return self._link(record, "asset")

    def _served(self, file_id: str) -> FileRecord | None:
        """The file delivery may serve: known and confirmed (expiry is checked by `_link`)."""
        record = self.repository.get(file_id) if file_id.startswith(FILE_PREFIX) else None
        return record if record is not None and record.status == "confirmed" else None

    def _link(self, record: FileRecord, noun: str) -> str:
        remaining = record.expires_epoch - int(self.clock.now())
        if remaining <= 0:
            raise Gone(f"This {noun} expired at {record.expires_at}; upload it again.", code="file_expired")
        return self.storage.presigned_get(
            record.key,
            expires_in=min(remaining, DELIVERY_LINK_SECONDS),
            content_type=record.mime_type,
            filename=record.filename,
        )
