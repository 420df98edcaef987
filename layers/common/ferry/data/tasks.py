"""Video task records in the main table (DESIGN §5).

Item: pk=TASK#<id>, sk=TASK, the task's fields, `ttl` (a week after the deadline, so a finished
task stays queryable for a week), gsi1pk=USER#<user>, gsi1sk=TASK#<created>#<id> (the user's tasks,
beside their files). `request` holds the provider-neutral request (JSON) the submit step sends.
Every status change is conditional on the task still being `processing`, so the first terminal
outcome wins and nothing ever leaves a terminal state.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ferry.data import TableRepository, record_from_item, set_changes, to_item

PROCESSING, COMPLETED, FAILED = "processing", "completed", "failed"
RECORD_KEEP_SECONDS = 7 * 86400


@dataclass(frozen=True)
class TaskRecord:
    id: str
    user_id: str
    model: str
    provider: str
    status: str
    created_at: int
    status_update_time: int
    deadline: int
    request: str  # JSON: the provider-neutral request (prompt, image_urls, options)
    delivery_base: str = ""  # the API origin the caller reached (file URLs without a CDN)
    callback_url: str | None = None
    provider_task_id: str | None = None
    video_url: str | None = None
    result_file_id: str | None = None
    error_code: str | None = None
    error: str | None = None  # for a person: what happened and what to do
    input_file_ids: list[str] = field(default_factory=list)  # data-URI images stored for this task

    @property
    def request_data(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.request)
        return data


def _key(task_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"TASK#{task_id}"}, "sk": {"S": "TASK"}}


def _to_item(record: TaskRecord) -> dict[str, Any]:
    data = {k: v for k, v in asdict(record).items() if v is not None and v != []}
    data.update(
        pk=f"TASK#{record.id}",
        sk="TASK",
        ttl=record.deadline + RECORD_KEEP_SECONDS,
        gsi1pk=f"USER#{record.user_id}",
        gsi1sk=f"TASK#{record.created_at:012d}#{record.id}",
    )
    return to_item(data)


def _from_item(item: dict[str, Any]) -> TaskRecord:
    return record_from_item(TaskRecord, item, integers=("created_at", "status_update_time", "deadline"))


class TaskRepository(TableRepository):
    def put(self, record: TaskRecord) -> None:
        self._client.put_item(
            TableName=self._table, Item=_to_item(record), ConditionExpression="attribute_not_exists(pk)"
        )

    def get(self, task_id: str) -> TaskRecord | None:
        item = self._client.get_item(TableName=self._table, Key=_key(task_id), ConsistentRead=True).get("Item")
        return _from_item(item) if item else None

    def update_processing(self, task_id: str, **changes: Any) -> bool:
        """Set `changes` on a task that is still processing; False when it is not (or does not exist).
        A `status` among the changes moves it to that (terminal) status."""
        assignments, names, values = set_changes(changes)
        names["#s"] = "status"
        values[":processing"] = {"S": PROCESSING}
        return self._update_if(
            Key=_key(task_id),
            UpdateExpression="SET " + ", ".join(assignments),
            ConditionExpression="#s = :processing",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
