"""The bare baseline: Starlette answering with bytes encoded beforehand, and nothing else.

It serves the very bytes the mock answered with (one downlink, one 50-item page, one
create's 201), under
the same uvicorn settings, so a ratio against it shows what the mock's own work costs.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["baseline_app"]


def baseline_app(one: bytes, page: bytes, created: bytes = b"{}") -> Starlette:
    """`GET /downlinks/{downlinkId}` answers `one`, `GET /downlinks` answers `page`,
    `POST /downlinks` answers 201 with `created` (the body is read, as the mock reads it)."""

    async def get_one(request: Request) -> Response:
        return Response(one, media_type="application/json")

    async def get_page(request: Request) -> Response:
        return Response(page, media_type="application/json")

    async def post(request: Request) -> Response:
        await request.body()
        return Response(created, status_code=201, media_type="application/json")

    return Starlette(
        routes=[
            Route("/downlinks", get_page, methods=["GET"]),
            Route("/downlinks", post, methods=["POST"]),
            Route("/downlinks/{downlinkId}", get_one, methods=["GET"]),
        ]
    )
