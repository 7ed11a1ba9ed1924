"""The control plane's guard: canonical paths, no cross-site requests, the admin token, and
Host names on loopback (docs/security.md). Each refusal leaves the state as it was."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from mock_server.config import ClockMode, MockConfig, is_loopback
from mock_server.mock import Mock
from tests.mock_server.conftest import START_MS, auth, body


def _app(**config: Any) -> Any:
    from mock_server.app import create_app

    cfg = MockConfig(clock_mode=ClockMode.MANUAL, clock_start=START_MS, scenario="static", **config)
    return create_app(cfg)


@pytest.fixture
def loopback() -> Iterator[TestClient]:
    app = _app()
    with TestClient(app, base_url="http://127.0.0.1:8080") as client:
        client.app_state = app.state  # type: ignore[attr-defined]
        yield client


def _mock(client: TestClient) -> Mock:
    mock: Mock = client.app_state.mock  # type: ignore[attr-defined]
    return mock


def _created(client: TestClient) -> str:
    answer = client.post("/downlinks", json=body(), headers=auth())
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _problem(answer: httpx.Response, status: int, type_: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = answer.json()
    assert problem["type"] == type_
    return problem


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("api.localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("mock.example.com", False),
    ],
)
def test_loopback_addresses_are_told_apart(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


def test_a_percent_encoded_alias_of_the_control_prefix_is_not_served(
    loopback: TestClient,
) -> None:
    _created(loopback)
    answer = loopback.post("/_%5fmock/reset")
    problem = _problem(answer, 404, "/problems/not-found")
    assert "canonical" in problem["detail"]
    assert len(_mock(loopback).store) == 1  # nothing was reset
    assert loopback.post("/__mock/reset").status_code == 204
    assert len(_mock(loopback).store) == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_cross_site_form_post_cannot_reset(loopback: TestClient, content_type: str) -> None:
    _created(loopback)
    answer = loopback.post(
        "/__mock/reset",
        content=b"{}",
        headers={"content-type": content_type, "origin": "http://127.0.0.1:8080"},
    )
    _problem(answer, 415, "/problems/unsupported-media-type")
    assert len(_mock(loopback).store) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"origin": "http://127.0.0.1:9999"},  # another port is another origin
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},  # another localhost port is "same-site"
    ],
)
def test_requests_from_other_pages_are_refused(
    loopback: TestClient, headers: dict[str, str]
) -> None:
    _created(loopback)
    answer = loopback.post("/__mock/reset", headers=headers)
    _problem(answer, 403, "/problems/cross-site")
    assert len(_mock(loopback).store) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://127.0.0.1:8080", "sec-fetch-site": "same-origin"},
        {"sec-fetch-site": "none"},  # typed in the address bar
        {},  # curl, scripts, the pytest plugin
    ],
)
def test_same_origin_and_non_browser_requests_pass(
    loopback: TestClient, headers: dict[str, str]
) -> None:
    _created(loopback)
    assert loopback.post("/__mock/reset", headers=headers).status_code == 204
    assert len(_mock(loopback).store) == 0


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "10.0.0.5"])
def test_a_rebinding_host_name_is_refused_on_every_path(loopback: TestClient, host: str) -> None:
    downlink_id = _created(loopback)
    for method, path in [("GET", f"/downlinks/{downlink_id}"), ("POST", "/__mock/reset")]:
        answer = loopback.request(method, path, headers={**auth(), "host": host})
        problem = _problem(answer, 400, "/problems/unknown-host")
        assert "--allowed-host" in problem["detail"]
    assert len(_mock(loopback).store) == 1


@pytest.mark.parametrize("host", ["localhost:8080", "127.0.0.1", "[::1]:8080", "web.localhost"])
def test_names_of_this_machine_are_answered(loopback: TestClient, host: str) -> None:
    answer = loopback.get("/__mock/health", headers={"host": host})
    assert answer.status_code == 200, answer.text


def test_allowed_hosts_extend_the_list() -> None:
    app = _app(allowed_hosts=("mock.internal",))
    with TestClient(app, base_url="http://mock.internal:8080") as client:
        assert client.get("/__mock/health").status_code == 200


def test_off_loopback_the_control_plane_needs_the_admin_token() -> None:
    app = _app(host="0.0.0.0")
    token = app.state.mock.config.admin_token
    assert token and len(token) >= 24  # generated, for the banner to print
    with TestClient(app, base_url="http://mock.example:8080") as client:
        client.post("/downlinks", json=body(), headers=auth())
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": token}):
            answer = client.post("/__mock/reset", headers=headers)
            problem = _problem(answer, 401, "/problems/admin-token-required")
            assert answer.headers["www-authenticate"].startswith("Basic realm=")
            assert "Bearer realm=" in answer.headers["www-authenticate"]
            assert token not in problem["detail"]
        assert len(app.state.mock.store) == 1
        basic = httpx.BasicAuth("anyone", "wrong")._auth_header
        assert client.get("/__mock/clock", headers={"authorization": basic}).status_code == 401
        basic = httpx.BasicAuth("anyone", token)._auth_header
        assert client.get("/__mock/clock", headers={"authorization": basic}).status_code == 200
        answer = client.post("/__mock/reset", headers={"authorization": f"Bearer {token}"})
        assert answer.status_code == 204
        assert len(app.state.mock.store) == 0
        # The public API is unchanged: its own tokens, any Host.
        assert client.get("/downlinks", headers=auth()).status_code == 200


def test_a_given_admin_token_is_required_on_loopback_too() -> None:
    app = _app(admin_token="s3cret-admin-token")
    with TestClient(app, base_url="http://127.0.0.1:8080") as client:
        assert client.get("/__mock/clock").status_code == 401
        answer = client.get("/__mock/clock", headers={"authorization": "Bearer s3cret-admin-token"})
        assert answer.status_code == 200


def test_the_loopback_default_stays_open_without_a_token() -> None:
    assert MockConfig().admin_token is None
    assert MockConfig(host="localhost").admin_token is None
