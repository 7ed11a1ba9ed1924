"""The one place every request starts: due moves fire first (T3), then the caller is
authenticated for the operation's scope (A1, A2), then the handler runs."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from mock_server.config import ClockMode, MockConfig
from mock_server.domain.errors import DomainError
from mock_server.http.auth import Principal
from mock_server.http.endpoint import endpoint, ticked
from mock_server.http.problems import MockError, problem_for
from mock_server.mock import Mock
from tests.mock_server.conftest import START_MS, auth, problem


def _app(mock: Mock, seen: list[Any]) -> Starlette:
    @endpoint("downlink.write")
    async def operation(request: Request, mock: Mock, caller: Principal) -> Response:
        seen.append((caller.client_id, mock.clock.pending))
        return JSONResponse({"ok": True})

    async def control(request: Request) -> Response:
        seen.append(("control", (await ticked(request)).clock.pending))
        return JSONResponse({"ok": True})

    async def on_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, (MockError, DomainError))
        return problem_for(exc, request.url.path)

    app = Starlette(
        routes=[Route("/op", operation, methods=["POST"]), Route("/ctl", control)],
        exception_handlers={MockError: on_error, DomainError: on_error},
    )
    app.state.mock = mock
    return app


@pytest.fixture
def mock() -> Mock:
    return Mock(MockConfig(clock_mode=ClockMode.MANUAL, clock_start=START_MS))


@pytest.mark.rule("T3")
def test_t3_due_moves_fire_before_the_handler(mock: Mock) -> None:
    seen: list[Any] = []
    fired: list[int] = []
    client = TestClient(_app(mock, seen))
    mock.clock.schedule(START_MS, fired.append)  # due now: the next request fires it
    assert client.post("/op", headers=auth("client-a")).status_code == 200
    assert fired == [START_MS] and seen == [("client-a", 0)]
    mock.clock.schedule(START_MS, fired.append)
    assert client.get("/ctl").status_code == 200  # control routes tick through `ticked`
    assert fired == [START_MS, START_MS] and seen[-1] == ("control", 0)


@pytest.mark.rule("A2")
def test_a2_the_handler_never_runs_for_a_caller_without_the_scope(mock: Mock) -> None:
    seen: list[Any] = []
    client = TestClient(_app(mock, seen))
    problem(client.post("/op", headers=auth("client-a", ("downlink.read",))), 403)
    problem(client.post("/op"), 401)  # A1: no token
    assert seen == []
