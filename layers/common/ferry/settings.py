"""Runtime settings: one pydantic model, read from the environment once per container."""

from __future__ import annotations

import functools
import ipaddress
import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ferry import __version__


class SettingsError(RuntimeError):
    """The environment does not describe a usable deployment; the message names the variable."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    stage: str = Field("dev", alias="FERRY_STAGE", pattern=r"^[a-z0-9-]{1,32}$")
    version: str = Field(__version__, alias="FERRY_VERSION")
    table_name: str = Field(alias="FERRY_TABLE_NAME", min_length=3)
    bucket_name: str = Field("", alias="FERRY_BUCKET_NAME")
    event_bus_name: str = Field("", alias="FERRY_EVENT_BUS_NAME")
    quota_limit_bytes: int = Field(209_715_200, alias="FERRY_QUOTA_LIMIT_BYTES", gt=0)
    cdn_domain: str = Field("", alias="FERRY_CDN_DOMAIN", pattern=r"^[a-z0-9.-]*$")
    delivery_base_url: str = Field("", alias="FERRY_DELIVERY_BASE_URL", pattern=r"^(https?://[^/\s]+(/[^\s]*)?)?$")
    idempotency_table_name: str = Field("", alias="FERRY_IDEMPOTENCY_TABLE_NAME")
    url_allowed_networks: str = Field("", alias="FERRY_URL_ALLOWED_NETWORKS", max_length=2048)
    presign_window_seconds: int = Field(600, alias="FERRY_PRESIGN_WINDOW_SECONDS", ge=5, le=900)
    pending_grace_seconds: int = Field(300, alias="FERRY_PENDING_GRACE_SECONDS", ge=0, le=1200)
    signing_secret_arn: str = Field("", alias="FERRY_SIGNING_SECRET_ARN", max_length=2048)
    # Video tasks (DESIGN §5; ferry.video): model routing (JSON, see ferry.video.config), the default
    # deadline, the state machine the create route starts, the callback signing secret's name.
    video_models: str = Field("{}", alias="FERRY_VIDEO_MODELS", max_length=65536)
    video_deadline_seconds: int = Field(1800, alias="FERRY_VIDEO_DEADLINE_SECONDS", ge=60, le=21600)
    video_result_ttl_hours: int = Field(72, alias="FERRY_VIDEO_RESULT_TTL_HOURS", ge=1, le=168)
    video_state_machine_arn: str = Field("", alias="FERRY_VIDEO_STATE_MACHINE_ARN")
    callback_secret_name: str = Field("", alias="FERRY_CALLBACK_SECRET_NAME")

    @field_validator("delivery_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("url_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            ipaddress.ip_network(part)  # ValueError names the bad network
        return value

    @field_validator("video_models")
    @classmethod
    def _video_models(cls, value: str) -> str:
        from ferry.video.config import parse_routes

        parse_routes(value)  # ValueError names the model and field
        return value

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        source = os.environ if environ is None else environ
        try:
            return cls.model_validate({k: v for k, v in source.items() if k.startswith("FERRY_")})
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
            raise SettingsError(f"Invalid Ferry configuration ({problems})") from None


@functools.cache
def get_settings() -> Settings:
    """The container's settings, validated on first use and then reused."""
    return Settings.from_env()
