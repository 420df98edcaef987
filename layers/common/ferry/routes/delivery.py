"""Local delivery: GET/HEAD /f/<id>.<ext> → 302 to a short presigned GET (production uses CloudFront)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ferry.services import file_service

router = APIGatewayHttpRouter()


def redirect_to(location: str) -> Response[str]:
    """The 302 every delivery route answers: to a short presigned GET, never cached, never sniffed."""
    return Response(
        status_code=302,
        body="",
        headers={
            "Location": location,
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
        },
    )


@router.get("/f/<name>", include_in_schema=False)
def deliver(name: str) -> Response[str]:
    return redirect_to(file_service().delivery_link(name))


@router.head("/f/<name>", include_in_schema=False)
def deliver_head(name: str) -> Response[str]:
    return redirect_to(file_service().delivery_link(name))
