"""Named files (the KIE dialect's uploadPath + fileName): one pointer item per user and path.

Item: pk=NAME#<user>, sk=PATH#<sha256 of the file path> (a path can be longer than a sort key may
be), `file_path`, `file_id` (the current file), `ttl` (when that file's record goes too).
"""

from __future__ import annotations

import hashlib

from ferry.data import TableRepository


def _key(user_id: str, file_path: str) -> dict[str, dict[str, str]]:
    digest = hashlib.sha256(file_path.encode()).hexdigest()
    return {"pk": {"S": f"NAME#{user_id}"}, "sk": {"S": f"PATH#{digest}"}}


class NameRepository(TableRepository):
    def swap(self, user_id: str, file_path: str, file_id: str, *, ttl: int) -> str | None:
        """Point `file_path` at `file_id` and return the file it pointed at before, in one atomic
        UpdateItem: of any number of concurrent swaps, each sees the pointer the previous one left,
        so every displaced file is reported to exactly one caller."""
        response = self._client.update_item(
            TableName=self._table,
            Key=_key(user_id, file_path),
            UpdateExpression="SET file_id = :f, file_path = :p, #ttl = :t",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={":f": {"S": file_id}, ":p": {"S": file_path}, ":t": {"N": str(ttl)}},
            ReturnValues="UPDATED_OLD",
        )
        previous = response.get("Attributes", {}).get("file_id", {}).get("S")
        return str(previous) if previous else None

    def current(self, user_id: str, file_path: str) -> str | None:
        item = self._client.get_item(TableName=self._table, Key=_key(user_id, file_path)).get("Item")
        return str(item["file_id"]["S"]) if item else None
