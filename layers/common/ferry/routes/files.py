from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

from ferry.api import current_principal
from ferry.routes.file_objects import FileObject, delivery_base, file_object
from ferry.services import file_service

router = APIGatewayHttpRouter()


class FileList(BaseModel):
    data: list[FileObject]
    has_more: bool
    next_cursor: str | None


class Deleted(BaseModel):
    id: str
    deleted: bool


@router.get("/v1/files", summary="Your live files, newest first")
def list_files(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> dict[str, Any]:
    records, next_cursor = file_service().list(current_principal(router), limit=limit, cursor=cursor)
    base = delivery_base(router.current_event.headers)
    return {
        "data": [file_object(r, base) for r in records],
        "has_more": next_cursor is not None,
        "next_cursor": next_cursor,
    }


@router.get("/v1/files/<file_id>", summary="One of your files")
def get_file(file_id: str) -> dict[str, Any]:
    record = file_service().get(current_principal(router), file_id)
    return file_object(record, delivery_base(router.current_event.headers))


@router.delete("/v1/files/<file_id>", summary="Delete a file now (its quota charge is not refunded)")
def delete_file(file_id: str) -> Deleted:
    record = file_service().delete(current_principal(router), file_id)
    return Deleted(id=record.id, deleted=True)
