from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

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
