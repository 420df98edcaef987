"""Data access: the only modules that call AWS (through `ferry.aws`, injectable for tests)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any, TypeVar

from ferry import aws

Record = TypeVar("Record")


@functools.cache
def _serde() -> tuple[Any, Any]:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer  # imports boto3: keep off cold start

    return TypeSerializer(), TypeDeserializer()


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values as DynamoDB attribute values."""
    serializer, _ = _serde()
    return {name: serializer.serialize(value) for name, value in values.items()}


def record_from_item(cls: type[Record], item: Mapping[str, Any], *, integers: Iterable[str]) -> Record:
    """An item read back as the dataclass `cls` (attributes it has no field for are ignored);
    DynamoDB numbers come back as Decimal, so the `integers` fields are made ints again."""
    _, deserializer = _serde()
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    values = {k: deserializer.deserialize(v) for k, v in item.items() if k in names}
    for name in integers:
        if values.get(name) is not None:
            values[name] = int(values[name])
    return cls(**values)


def set_changes(changes: Mapping[str, Any]) -> tuple[list[str], dict[str, str], dict[str, Any]]:
    """`changes` as UpdateExpression SET assignments, with their attribute names and values."""
    assignments = [f"#f{i} = :v{i}" for i in range(len(changes))]
    names = {f"#f{i}": name for i, name in enumerate(changes)}
    return assignments, names, to_item({f":v{i}": value for i, value in enumerate(changes.values())})


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
