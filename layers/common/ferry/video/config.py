"""Model routing: which provider serves a model, where, with which key (template parameter
`VideoModels`, env FERRY_VIDEO_MODELS), e.g.::

    {"veo3.1-components": {"provider": "unified", "base_url": "https://crazyrouter.com",
                           "secret": "/ferry/prod/crazyrouter-key"},
     "kling-v3":          {"provider": "kling", "base_url": "https://crazyrouter.com",
                           "secret": "ferry/prod/kling-key", "mode": "std", "deadline_seconds": 3600}}

`secret` names an SSM SecureString parameter (a name starting with "/") or a Secrets Manager secret
holding the upstream API key; the key itself is never in the template or the environment.
"""

from __future__ import annotations

import functools
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MODEL_NAME = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$"


class ModelRoute(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: Literal["unified", "kling"]
    base_url: str = Field(pattern=r"^https?://[^/\s?#]+(/[^\s?#]*)?$")
    secret: str | None = Field(None, min_length=1, max_length=2048)
    upstream_model: str | None = Field(None, pattern=MODEL_NAME)
    deadline_seconds: int | None = Field(None, ge=5, le=21600)
    mode: Literal["std", "pro"] = "std"  # Kling's generation mode
    timeout_seconds: float = Field(20.0, gt=0, le=25)  # per upstream request (read); connect is 5 s at most

    @property
    def base(self) -> str:
        return self.base_url.rstrip("/")


@functools.lru_cache(maxsize=4)
def parse_routes(text: str) -> dict[str, ModelRoute]:
    """The routes of a FERRY_VIDEO_MODELS value; ValueError says which model and field is wrong."""
    try:
        raw = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise ValueError(f"FERRY_VIDEO_MODELS is not valid JSON ({exc.msg})") from None
    if not isinstance(raw, dict):
        raise ValueError("FERRY_VIDEO_MODELS must be a JSON object mapping model names to routes")
    routes: dict[str, ModelRoute] = {}
    for name, spec in raw.items():
        if not isinstance(name, str) or not _valid_name(name):
            raise ValueError(f"FERRY_VIDEO_MODELS: {name!r} is not a valid model name")
        try:
            routes[name] = ModelRoute.model_validate(spec)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "route"
            raise ValueError(f"FERRY_VIDEO_MODELS[{name!r}].{where}: {first['msg']}") from None
    return routes


def _valid_name(name: str) -> bool:
    import re

    return re.fullmatch(MODEL_NAME, name) is not None
