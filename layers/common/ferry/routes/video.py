"""POST /v1/video/create and GET /v1/video/query (Crazyrouter's unified video API, DESIGN §5)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ferry.api import current_principal
from ferry.idempotency import content_digest, idempotency_key, run_once
from ferry.routes.file_objects import delivery_base
from ferry.video.models import VideoCreate, VideoTask
from ferry.video.views import task_view

router = APIGatewayHttpRouter()


@router.post(
    "/v1/video/create",
    summary="Create a video task (poll it with GET /v1/video/query)",
    responses={200: {"description": "Accepted", "content": {"application/json": {"model": VideoTask}}}},
)
def create_video(body: VideoCreate) -> dict[str, Any]:
    from ferry.video.services import video_service

    principal = current_principal(router)
    headers = router.current_event.headers

    def create() -> dict[str, Any]:
        record = video_service().create(principal, body, delivery_base=delivery_base(headers))
        return {"id": record.id, "status": record.status, "status_update_time": record.status_update_time}

    return run_once(
        user_id=principal.user_id,
        key=idempotency_key(headers),
        digest=content_digest(body.model_dump_json()),
        operation=create,
        lambda_context=getattr(router, "lambda_context", None),
    )


@router.get(
    "/v1/video/query",
    summary="A video task's status (and video_url once completed)",
    responses={200: {"description": "The task", "content": {"application/json": {"model": VideoTask}}}},
)
def query_video(task_id: Annotated[str, Query(alias="id", min_length=1, max_length=64)]) -> dict[str, Any]:
    from ferry.video.services import video_service

    return task_view(video_service().get(current_principal(router), task_id))
