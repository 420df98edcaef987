"""Named uploads (the KIE dialect): the same file path of the same user names one file at a time.

After a new file is stored (record written), its path's pointer is swapped to it (a conditional
compare-and-swap, ferry.data.names) and
the file it displaced is deleted like DELETE /v1/files/{id} would: object and record go, the table
stream publishes `file.deleted`, and its quota charge is not refunded (it settles: bytes accepted
stay counted in the rolling window, exactly as for any deleted file).
"""

from __future__ import annotations

from ferry.data.files import FileRecord
from ferry.data.names import ContendedName, NameRepository
from ferry.errors import Conflict, NotFound
from ferry.files import RECORD_GRACE_SECONDS, FileService
from ferry.keys import Principal
from ferry.observability import logger
from ferry.quota import Reservation


class NamedFiles:
    def __init__(self, files: FileService, names: NameRepository):
        self.files = files
        self.names = names

    def publish(self, principal: Principal, file_path: str, record: FileRecord) -> str | None:
        """Make `record` the file at `file_path`; returns the id of the file it replaced, if any."""
        try:
            displaced = self.names.swap(
                principal.user_id, file_path, record.id, ttl=record.expires_epoch + RECORD_GRACE_SECONDS
            )
        except ContendedName:
            # Never named, so never reachable by name: undo the upload as any failed upload is undone.
            self.files.delete(principal, record.id)
            self.files.quota.refund(Reservation(record.user_id, record.quota_bucket, record.quota_bytes))
            raise Conflict(
                "Too many uploads of this fileName in this uploadPath at once; retry.", code="name_contended"
            ) from None
        if displaced and displaced != record.id:
            try:
                self.files.delete(principal, displaced)
            except NotFound:
                pass  # already deleted (DELETE /v1/files) or expired
            except Exception:  # the new file is stored and current; the old one expires on its own
                logger.exception("could not delete a replaced file", extra={"file_id": displaced})
        return displaced

    def current(self, principal: Principal, file_path: str) -> str | None:
        return self.names.current(principal.user_id, file_path)
