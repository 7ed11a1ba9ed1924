"""The ASGI application: public routes, control plane, and problem+json for every error."""

from __future__ import annotations

import logging
from typing import Any, cast

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from mock_server import loopwatch
from mock_server.config import MockConfig
from mock_server.control import journal_routes
from mock_server.control import routes as control_routes
from mock_server.control.guard import ControlGuard
from mock_server.control.journal import JournalMiddleware
from mock_server.domain.errors import DomainError
from mock_server.http import api
from mock_server.http.problems import MockError, problem_for, problem_response
from mock_server.mock import Mock
from mock_server.ui import routes as ui_routes

__all__ = ["create_app", "MockApp"]

log = logging.getLogger("mock_server")

_HTTP_PROBLEMS = {
    404: ("/problems/not-found", "Not found", "no such resource: see openapi.json for the paths"),
    405: (
        "/problems/method-not-allowed",
        "Method not allowed",
        "this path does not take that method",
    ),
}


async def _problem(request: Request, exc: Exception) -> Response:
    """The one translation of the mock's errors, the domain's and the edge's (E1)."""
    assert isinstance(exc, (MockError, DomainError))
    return problem_for(exc, request.url.path)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    type_, title, detail = _HTTP_PROBLEMS.get(
        exc.status_code, ("/problems/http-error", "HTTP error", str(exc.detail))
    )
    return problem_response(
        exc.status_code, type_, title, detail, request.url.path, headers=exc.headers
    )


async def _client_gone(request: Request, exc: Exception) -> Response:
    """The client left mid-body: nobody reads this answer, and it is no bug to log."""
    return Response(status_code=400)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem_response(
        500,
        "/problems/internal-error",
        "Internal error",
        "the mock failed unexpectedly; this is a bug in the mock",
        request.url.path,
    )


class MockApp(Starlette):
    """Starlette with the guard outermost (a refused request reaches nothing, the journal
    included), then the journal and faults (M7, M8): they see every answer, 500s
    included, and a dropped connection drops the server's socket."""

    def build_middleware_stack(self) -> Any:
        mock: Mock = self.state.mock
        config = mock.config
        return ControlGuard(
            # The journal types its ASGI arguments as dicts, the guard as mappings.
            cast(Any, JournalMiddleware(super().build_middleware_stack(), mock)),
            listen_host=config.host,
            admin_token=config.admin_token,
            allowed_hosts=config.allowed_hosts,
        )


def create_app(config: MockConfig | None = None, *, mock: Mock | None = None) -> Starlette:
    """Build the mock's ASGI app. Its state is `app.state.mock` (a `Mock`)."""
    mock = mock or Mock(config)
    app = MockApp(
        routes=[
            *api.routes,
            *control_routes.routes,
            *journal_routes.routes,
            *ui_routes.routes,
            *(loopwatch.routes() if loopwatch.enabled() else []),  # benchmarks only
        ],
        exception_handlers={
            MockError: _problem,
            DomainError: _problem,
            HTTPException: _http_error,
            ClientDisconnect: _client_gone,
            Exception: _unexpected,
        },
    )
    # A path with a trailing slash is an unknown path (E3: 404 problem+json), not a
    # redirect to the path without it.
    app.router.redirect_slashes = False
    app.state.mock = mock
    return app
