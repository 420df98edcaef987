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


class ContendedName(RuntimeError):
    """Other uploads of the same name kept winning the swap."""


class NameRepository(TableRepository):
    def swap(self, user_id: str, file_path: str, file_id: str, *, ttl: int, attempts: int = 50) -> str | None:
        """Point `file_path` at `file_id` and return the file it pointed at before. A compare-and-swap:
        read the pointer, then write only if it still holds what was read (retried when another
        upload won the race), so each displaced file is reported to exactly one caller, however
        many uploads of the same name run at once."""
        for _ in range(attempts):
            previous = self.current(user_id, file_path)
            values = {":f": {"S": file_id}, ":p": {"S": file_path}, ":t": {"N": str(ttl)}}
            if previous is None:
                condition = "attribute_not_exists(file_id)"
            else:
                condition, values[":old"] = "file_id = :old", {"S": previous}
            if self._update_if(
                Key=_key(user_id, file_path),
                UpdateExpression="SET file_id = :f, file_path = :p, #ttl = :t",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues=values,
            ):
                return previous
        raise ContendedName(file_path)

    def current(self, user_id: str, file_path: str) -> str | None:
        item = self._client.get_item(TableName=self._table, Key=_key(user_id, file_path)).get("Item")
        return str(item["file_id"]["S"]) if item else None
