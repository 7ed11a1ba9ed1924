"""Authentication, tenancy and HTTP-level errors over HTTP: A1-A5, E1, E3, R1."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.config import AuthMode, ClockMode, MockConfig
from mock_server.domain.timefmt import parse_rfc3339
from tests.mock_server.conftest import START_MS, auth, body, problem

pytestmark = pytest.mark.both_stores

OPERATIONS = [
    ("GET", "/downlinks", "downlink.read"),
    ("POST", "/downlinks", "downlink.write"),
    ("GET", "/downlinks/00000000-0000-4000-8000-000000000000", "downlink.read"),
    ("DELETE", "/downlinks/00000000-0000-4000-8000-000000000000", "downlink.delete"),
]


@pytest.mark.parametrize(("method", "path", "scope"), OPERATIONS)
@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Basic dXNlcjpwYXNz", "Bearer not-a-jwt", "Bearer a.b.c", "bearer ..."],
)
def test_a1_missing_or_unparsable_token_is_401(
    client: TestClient, method: str, path: str, scope: str, header: str | None
) -> None:
    headers = {"Authorization": header} if header is not None else {}
    client.headers.pop("Authorization", None)
    r = client.request(method, path, headers=headers, json=body() if method == "POST" else None)
    problem(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "scope"), OPERATIONS)
def test_a2_missing_scope_is_403_naming_it(
    client: TestClient, method: str, path: str, scope: str
) -> None:
    others = tuple(s for s in ("downlink.read", "downlink.write", "downlink.delete") if s != scope)
    r = client.request(
        method, path, headers=auth(scopes=others), json=body() if method == "POST" else None
    )
    problem(r, 403)
    challenge = r.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge and f'scope="{scope}"' in challenge


def test_a3_expired_token_is_401_by_the_mock_clock(client: TestClient) -> None:
    expired = auth(expires_at_ms=parse_rfc3339("2000-01-01T00:00:00Z"))
    problem(client.get("/downlinks", headers=expired), 401)
    # valid by the mock's clock, whatever the wall clock says
    later = auth(expires_at_ms=START_MS + 60_000)
    assert client.get("/downlinks", headers=later).status_code == 200
    client.post("/__mock/clock", json={"advance": "PT2M"})
    problem(client.get("/downlinks", headers=later), 401)


def test_a5_tenants_see_only_their_own(client: TestClient) -> None:
    dl = client.post("/downlinks", json=body()).json()
    other = auth("client-b")
    problem(client.get(f"/downlinks/{dl['id']}", headers=other), 404)
    assert client.get("/downlinks", headers=other).json() == {"items": []}
    unknown = problem(
        client.get("/downlinks/00000000-0000-4000-8000-000000000000", headers=other), 404
    )
    foreign = problem(client.get(f"/downlinks/{dl['id']}", headers=other), 404)
    # existence must not leak: the same answer but for the id in the detail
    assert unknown["type"] == foreign["type"] and unknown["title"] == foreign["title"]


def test_r1_read_and_404(client: TestClient) -> None:
    dl = client.post("/downlinks", json=body()).json()
    assert client.get(f"/downlinks/{dl['id']}").json() == dl
    problem(client.get("/downlinks/nope"), 404)
    problem(client.get("/downlinks/%00%ff"), 404)


@pytest.mark.parametrize("with_token", [True, False])
def test_e3_unknown_path_is_404_with_or_without_token(client: TestClient, with_token: bool) -> None:
    if not with_token:
        client.headers.pop("Authorization", None)
    data = problem(client.get("/no/such/path"), 404)
    assert data["instance"] == "/no/such/path"


def test_e3_other_method_is_405_with_allow(client: TestClient) -> None:
    r = client.put("/downlinks")
    problem(r, 405)
    assert {m.strip() for m in r.headers["allow"].split(",")} >= {"GET", "POST"}
    r = client.patch("/downlinks/x")
    problem(r, 405)
    assert {m.strip() for m in r.headers["allow"].split(",")} >= {"GET", "DELETE"}


def test_a4_off_mode_needs_no_token() -> None:
    app = create_app(
        MockConfig(auth_mode=AuthMode.OFF, clock_mode=ClockMode.MANUAL, clock_start=START_MS)
    )
    with TestClient(app) as c:
        r = c.post("/downlinks", json=body())
        assert r.status_code == 201
        assert c.get("/__mock/health").json()["auth"] == "off"


def test_a4_hs256_mode_checks_signatures() -> None:
    app = create_app(
        MockConfig(
            auth_mode=AuthMode.HS256,
            secret="s3cret-s3cret-s3cret-s3cret-s3cret",
            clock_mode=ClockMode.MANUAL,
            clock_start=START_MS,
        )
    )
    with TestClient(app) as c:
        problem(c.get("/downlinks", headers=auth()), 401)  # unsigned
        good = auth(mode=AuthMode.HS256, secret="s3cret-s3cret-s3cret-s3cret-s3cret")
        assert c.get("/downlinks", headers=good).status_code == 200


def test_e1_problem_shape_everywhere(client: TestClient) -> None:
    responses: list[Any] = [
        client.get("/downlinks", params={"limit": "x"}),
        client.get("/downlinks/x"),
        client.post("/downlinks", content=b"{", headers={"content-type": "application/json"}),
        client.delete("/downlinks/x"),
    ]
    for r in responses:
        problem(r, r.status_code)
        assert r.json()["instance"] == r.url.path
