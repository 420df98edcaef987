"""Data access: the only modules that call AWS (through `ferry.aws`, injectable for tests)."""

from __future__ import annotations

from typing import Any

from ferry import aws


class TableRepository:
    """A repository over one DynamoDB table; pass a client to use something other than the shared one."""

    def __init__(self, table_name: str, dynamodb: Any | None = None):
        self._table = table_name
        self._ddb = dynamodb

    @property
    def _client(self) -> Any:
        return self._ddb or aws.client("dynamodb")

    def _update_if(self, **update: Any) -> bool:
        """An UpdateItem on this table; False when its ConditionExpression does not hold."""
        from botocore.exceptions import ClientError

        try:
            self._client.update_item(TableName=self._table, **update)
            return True
        except ClientError as exc:
            if aws.is_conditional_check_failure(exc):
                return False
            raise
