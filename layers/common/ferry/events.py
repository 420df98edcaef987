"""Domain events (DESIGN §7), derived from the table's stream so no upload pays for a PutEvents call.

file.confirmed  a file record appears as confirmed, or turns confirmed
file.rejected   a file record turns rejected
file.deleted    a file record disappears: `reason` is "deleted" (DELETE /v1/files) or "expired" (TTL)

Details carry ids, user, sizes, types and the delivery path, never content or keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

SOURCE = "ferry"
_DETAIL_FIELDS = ("id", "user_id", "size", "mime_type", "media_type", "purpose", "status", "expires_at", "created_at")


@dataclass(frozen=True)
class DomainEvent:
    record_id: str  # the stream record's sequence number, for partial batch failures
    detail_type: str
    detail: dict[str, Any]


def _plain(image: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in image.items()}


def _detail(item: dict[str, Any], delivery_base_url: str) -> dict[str, Any]:
    detail: dict[str, Any] = {k: item[k] for k in _DETAIL_FIELDS if k in item}
    detail["size"] = int(detail.get("size", 0))
    detail["path"] = f"/f/{item['id']}.{item.get('extension', 'bin')}"
    if delivery_base_url:
        detail["url"] = delivery_base_url + detail["path"]
    return detail


def from_stream(records: Iterable[dict[str, Any]], delivery_base_url: str = "") -> list[DomainEvent]:
    events = []
    for record in records:
        change = record.get("dynamodb", {})
        if not str(change.get("Keys", {}).get("pk", {}).get("S", "")).startswith("FILE#"):
            continue
        new = _plain(change.get("NewImage", {}))
        old = _plain(change.get("OldImage", {}))
        sequence = str(change.get("SequenceNumber", ""))
        name = record.get("eventName")
        if name in ("INSERT", "MODIFY") and new.get("status") != old.get("status"):
            if new.get("status") in ("confirmed", "rejected"):
                detail = _detail(new, delivery_base_url)
                if new.get("reason"):
                    detail["reason"] = new["reason"]
                events.append(DomainEvent(sequence, f"file.{new['status']}", detail))
        elif name == "REMOVE" and old:
            by_ttl = record.get("userIdentity", {}).get("principalId") == "dynamodb.amazonaws.com"
            detail = {**_detail(old, delivery_base_url), "reason": "expired" if by_ttl else "deleted"}
            events.append(DomainEvent(sequence, "file.deleted", detail))
    return events
