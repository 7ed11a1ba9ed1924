"""Small fake targets for the toolkit's own tests: a Starlette app with an optional M1."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contract_tests.registry import Registry, Tag
from mock_server.server import MockServer, free_port

__all__ = ["fake_app", "serving", "unused_url", "tiny_registry"]


def fake_app(health: Any = None, *, list_status: int = 200) -> Starlette:
    """GET /__mock/health answers `health` (404 when None); GET /downlinks `list_status`."""

    async def health_route(request: Request) -> Response:
        if health is None:
            return Response(status_code=404)
        return JSONResponse(health)

    async def listing(request: Request) -> Response:
        return JSONResponse({"items": []}, status_code=list_status)

    return Starlette(
        routes=[
            Route("/__mock/health", health_route),
            Route("/downlinks", listing),
        ]
    )


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve `app` on a free loopback port; yields its base URL."""
    with MockServer(app=app) as server:
        yield server.base_url


def unused_url() -> str:
    """A loopback URL nothing listens on."""
    return f"http://127.0.0.1:{free_port()}"


def tiny_registry(*, failing: bool = False) -> Registry:
    """One check that lists downlinks (200 passes), and optionally one that always fails."""
    reg = Registry()

    @reg.register("L3", "the list answers 200", tag=Tag.SPEC)
    def list_answers(ctx: Any) -> None:
        ctx.expect_status(ctx.request("GET", "/downlinks"), 200)

    if failing:

        @reg.register("L5", "always fails", tag=Tag.SPEC)
        def always_fails(ctx: Any) -> None:
            ctx.fail(
                "broken on purpose", ctx.request("GET", "/downlinks"), expected="a", actual="b"
            )

    return reg
