"""File records in the main table.

Item: pk=FILE#<id>, sk=FILE, the file object's fields, `key` (the object key), the quota charge
(`quota_bucket`, `quota_bytes`) so it can be settled or refunded later, `ttl` (a week after the
object can exist at all, so the record outlives it), gsi1pk=USER#<user>, gsi1sk=FILE#<created>#<id>.
"""

from __future__ import annotations

import base64
import functools
import json
from dataclasses import dataclass, fields
from typing import Any

from ferry.data import TableRepository, record_from_item, set_changes, to_item


@functools.cache
@dataclass(frozen=True)
class FileRecord:
    id: str
    user_id: str
    key: str
    mime_type: str
    size: int
    sha256: str
    filename: str
    purpose: str
    media_type: str
    status: str
    created_at: str
    expires_at: str
    expires_epoch: int
    extension: str
    quota_bucket: int
    quota_bytes: int
    width: int | None = None
    height: int | None = None
    upload_expires_epoch: int | None = None  # presigned uploads: when the upload window closes
    reason: str | None = None  # rejected files: why, for a person


def _to_item(record: FileRecord, ttl: int) -> dict[str, Any]:
    data = {f.name: value for f in fields(record) if (value := getattr(record, f.name)) is not None}
    data.update(
        pk=f"FILE#{record.id}",
        sk="FILE",
        ttl=ttl,
        gsi1pk=f"USER#{record.user_id}",
        gsi1sk=f"FILE#{record.created_at}#{record.id}",
    )
    if record.status == "pending" and record.upload_expires_epoch is not None:
        # Sparse index of uploads still awaited, ordered by when their window closes (the sweeper's).
        data.update(gsi2pk="PENDING", gsi2sk=f"{record.upload_expires_epoch:012d}#{record.id}")
    return to_item(data)


_INTEGERS = ("size", "expires_epoch", "quota_bucket", "quota_bytes", "width", "height", "upload_expires_epoch")


def _from_item(item: dict[str, Any]) -> FileRecord:
    return record_from_item(FileRecord, item, integers=_INTEGERS)


class FileRepository(TableRepository):
    def put(self, record: FileRecord, *, ttl: int) -> None:
        self._client.put_item(
            TableName=self._table, Item=_to_item(record, ttl), ConditionExpression="attribute_not_exists(pk)"
        )

    def get(self, file_id: str) -> FileRecord | None:
        item = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": f"FILE#{file_id}"}, "sk": {"S": "FILE"}}
        ).get("Item")
        return _from_item(item) if item else None

    def settle_pending(self, file_id: str, status: str, **changes: Any) -> bool:
        """Move a pending file to `status` (and set `changes`) unless something already settled it."""
        assignments, names, values = set_changes(changes)
        names["#s"] = "status"
        values.update({":pending": {"S": "pending"}, ":status": {"S": status}})
        assignments.insert(0, "#s = :status")
        return self._update_if(
            Key={"pk": {"S": f"FILE#{file_id}"}, "sk": {"S": "FILE"}},
            UpdateExpression="SET " + ", ".join(assignments) + " REMOVE gsi2pk, gsi2sk",
            ConditionExpression="#s = :pending",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def pending_closed_before(self, epoch: int, limit: int = 100) -> list[FileRecord]:
        """Presigned uploads whose window closed before `epoch` and that were never settled."""
        page = self._client.query(
            TableName=self._table,
            IndexName="gsi2",
            KeyConditionExpression="gsi2pk = :p AND gsi2sk < :before",
            ExpressionAttributeValues={":p": {"S": "PENDING"}, ":before": {"S": f"{epoch:012d}"}},
            Limit=limit,
        )
        return [_from_item(item) for item in page["Items"]]

    def delete(self, file_id: str) -> None:
        self._client.delete_item(TableName=self._table, Key={"pk": {"S": f"FILE#{file_id}"}, "sk": {"S": "FILE"}})

    def list_for_user(
        self, user_id: str, *, live_after_epoch: int, limit: int, cursor: str | None
    ) -> tuple[list[FileRecord], str | None]:
        """Newest first; the cursor is opaque and can only ever continue this user's listing."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :u AND begins_with(gsi1sk, :f)",
            "FilterExpression": "expires_epoch > :now AND #s <> :rejected",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {
                ":u": {"S": f"USER#{user_id}"},
                ":f": {"S": "FILE#"},
                ":now": {"N": str(live_after_epoch)},
                ":rejected": {"S": "rejected"},
            },
            "ScanIndexForward": False,
        }
        if cursor:
            params["ExclusiveStartKey"] = self._decode_cursor(cursor, user_id)
        records: list[FileRecord] = []
        while len(records) < limit:
            params["Limit"] = limit - len(records)
            page = self._client.query(**params)
            records.extend(_from_item(item) for item in page["Items"])
            last = page.get("LastEvaluatedKey")
            if not last:
                return records, None
            params["ExclusiveStartKey"] = last
        last_record = records[-1]
        return records, self._encode_cursor(last_record)

    @staticmethod
    def _encode_cursor(record: FileRecord) -> str:
        raw = json.dumps([record.created_at, record.id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _decode_cursor(cursor: str, user_id: str) -> dict[str, Any]:
        try:
            created_at, file_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            assert isinstance(created_at, str) and isinstance(file_id, str)
        except Exception:
            raise ValueError("invalid cursor") from None
        return {
            "pk": {"S": f"FILE#{file_id}"},
            "sk": {"S": "FILE"},
            "gsi1pk": {"S": f"USER#{user_id}"},
            "gsi1sk": {"S": f"FILE#{created_at}#{file_id}"},
        }
