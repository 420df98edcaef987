from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

from ferry.api import current_principal
from ferry.services import quota_service

router = APIGatewayHttpRouter()


class QuotaStatus(BaseModel):
    limit_bytes: int
    used_bytes: int
    remaining_bytes: int
    window_seconds: int
    resets_at: str


@router.get("/v1/quota", summary="Bytes used and left in the caller's rolling 24-hour window")
def get_quota() -> QuotaStatus:
    principal = current_principal(router)
    usage = quota_service().usage(principal.user_id, principal.quota_bytes)
    return QuotaStatus.model_validate(usage.as_dict())
