"""Quota counters in the main table: one item per user.

Item: pk=QUOTA#<user_id>, sk=QUOTA, `used` (bytes charged and not yet compacted away) and one
attribute `b<bucket_start>` per 5-minute bucket holding the bytes charged in it, plus `ttl` so an
idle user's item disappears once nothing in it can count any more.

Every write is a single conditional UpdateItem, so concurrent reservations are serialised by
DynamoDB and none can push `used` past the limit.
"""

from __future__ import annotations

from typing import Any

from ferry.data import TableRepository

BUCKET_PREFIX = "b"


class QuotaRepository(TableRepository):
    @staticmethod
    def _key(user_id: str) -> dict[str, Any]:
        return {"pk": {"S": f"QUOTA#{user_id}"}, "sk": {"S": "QUOTA"}}

    def try_charge(self, user_id: str, bucket: int, nbytes: int, max_used_before: int, ttl: int) -> bool:
        """Add `nbytes` to `used` and to the bucket if `used` is at most `max_used_before`."""
        return self._update_if(
            Key=self._key(user_id),
            UpdateExpression="ADD used :n, #b :n SET #ttl = :ttl",
            ConditionExpression="attribute_not_exists(used) OR used <= :room",
            ExpressionAttributeNames={"#b": f"{BUCKET_PREFIX}{bucket}", "#ttl": "ttl"},
            ExpressionAttributeValues={
                ":n": {"N": str(nbytes)},
                ":room": {"N": str(max_used_before)},
                ":ttl": {"N": str(ttl)},
            },
        )

    def uncharge(self, user_id: str, bucket: int, nbytes: int) -> bool:
        """Give back `nbytes` charged in `bucket`; False if the bucket has already left the window."""
        return self._update_if(
            Key=self._key(user_id),
            UpdateExpression="ADD used :neg, #b :neg",
            ConditionExpression="#b >= :n",
            ExpressionAttributeNames={"#b": f"{BUCKET_PREFIX}{bucket}"},
            ExpressionAttributeValues={":n": {"N": str(nbytes)}, ":neg": {"N": str(-nbytes)}},
        )

    def read(self, user_id: str) -> dict[int, int]:
        """The bucket totals, read consistently: {bucket_start: bytes}."""
        item = self._client.get_item(TableName=self._table, Key=self._key(user_id), ConsistentRead=True).get("Item", {})
        return {
            int(name[len(BUCKET_PREFIX) :]): int(value["N"])
            for name, value in item.items()
            if name.startswith(BUCKET_PREFIX) and name[len(BUCKET_PREFIX) :].isdigit()
        }

    def compact(self, user_id: str, stale: dict[int, int]) -> bool:
        """Drop buckets that have left the window, if they still hold what was read."""
        names = {f"#b{i}": f"{BUCKET_PREFIX}{b}" for i, b in enumerate(stale)}
        values: dict[str, Any] = {f":v{i}": {"N": str(v)} for i, v in enumerate(stale.values())}
        values[":neg"] = {"N": str(-sum(stale.values()))}
        return self._update_if(
            Key=self._key(user_id),
            UpdateExpression="ADD used :neg REMOVE " + ", ".join(names),
            ConditionExpression=" AND ".join(f"#b{i} = :v{i}" for i in range(len(stale))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
