"""Fixtures for the mock's own tests: an app on a manual clock, clients, tokens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.config import ClockMode, MockConfig
from mock_server.domain.timefmt import parse_rfc3339
from mock_server.http.auth import SCOPES, mint_token

START = "2025-01-10T10:00:00.000Z"
START_MS = parse_rfc3339(START)
NID = "urn:dev:DEVEUI:0004a30b001c0530:"


def body(nid: str = NID, **fields: Any) -> dict[str, Any]:
    """A valid create request for `nid`, with `fields` overriding."""
    out: dict[str, Any] = {
        "instruction": [{"bn": nid}, {"n": "setpoint", "u": "Cel", "v": 21.5}],
        "method": {"protocol": "SMS"},
    }
    out.update(fields)
    return out


def auth(client: str = "client-a", scopes: tuple[str, ...] = SCOPES, **kw: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(client, scopes, **kw)}"}


STORES = ["memory", "redis"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`pytestmark = pytest.mark.both_stores` runs a module's tests that use `app` against
    each store (the shared one on a real redis-server)."""
    if metafunc.definition.get_closest_marker("both_stores") and "store" in metafunc.fixturenames:
        metafunc.parametrize("store", STORES, indirect=True)


@pytest.fixture
def store(request: pytest.FixtureRequest) -> dict[str, str]:
    """The store settings of `app`: the memory store unless a module asks for both."""
    if getattr(request, "param", "memory") == "memory":
        return {}
    url: str = request.getfixturevalue("redis_url")
    return {"store": url}


@pytest.fixture
def app(store: dict[str, str]) -> Any:
    return create_app(
        MockConfig(clock_mode=ClockMode.MANUAL, clock_start=START_MS, scenario="static", **store)
    )


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        c.headers.update(auth())
        yield c


@pytest.fixture
def mock(app: Any) -> Any:
    return app.state.mock


def problem(response: Any, status: int) -> dict[str, Any]:
    """Assert an E1 problem+json answer with `status`; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    data = response.json()
    assert data["status"] == status
    assert isinstance(data["type"], str) and data["type"].startswith("/problems/")
    assert data["title"] and data["detail"]
    return data
