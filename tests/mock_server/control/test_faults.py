"""Fault injection (M8): every kind, matching, counts, seeded probability, validation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.config import ClockMode, MockConfig
from mock_server.server import MockServer
from tests.mock_server.conftest import START_MS, auth, body

pytestmark = pytest.mark.both_stores


def make_app() -> Any:
    return create_app(
        MockConfig(clock_mode=ClockMode.MANUAL, clock_start=START_MS, scenario="static")
    )


@pytest.fixture
def app() -> Any:
    return make_app()


@pytest.fixture
def http(app: Any) -> TestClient:
    return TestClient(app)


def add(http: TestClient, **spec: Any) -> dict[str, Any]:
    answer = http.post("/__mock/faults", json=spec)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_m8_error_status_with_problem_body(http):
    fault = add(http, status=503, times=1)
    answer = http.get("/downlinks", headers=auth())
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem == {
        "type": "/problems/injected-fault",
        "title": "Service Unavailable",
        "status": 503,
        "detail": f"fault {fault['id']} injected through /__mock/faults",
        "instance": "/downlinks",
    }
    assert http.get("/downlinks", headers=auth()).status_code == 200  # times=1 spent


def test_m8_error_fields_and_headers_are_taken(http):
    add(
        http,
        status=429,
        type="/problems/rate",
        title="Slow down",
        detail="later",
        headers={"Retry-After": "3"},
    )
    answer = http.get("/downlinks", headers=auth())
    assert answer.json()["type"] == "/problems/rate"
    assert answer.json()["title"] == "Slow down"
    assert answer.json()["detail"] == "later"
    assert answer.headers["retry-after"] == "3"


def test_m8_an_injected_error_changes_no_state(http):
    add(http, method="POST", status=500, times=1)
    assert http.post("/downlinks", json=body(), headers=auth()).status_code == 500
    assert http.get("/downlinks", headers=auth()).json()["items"] == []


def test_m8_times_counts_and_listing(http):
    fault = add(http, path="/downlinks", status=502, times=2)
    codes = [http.get("/downlinks", headers=auth()).status_code for _ in range(3)]
    assert codes == [502, 502, 200]
    listed = http.get("/__mock/faults").json()
    assert [(f["id"], f["applied"], f["remaining"]) for f in listed] == [(fault["id"], 2, 0)]


def test_m8_matching_by_method_path_glob_and_query(http):
    add(http, method="DELETE", path="/downlinks/*", query={"forced": "true"}, status=418)
    dl = http.post("/downlinks", json=body(), headers=auth()).json()
    url = f"/downlinks/{dl['id']}"
    assert http.get(url, headers=auth()).status_code == 200  # method differs
    assert http.delete("/downlinks", headers=auth()).status_code == 405  # path differs
    assert http.delete(url, params={"forced": "false"}, headers=auth()).status_code == 202
    dl = http.post("/downlinks", json=body(), headers=auth()).json()
    url = f"/downlinks/{dl['id']}"
    answer = http.delete(url, params={"limit": "1", "forced": "true"}, headers=auth())
    assert answer.status_code == 418  # the query is a subset of the request's


def test_m8_first_added_first_matched(http):
    add(http, path="/downlinks", status=503, times=1)
    add(http, path="/downlinks*", status=504)
    assert http.get("/downlinks", headers=auth()).status_code == 503
    assert http.get("/downlinks", headers=auth()).status_code == 504


def test_m8_fixed_latency(app, http):
    waited: list[float] = []

    async def record(seconds: float) -> None:
        waited.append(seconds)

    app.state.mock.faults.sleep = record
    add(http, latencyMs=250, times=1)
    assert http.get("/downlinks", headers=auth()).status_code == 200  # latency alone: served
    http.get("/downlinks", headers=auth())
    assert waited == [0.25]


def test_m8_random_latency_is_seeded():
    def delays(seed: int) -> list[float]:
        app = make_app()
        waited: list[float] = []

        async def record(seconds: float) -> None:
            waited.append(seconds)

        app.state.mock.faults.sleep = record
        http = TestClient(app)
        add(http, latencyMs={"min": 10, "max": 500}, seed=seed)
        for _ in range(8):
            http.get("/downlinks", headers=auth())
        return waited

    first = delays(3)
    assert first == delays(3)
    assert all(0.01 <= s <= 0.5 for s in first)
    assert len(set(first)) > 1


def test_m8_latency_then_error(app, http):
    waited: list[float] = []

    async def record(seconds: float) -> None:
        waited.append(seconds)

    app.state.mock.faults.sleep = record
    add(http, latencyMs=40, status=504)
    assert http.get("/downlinks", headers=auth()).status_code == 504
    assert waited == [0.04]


def test_m8_probability_under_a_seed_repeats():
    def outcomes() -> list[int]:
        http = TestClient(make_app())
        fault = add(http, status=500, probability=0.3, seed=11)
        assert fault["seed"] == 11
        return [http.get("/downlinks", headers=auth()).status_code for _ in range(30)]

    first = outcomes()
    assert first == outcomes()
    assert 0 < first.count(500) < 30


def test_m8_a_seed_is_chosen_and_shown_when_draws_happen(http):
    assert isinstance(add(http, status=500, probability=0.5)["seed"], int)
    assert add(http, status=500)["seed"] is None  # nothing drawn, nothing to seed


def test_m8_dropped_connection_on_a_real_server():
    """A drop closes the socket: httpx sees RemoteProtocolError, the journal no status."""
    with MockServer(MockConfig(clock_mode=ClockMode.MANUAL, clock_start=START_MS)) as server:
        base = server.base_url
        fault = httpx.post(f"{base}/__mock/faults", json={"drop": True, "times": 1}).json()
        with httpx.Client(base_url=base, headers=auth()) as client:
            with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
                client.get("/downlinks")
            assert client.get("/downlinks").status_code == 200
        entries = httpx.get(f"{base}/__mock/requests").json()["items"]
        assert [(e["status"], e["fault"]) for e in entries] == [(None, fault["id"]), (200, None)]


def test_m8_dropped_connection_in_process(http):
    """Without a socket, the test client raises what httpx raises for a drop."""
    add(http, drop=True)
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/downlinks", headers=auth())


def test_m8_faults_never_apply_to_the_control_plane(http):
    add(http, status=500)  # path "/*" by default
    assert http.get("/__mock/health").status_code == 200
    assert http.get("/__mock/faults").status_code == 200
    answer = http.post("/__mock/faults", json={"path": "/__mock/*", "status": 500})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["pointer"] == "#/path"


def test_m8_validation_names_every_bad_key(http):
    answer = http.post(
        "/__mock/faults",
        json={
            "method": "FETCH",
            "status": 200,
            "times": 0,
            "probability": 1.5,
            "latencyMs": {"min": 5},
            "seed": "x",
            "colour": "red",
        },
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    pointers = {e["pointer"] for e in answer.json()["errors"]}
    assert pointers == {
        "#/method",
        "#/status",
        "#/times",
        "#/probability",
        "#/latencyMs/max",
        "#/seed",
        "#/colour",
    }


@pytest.mark.parametrize(
    ("spec", "pointer"),
    [
        ({}, "#"),
        ({"drop": True, "status": 500}, "#/drop"),
        ({"latencyMs": {"min": 9, "max": 3}}, "#/latencyMs"),
        ({"latencyMs": 10_000_000}, "#/latencyMs"),
        ({"detail": "x"}, "#/detail"),
        ({"status": 500, "query": {"a": 1}}, "#/query/a"),
        ({"status": 500, "drop": "yes"}, "#/drop"),
    ],
)
def test_m8_each_invalid_fault_is_400(http, spec, pointer):
    answer = http.post("/__mock/faults", json=spec)
    assert answer.status_code == 400
    assert pointer in {e["pointer"] for e in answer.json()["errors"]}


def test_m8_not_an_object_and_not_json(http):
    assert http.post("/__mock/faults", json=[1]).status_code == 400
    assert (
        http.post(
            "/__mock/faults", content=b"x", headers={"content-type": "text/plain"}
        ).status_code
        == 415
    )


def test_m8_delete_one_and_all(http):
    first = add(http, status=500)
    add(http, status=501)
    assert http.delete(f"/__mock/faults/{first['id']}").status_code == 204
    assert http.get("/downlinks", headers=auth()).status_code == 501
    missing = http.delete(f"/__mock/faults/{first['id']}")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert http.delete("/__mock/faults").status_code == 204
    assert http.get("/__mock/faults").json() == []
    assert http.get("/downlinks", headers=auth()).status_code == 200


def test_m2_reset_clears_faults(http):
    add(http, status=500)
    http.post("/__mock/reset")
    assert http.get("/__mock/faults").json() == []
    assert http.get("/downlinks", headers=auth()).status_code == 200


def test_m8_paths_are_in_the_control_openapi(http):
    paths = http.get("/__mock/openapi.json").json()["paths"]
    assert {"/__mock/requests", "/__mock/faults", "/__mock/faults/{faultId}"} <= set(paths)
