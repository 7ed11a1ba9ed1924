"""The control plane is validated from its OpenAPI data file (M1-M8, E2): the served
document is the YAML file, every route is in it, and every bad request is a 400
problem+json naming each violation, with nothing changed."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from starlette.routing import Route
from starlette.testclient import TestClient

from mock_server.config import DATA_ROOT, REPO_ROOT
from mock_server.domain.model import Event, Status
from mock_server.openapi.control import control_spec, read_control_yaml
from tests.mock_server.conftest import NID, START, auth, body, problem

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _state(mock: Any) -> tuple[Any, ...]:
    """What a refused request must leave as it was."""
    return (
        len(mock.store),
        mock.store.version,
        mock.clock.now(),
        [fault.to_json() for fault in mock.faults.list()],
        len(mock.journal),
        mock.progressions.describe(),
    )


def test_the_served_document_is_the_yaml_file(client: TestClient) -> None:
    """/__mock/openapi.json is control.openapi.yaml, with the scenario files' schema as
    components/schemas/Scenario (the one definition both use)."""
    answer = client.get("/__mock/openapi.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    source = REPO_ROOT / "mock_server" / "data" / "control.openapi.yaml"
    expected = yaml.safe_load(source.read_text(encoding="utf-8"))
    scenario = json.loads((DATA_ROOT / "scenarios" / "scenario.schema.json").read_text())
    scenario.pop("$schema")
    expected["components"]["schemas"]["Scenario"] = scenario
    assert answer.json() == expected
    assert read_control_yaml()["paths"] == expected["paths"]
    assert control_spec().document == expected  # the enforced document is the served one


def test_every_control_route_is_in_the_document_and_back(app: Any) -> None:
    # The web view (/__mock/ui) is a page for people, documented in docs/web-view.md: its
    # read-only data routes check their own parameters (mock_server/ui/listing.py).
    served = {
        (route.path, method.lower())
        for route in app.routes
        if isinstance(route, Route)
        and route.path.startswith("/__mock/")
        and not route.path.startswith("/__mock/ui")
        for method in (route.methods or ()) - {"HEAD"}
    }
    paths = read_control_yaml()["paths"]
    documented = {(path, m) for path, item in paths.items() for m in item if m in METHODS}
    assert served == documented
    operations = control_spec().operations
    assert len(operations) == len(documented)  # one operationId each


def test_enums_are_the_domain_s() -> None:
    schemas = read_control_yaml()["components"]["schemas"]
    assert schemas["Status"]["enum"] == [s.value for s in Status]
    assert schemas["Event"]["enum"] == [e.value for e in Event]


LONG = "x" * 201

BAD_REQUESTS: dict[str, tuple[str, str, dict[str, Any], set[str]]] = {
    "M1 health: unknown parameter": ("GET", "/__mock/health", {"params": {"x": "1"}}, {"x"}),
    "M2 reset: unknown parameter": ("POST", "/__mock/reset", {"params": {"now": "1"}}, {"now"}),
    "M3 downlinks": (
        "POST",
        "/__mock/downlinks",
        {
            "json": [
                {"networkId": 5, "status": "LOST", "createdAt": "yesterday", "colour": 1},
                {"owner": "", "logs": [{"event": "DOWNLINK_LOST"}]},
            ]
        },
        {
            "#/0/networkId",
            "#/0/status",
            "#/0/createdAt",
            "#/0/colour",
            "#/1/networkId",
            "#/1/owner",
            "#/1/logs/0/createdAt",
            "#/1/logs/0/event",
        },
    ),
    "M3 downlinks: not an array": (
        "POST",
        "/__mock/downlinks",
        {"json": {"networkId": NID}},
        {"#"},
    ),
    "M3 devices": (
        "POST",
        "/__mock/devices",
        {"json": [{"networkId": "", "tags": {"a": 1}}, 5]},
        {"#/0/networkId", "#/0/tags/a", "#/1"},
    ),
    "M4 transition": (
        "POST",
        f"/__mock/downlinks/{LONG}/transition",
        {"json": {"status": "LOST", "errorCode": " ", "reason": "x"}},
        {"downlinkId", "#/status", "#/errorCode", "#/reason"},
    ),
    "M4 transition: no status": (
        "POST",
        "/__mock/downlinks/a/transition",
        {"json": {}},
        {"#/status"},
    ),
    "M5 clock: both": (
        "POST",
        "/__mock/clock",
        {"json": {"advance": "soon", "set": "yesterday"}},
        {"#", "#/advance", "#/set"},
    ),
    "M5 clock: neither": ("POST", "/__mock/clock", {"json": {}}, {"#"}),
    "M5 clock: unknown": ("POST", "/__mock/clock", {"json": {"rewind": "PT1M"}}, {"#/rewind"}),
    "M5 clock read: unknown parameter": ("GET", "/__mock/clock", {"params": {"tz": "1"}}, {"tz"}),
    "M6 scenario read: unknown parameter": (
        "GET",
        "/__mock/scenario",
        {"params": {"x": "1"}},
        {"x"},
    ),
    "M6 scenario load: unknown parameter": (
        "PUT",
        "/__mock/scenario",
        {"params": {"x": "1"}, "json": {"name": "default"}},
        {"x"},
    ),
    "M7 journal filters": (
        "GET",
        "/__mock/requests",
        {
            "params": {
                "method": "GET;POST",
                "status": "4x",
                "since": "2025-13-01T00:00:00Z",
                "before": "now",
                "limit": "-1",
                "path": "downlinks",
                "sort": "seq",
            }
        },
        {"method", "status", "since", "before", "limit", "path", "sort"},
    ),
    "M7 journal clear: unknown parameter": (
        "DELETE",
        "/__mock/requests",
        {"params": {"all": "1"}},
        {"all"},
    ),
    "M8 fault bounds": (
        "POST",
        "/__mock/faults",
        {
            "json": {
                "method": "get",
                "path": "downlinks",
                "status": 302,
                "times": 0,
                "probability": 0,
                "latencyMs": 300_001,
                "seed": -1,
                "title": "",
                "headers": {"Retry After": "3", "X-Ok": "line\nbreak"},
                "query": {"a": 1},
            }
        },
        {
            "#/method",
            "#/path",
            "#/status",
            "#/times",
            "#/probability",
            "#/latencyMs",
            "#/seed",
            "#/title",
            "#/headers/Retry%20After",
            "#/headers/X-Ok",
            "#/query/a",
        },
    ),
    "M8 fault list: unknown parameter": ("GET", "/__mock/faults", {"params": {"x": "1"}}, {"x"}),
    "M8 fault clear: unknown parameter": (
        "DELETE",
        "/__mock/faults",
        {"params": {"x": "1"}},
        {"x"},
    ),
    "M8 fault remove: id too long": ("DELETE", f"/__mock/faults/{LONG}", {}, {"faultId"}),
    "openapi.json: unknown parameter": (
        "GET",
        "/__mock/openapi.json",
        {"params": {"v": "2"}},
        {"v"},
    ),
}


@pytest.mark.rule("E2")
@pytest.mark.parametrize(
    ("method", "path", "request_", "named"), BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys()
)
def test_e2_every_bad_control_request_is_a_400_naming_each_violation(
    client: TestClient,
    mock: Any,
    method: str,
    path: str,
    request_: dict[str, Any],
    named: set[str],
) -> None:
    client.post("/downlinks", json=body())  # some state to keep
    client.post("/__mock/faults", json={"path": "/nowhere", "status": 500})
    before = _state(mock)
    data = problem(client.request(method, path, **request_), 400)
    errors = data["errors"]
    assert {e.get("pointer", e.get("parameter")) for e in errors} == named, errors
    assert all(isinstance(e["detail"], str) and e["detail"] for e in errors)
    assert _state(mock) == before


@pytest.mark.rule("M5")
@pytest.mark.parametrize(
    ("advance", "now"),
    [
        ("60s", "2025-01-10T10:01:00.000Z"),
        ("250ms", "2025-01-10T10:00:00.250Z"),
        (1500, "2025-01-10T10:00:01.500Z"),
        ("PT1M", "2025-01-10T10:01:00.000Z"),
        ("1d", "2025-01-11T10:00:00.000Z"),
    ],
)
def test_m5_the_clock_takes_durations_as_scenario_files_write_them(
    client: TestClient, advance: object, now: str
) -> None:
    assert client.post("/__mock/clock", json={"advance": advance}).json()["now"] == now


@pytest.mark.rule("M5")
def test_m5_an_empty_iso_duration_is_named(client: TestClient, mock: Any) -> None:
    data = problem(client.post("/__mock/clock", json={"advance": "PT"}), 400)
    assert [e["pointer"] for e in data["errors"]] == ["#/advance"]
    assert client.get("/__mock/clock").json()["now"] == START


@pytest.mark.rule("M8")
@pytest.mark.parametrize("status", [499, 420, 509, 599, 399, 600])
def test_m8_an_unregistered_status_is_never_armed(client: TestClient, status: int) -> None:
    data = problem(client.post("/__mock/faults", json={"status": status}), 400)
    assert [e["pointer"] for e in data["errors"]] == ["#/status"]
    assert client.get("/__mock/faults").json() == []
    assert client.get("/downlinks").status_code == 200


@pytest.mark.rule("M8")
@pytest.mark.parametrize("name", ["Content-Length", "content-type", "Transfer-Encoding"])
def test_m8_headers_the_mock_writes_cannot_be_injected(
    client: TestClient, mock: Any, name: str
) -> None:
    data = problem(client.post("/__mock/faults", json={"status": 503, "headers": {name: "1"}}), 400)
    assert [e["pointer"] for e in data["errors"]] == [f"#/headers/{name}"]
    assert mock.faults.list() == []


@pytest.mark.rule("M8")
def test_m8_rules_across_fields_are_named_together(client: TestClient) -> None:
    data = problem(
        client.post(
            "/__mock/faults",
            json={
                "path": "/__mock/health",
                "drop": True,
                "status": 500,
                "latencyMs": {"min": 9, "max": 3},
            },
        ),
        400,
    )
    assert {e["pointer"] for e in data["errors"]} == {"#/path", "#/drop", "#/latencyMs"}
    data = problem(client.post("/__mock/faults", json={"title": "x", "headers": {"A": "b"}}), 400)
    assert {e["pointer"] for e in data["errors"]} == {"#", "#/title", "#/headers"}


@pytest.mark.rule("M3")
def test_m3_t2_modified_before_created_is_named_and_nothing_stored(
    client: TestClient, mock: Any
) -> None:
    records = [
        {"networkId": NID},
        {"networkId": NID, "createdAt": START, "modifiedAt": "2025-01-10T09:00:00.000Z"},
    ]
    data = problem(client.post("/__mock/downlinks", json=records), 400)
    assert [e["pointer"] for e in data["errors"]] == ["#/1/modifiedAt"]
    assert len(mock.store) == 0


@pytest.mark.rule("M3")
def test_m3_seeded_logs_are_kept(client: TestClient) -> None:
    log = {"createdAt": START, "event": "DOWNLINK_ACCEPTED"}
    (stored,) = client.post(
        "/__mock/downlinks", json=[{"networkId": NID, "logs": [log], "owner": "client-a"}]
    ).json()
    assert stored["logs"] == [log]
    assert client.get(f"/downlinks/{stored['id']}", headers=auth()).json()["logs"] == [log]


@pytest.mark.rule("M8")
def test_m5_m8_integers_written_as_floats_are_integers(client: TestClient) -> None:
    """JSON Schema counts 3.0 as an integer; the handlers then take it as 3."""
    assert client.post("/__mock/clock", json={"advance": 60000.0}).json()["now"] == (
        "2025-01-10T10:01:00.000Z"
    )
    fault = client.post(
        "/__mock/faults", json={"status": 503.0, "times": 1.0, "latencyMs": 0.0, "seed": 7.0}
    ).json()
    assert (fault["status"], fault["times"], fault["latencyMs"], fault["seed"]) == (503, 1, 0, 7)
    assert client.get("/downlinks").status_code == 503


@pytest.mark.rule("T1")
def test_t1_m3_years_before_1000_are_written_with_four_digits(client: TestClient) -> None:
    """Found by Schemathesis over the control document: RFC 3339 years have four digits."""
    (stored,) = client.post(
        "/__mock/downlinks", json=[{"networkId": NID, "createdAt": "0006-01-05T10:47:47Z"}]
    ).json()
    assert stored["createdAt"] == stored["modifiedAt"] == "0006-01-05T10:47:47.000Z"
