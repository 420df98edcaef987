from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

from ferry import openapi
from ferry.settings import get_settings

router = APIGatewayHttpRouter()


class Health(BaseModel):
    status: str
    stage: str
    version: str


@router.get("/v1/health", summary="Liveness, stage and version (no authentication)")
def health() -> Health:
    settings = get_settings()
    return Health(status="ok", stage=settings.stage, version=settings.version)


@router.get("/v1/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=openapi.served())
