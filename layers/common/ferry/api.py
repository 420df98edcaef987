"""The HTTP edge shared by every API function: one resolver factory, authentication enforced for
every route that is not explicitly public, and every error rendered as the DESIGN §2 envelope."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from ferry.errors import AuthenticationFailed, FerryError, InvalidRequest, NotFound, PayloadTooLarge
from ferry.keys import REJECTION_MESSAGES, Principal
from ferry.observability import logger, metrics, tracer

PUBLIC_PATHS = frozenset({"/v1/health", "/v1/openapi.json"})  # documented as unauthenticated
_PRINCIPAL = "principal"
_SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def error_body(code: str, message: str, type_: str, request_id: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "type": type_}
    if request_id:
        error["request_id"] = request_id
    return {"error": error}


ErrorRenderer = Callable[[FerryError, str | None], dict[str, Any]]


def native_error(exc: FerryError, request_id: str | None) -> dict[str, Any]:
    """The DESIGN §2 envelope: every route that does not speak another provider's dialect."""
    return error_body(exc.code, exc.message, exc.type, request_id)


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = (r"[^/]+" if p.startswith("{") or p.startswith("<") else re.escape(p) for p in template.split("/"))
    return re.compile("^" + "/".join(parts) + "$")


def renderer_for(envelopes: Mapping[str, ErrorRenderer], path: str | None) -> ErrorRenderer:
    """The error envelope of the route at `path` (a dialect's, registered by its router), else native."""
    for template, renderer in envelopes.items():
        if path and _template_pattern(template).match(path):
            return renderer
    return native_error


def _event_path(event: Mapping[str, Any]) -> str | None:
    http = (event.get("requestContext") or {}).get("http") or {}
    return event.get("rawPath") or http.get("path")


def principal_from_authorizer(authorizer_context: dict[str, Any] | None) -> Principal:
    """The caller established by the Lambda authorizer (simple response context), or 401."""
    ctx = authorizer_context or {}
    if str(ctx.get("authenticated", "")).lower() != "true" or not ctx.get("user_id"):
        reason = str(ctx.get("reason") or "missing")
        raise AuthenticationFailed(REJECTION_MESSAGES.get(reason, REJECTION_MESSAGES["unknown"]))
    quota = str(ctx.get("quota_bytes") or "")
    return Principal(
        user_id=str(ctx["user_id"]),
        key_id=str(ctx.get("key_id", "")),
        quota_bytes=int(quota) if quota.isdigit() else None,
    )


def _describe_validation_error(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "The request is not valid."
    first = errors[0]
    if first.get("type") == "json_invalid":
        return "The request body is not valid JSON. Send a JSON object with Content-Type: application/json."
    location = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
    field = ".".join(location) or "request"
    return f"Invalid '{field}': {first.get('msg', 'invalid value')}."


class FerryResolver(APIGatewayHttpResolver):
    """Admits a request (authentication, then the body-size cap) before anything parses it."""

    def __init__(self, *, public: bool, max_body_bytes: int | None):
        super().__init__(enable_validation=True)
        self._public = public
        self._max_body_bytes = max_body_bytes
        # Route path template → error renderer, for routes that speak another provider's dialect
        # (registered by their routers' `error_envelopes`); chosen by path, so that errors raised
        # before the body is parsed (401, 413) take the dialect's shape too.
        self.error_envelopes: dict[str, ErrorRenderer] = {}

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        try:
            principal = self._admit(event)
        except FerryError as exc:
            return self._early_error(exc, event, context)
        if principal is not None:
            self.append_context(**{_PRINCIPAL: principal})
        return super().resolve(event, context)

    def _admit(self, event: Mapping[str, Any]) -> Principal | None:
        principal = None
        if not self._public:
            authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
            principal = principal_from_authorizer(authorizer.get("lambda"))
        if self._max_body_bytes is not None:
            body = event.get("body") or ""
            size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode())
            if size > self._max_body_bytes:
                raise PayloadTooLarge(
                    f"This request body is {size} bytes; requests through API Gateway are limited to "
                    f"{self._max_body_bytes} bytes. Use POST /v1/files/uploads/presign to upload larger files "
                    "straight to storage."
                )
        return principal

    def _early_error(self, exc: FerryError, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        request_id = getattr(context, "aws_request_id", None) or (event.get("requestContext") or {}).get("requestId")
        render_error = renderer_for(self.error_envelopes, _event_path(event))
        body = render_error(exc, request_id if exc.status >= 500 else None)
        return {
            "statusCode": exc.status,
            "headers": {"Content-Type": "application/json", **_SECURITY_HEADERS, **exc.headers},
            "body": json.dumps(body),
            "isBase64Encoded": False,
        }


def build_resolver(*routers: Router, public: bool = False, max_body_bytes: int | None = None) -> FerryResolver:
    """The resolver for one function. `public` functions serve only unauthenticated routes (and the
    404 for unknown ones); every other function requires an authenticated caller for every request."""
    app = FerryResolver(public=public, max_body_bytes=max_body_bytes)
    for router in routers:
        app.include_router(router)
        app.error_envelopes.update(getattr(router, "error_envelopes", {}))

    def request_id() -> str:
        lambda_context = getattr(app, "lambda_context", None)
        return getattr(lambda_context, "aws_request_id", None) or app.current_event.request_context.request_id

    def render(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response[Any]:
        return Response(
            status_code=status,
            content_type="application/json",
            body=body,
            headers={**_SECURITY_HEADERS, **(headers or {})},
        )

    def security_headers(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        response = next_middleware(app)
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    app.use(middlewares=[security_headers])

    def handle_ferry_error(exc: FerryError) -> Response[Any]:
        rid = request_id() if exc.status >= 500 else None
        render_error = renderer_for(app.error_envelopes, app.current_event.path)
        return render(exc.status, render_error(exc, rid), exc.headers)

    def handle_validation_error(exc: RequestValidationError) -> Response[Any]:
        return handle_ferry_error(InvalidRequest(_describe_validation_error(exc)))

    def handle_not_found(_: NotFoundError) -> Response[Any]:
        event = app.current_event
        message = f"There is no route {event.http_method} {event.path}. See /v1/openapi.json."
        return handle_ferry_error(NotFound(message, code="route_not_found"))

    def handle_unexpected(exc: Exception) -> Response[Any]:
        logger.exception("Unhandled error")
        message = "Something went wrong on our side. Retry; if it persists, report the request_id."
        return handle_ferry_error(FerryError(message))

    app.exception_handler(FerryError)(handle_ferry_error)
    app.exception_handler(RequestValidationError)(handle_validation_error)
    app.not_found(handle_not_found)
    app.exception_handler(Exception)(handle_unexpected)
    return app


class _HasContext(Protocol):
    context: dict[str, Any]


def current_principal(router: _HasContext) -> Principal:
    """The authenticated caller of the current request (set by the auth middleware)."""
    principal = router.context.get(_PRINCIPAL)
    if not isinstance(principal, Principal):  # a public route asked for a caller
        raise AuthenticationFailed(REJECTION_MESSAGES["missing"])
    return principal


def lambda_handler_for(app: APIGatewayHttpResolver) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda entry point for a resolver, with Powertools context and metrics (never the event)."""

    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler  # type: ignore[no-any-return]  # Powertools' decorators are untyped
