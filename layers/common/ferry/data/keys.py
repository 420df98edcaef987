"""API key records in the main table. A key is stored only as its SHA-256 digest.

Item: pk=KEY#<digest>, sk=KEY, key_id, user_id, status, created_at, expires_at?, quota_bytes?,
gsi1pk=USER#<user_id>, gsi1sk=KEY#<created_at>#<key_id> (list a user's keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ferry.data import TableRepository


@dataclass(frozen=True)
class KeyRecord:
    digest: str
    key_id: str
    user_id: str
    status: str
    created_at: str
    expires_at: str | None = None
    quota_bytes: int | None = None


def _to_item(record: KeyRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": f"KEY#{record.digest}"},
        "sk": {"S": "KEY"},
        "digest": {"S": record.digest},
        "key_id": {"S": record.key_id},
        "user_id": {"S": record.user_id},
        "status": {"S": record.status},
        "created_at": {"S": record.created_at},
        "gsi1pk": {"S": f"USER#{record.user_id}"},
        "gsi1sk": {"S": f"KEY#{record.created_at}#{record.key_id}"},
    }
    if record.expires_at:
        item["expires_at"] = {"S": record.expires_at}
    if record.quota_bytes is not None:
        item["quota_bytes"] = {"N": str(record.quota_bytes)}
    return item


def _from_item(item: dict[str, Any]) -> KeyRecord:
    return KeyRecord(
        digest=item["digest"]["S"],
        key_id=item["key_id"]["S"],
        user_id=item["user_id"]["S"],
        status=item["status"]["S"],
        created_at=item["created_at"]["S"],
        expires_at=item.get("expires_at", {}).get("S"),
        quota_bytes=int(item["quota_bytes"]["N"]) if "quota_bytes" in item else None,
    )


class KeyRepository(TableRepository):
    def put(self, record: KeyRecord) -> None:
        self._client.put_item(
            TableName=self._table,
            Item=_to_item(record),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get(self, digest: str) -> KeyRecord | None:
        item = self._client.get_item(TableName=self._table, Key={"pk": {"S": f"KEY#{digest}"}, "sk": {"S": "KEY"}}).get(
            "Item"
        )
        return _from_item(item) if item else None

    def list_for_user(self, user_id: str) -> list[KeyRecord]:
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :u AND begins_with(gsi1sk, :k)",
            ExpressionAttributeValues={":u": {"S": f"USER#{user_id}"}, ":k": {"S": "KEY#"}},
        )
        return [_from_item(item) for page in pages for item in page["Items"]]

    def list_all(self) -> list[KeyRecord]:
        pages = self._client.get_paginator("scan").paginate(
            TableName=self._table,
            FilterExpression="sk = :k AND begins_with(pk, :p)",
            ExpressionAttributeValues={":k": {"S": "KEY"}, ":p": {"S": "KEY#"}},
        )
        return [_from_item(item) for page in pages for item in page["Items"]]

    def set_status(self, digest: str, status: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": f"KEY#{digest}"}, "sk": {"S": "KEY"}},
            UpdateExpression="SET #s = :s",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": status}},
        )
