"""The task as GET /v1/video/query, events and callbacks show it (plain dicts: no pydantic at import,
so the workflow's functions start fast; ferry.video.models documents the same shape for OpenAPI)."""

from __future__ import annotations

from typing import Any

from ferry.data.tasks import TaskRecord


def task_view(record: TaskRecord) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": record.id,
        "status": record.status,
        "status_update_time": record.status_update_time,
        "model": record.model,
        "created_at": record.created_at,
    }
    if record.video_url:
        view["video_url"] = record.video_url
    if record.error:
        view["error"] = {"code": record.error_code or "failed", "message": record.error}
    return view
