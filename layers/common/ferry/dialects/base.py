"""What every dialect shares: a router that registers its error envelope, media type inference,
and the idempotent "upload, then answer in my shape" step."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ferry.api import ErrorRenderer, current_principal
from ferry.data.files import FileRecord
from ferry.idempotency import idempotency_key, run_once
from ferry.media import RULES, detect
from ferry.routes.file_objects import delivery_base

Render = Callable[[FileRecord, str], dict[str, Any]]


class DialectRouter(APIGatewayHttpRouter):
    """A router whose routes answer errors in another provider's envelope. `error_envelopes` maps
    each route's path template to its renderer; `ferry.api.build_resolver` collects them."""

    def __init__(self, error_envelopes: Mapping[str, ErrorRenderer]):
        super().__init__()
        self.error_envelopes = dict(error_envelopes)


def infer_media_type(head: bytes) -> str:
    """The Ferry media type whose allow-list holds the detected type; `file` for anything else."""
    detected = detect(head)
    for media_type in ("image", "video", "audio"):
        if detected in RULES[media_type].allowed:
            return media_type
    return "file"


def answer_once(
    router: Any, *, dialect: str, digest: str, upload: Callable[[], FileRecord], render: Render
) -> Response[dict[str, Any]]:
    """Run an upload under the request's Idempotency-Key (as the native routes do: the same key and
    content within 24 h replays the first answer and charges once) and answer 200 in the dialect's
    shape. The dialect's name is part of the digest, so one key reused across dialects is a 409."""
    headers = router.current_event.headers
    principal = current_principal(router)
    body = run_once(
        user_id=principal.user_id,
        key=idempotency_key(headers),
        digest=f"{dialect}:{digest}",
        operation=lambda: render(upload(), delivery_base(headers)),
        lambda_context=getattr(router, "lambda_context", None),
    )
    return Response(status_code=200, content_type="application/json", body=body)
