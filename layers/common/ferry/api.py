"""The HTTP edge shared by every API function: one resolver factory, authentication enforced for
every route that is not explicitly public, and every error rendered as the DESIGN §2 envelope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from ferry.errors import AuthenticationFailed, FerryError, InvalidRequest, NotFound
from ferry.keys import REJECTION_MESSAGES, Principal
from ferry.observability import logger, metrics, tracer

PUBLIC_PATHS = frozenset({"/v1/health", "/v1/openapi.json"})
_PRINCIPAL = "principal"
_SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def error_body(code: str, message: str, type_: str, request_id: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "type": type_}
    if request_id:
        error["request_id"] = request_id
    return {"error": error}


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


def build_resolver(*routers: Router) -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    for router in routers:
        app.include_router(router)

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

    def require_principal(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        # Powertools puts the matched route in the context; an unknown route gets its catch-all ".*"
        # route, which answers 404 to everybody rather than 401 to the unauthenticated.
        route = app.context.get("_route")
        is_unknown_route = route is None or route.rule.pattern.strip("^$") == ".*"
        if not is_unknown_route and app.context.get("_path") not in PUBLIC_PATHS:
            authorizer = app.current_event.request_context.authorizer
            app.append_context(**{_PRINCIPAL: principal_from_authorizer(authorizer.get_lambda)})
        return next_middleware(app)

    def security_headers(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        response = next_middleware(app)
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    app.use(middlewares=[security_headers, require_principal])

    def handle_ferry_error(exc: FerryError) -> Response[Any]:
        rid = request_id() if exc.status >= 500 else None
        return render(exc.status, error_body(exc.code, exc.message, exc.type, rid), exc.headers)

    def handle_validation_error(exc: RequestValidationError) -> Response[Any]:
        return handle_ferry_error(InvalidRequest(_describe_validation_error(exc)))

    def handle_not_found(_: NotFoundError) -> Response[Any]:
        event = app.current_event
        message = f"There is no route {event.http_method} {event.path}. See /v1/openapi.json."
        return handle_ferry_error(NotFound(message, code="route_not_found"))

    app.exception_handler(FerryError)(handle_ferry_error)
    app.exception_handler(RequestValidationError)(handle_validation_error)
    app.not_found(handle_not_found)

    @app.exception_handler(Exception)
    def handle_unexpected(exc: Exception) -> Response[Any]:
        logger.exception("Unhandled error")
        return render(
            500,
            error_body(
                "internal_error",
                "Something went wrong on our side. Retry; if it persists, report the request_id.",
                "api_error",
                request_id(),
            ),
        )

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
