"""The control plane: M1-M5, and S1/S2 through M4."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.config import REPO_ROOT, ClockMode, MockConfig
from mock_server.fixtureset.load import FixtureError, load_fixture_file
from tests.mock_server.conftest import NID, START, START_MS, auth, body, problem

pytestmark = pytest.mark.both_stores


def test_m1_health(client: TestClient) -> None:
    assert client.get("/__mock/health").json() == {
        "status": "ok",
        "version": "0.1.0",
        "auth": "lenient",
    }


def test_m2_reset_empties_and_rewinds(client: TestClient) -> None:
    client.post("/downlinks", json=body())
    client.post("/__mock/clock", json={"advance": "PT1H"})
    assert client.post("/__mock/reset").status_code == 204
    assert client.get("/downlinks").json() == {"items": []}
    assert client.get("/__mock/clock").json()["now"] == START


def test_m3_seed_defaults_and_owner(client: TestClient) -> None:
    r = client.post("/__mock/downlinks", json=[{"networkId": NID}])
    assert r.status_code == 201
    (stored,) = r.json()
    assert stored["owner"] == "client-a"  # the client of the Authorization header
    assert stored["status"] == "PENDING" and stored["message"] == ""
    assert stored["createdAt"] == stored["modifiedAt"] == START
    assert stored["logs"] == [{"createdAt": START, "event": "DOWNLINK_ACCEPTED"}]
    assert client.get(f"/downlinks/{stored['id']}").status_code == 200
    r = client.post("/__mock/downlinks", json=[{"networkId": NID, "owner": "client-b"}])
    problem(client.get(f"/downlinks/{r.json()[0]['id']}"), 404)


def test_m3_seed_without_token_is_client_default(client: TestClient) -> None:
    client.headers.pop("Authorization")
    assert (
        client.post("/__mock/downlinks", json=[{"networkId": NID}]).json()[0]["owner"] == "default"
    )


@pytest.mark.parametrize(
    "records",
    [
        [{"networkId": NID}, {"status": "PENDING"}],  # networkId required
        [{"networkId": NID}, {"networkId": NID, "status": "LOST"}],
        [{"networkId": NID}, {"networkId": NID, "createdAt": "yesterday"}],
        [{"networkId": NID, "createdAt": START, "modifiedAt": "2025-01-10T09:00:00.000Z"}],
        [{"networkId": 5}],
        {"networkId": NID},
    ],
)
def test_m3_invalid_record_is_400_and_nothing_stored(client: TestClient, records: object) -> None:
    problem(client.post("/__mock/downlinks", json=records), 400)
    assert client.get("/downlinks").json() == {"items": []}


def test_m3_taken_id_is_409_and_nothing_stored(client: TestClient) -> None:
    client.post("/__mock/downlinks", json=[{"networkId": NID, "id": "fixed"}])
    problem(
        client.post(
            "/__mock/downlinks",
            json=[{"networkId": NID, "id": "new"}, {"networkId": NID, "id": "fixed"}],
        ),
        409,
    )
    assert [d["id"] for d in client.get("/downlinks").json()["items"]] == ["fixed"]


def test_m3_devices_register_tags(client: TestClient) -> None:
    r = client.post("/__mock/devices", json=[{"networkId": NID, "tags": {"name": "Pump"}}])
    assert r.status_code == 201
    client.post("/__mock/downlinks", json=[{"networkId": NID}])
    assert len(client.get("/downlinks", params={"q": "Pump"}).json()["items"]) == 1
    # replacing the tags drops the old ones
    client.post("/__mock/devices", json=[{"networkId": NID, "tags": {"name": "Valve"}}])
    assert client.get("/downlinks", params={"q": "Pump"}).json()["items"] == []
    problem(client.post("/__mock/devices", json=[{"networkId": NID, "tags": {"n": 1}}]), 400)


def test_m4_s2_transitions_log_as_s2_says(client: TestClient) -> None:
    dl = client.post(
        "/downlinks", json=body(instruction=[{"bn": NID}, {"n": "a", "v": 1}, {"n": "b", "v": 2}])
    ).json()
    for status in (
        "EXECUTING",
        "SENT_TO_CARRIER",
        "RETRY",
        "EXECUTING",
        "SENT_TO_CARRIER",
        "DELIVERED",
    ):
        r = client.post(f"/__mock/downlinks/{dl['id']}/transition", json={"status": status})
        assert r.status_code == 200 and r.json()["status"] == status
    events = [(e.get("event"), e.get("errorCode")) for e in r.json()["logs"]]
    assert events == [
        ("DOWNLINK_ACCEPTED", None),
        ("DOWNLINK_STARTED", None),
        ("DOWNLINK_PART_SENT", None),
        ("DOWNLINK_PART_SENT", None),
        ("DOWNLINK_PART_FAILED", "CARRIER_ERROR"),
        ("DOWNLINK_STARTED", None),
        ("DOWNLINK_PART_SENT", None),
        ("DOWNLINK_PART_SENT", None),
        ("DOWNLINK_PART_DELIVERED", None),
        ("DOWNLINK_PART_DELIVERED", None),
        ("DOWNLINK_DELIVERED", None),
    ]
    times = [e["createdAt"] for e in r.json()["logs"]]
    assert times == sorted(times)  # T2: logs only grow, in order


def test_m4_s2_rejection_from_pending(client: TestClient) -> None:
    dl = client.post("/downlinks", json=body()).json()
    r = client.post(
        f"/__mock/downlinks/{dl['id']}/transition",
        json={"status": "FAILED", "errorCode": "ENCODING_FAILED"},
    )
    assert r.json()["logs"][-1] == {
        "createdAt": "2025-01-10T10:00:00.001Z",
        "event": "DOWNLINK_REJECTED",
        "errorCode": "ENCODING_FAILED",
    }


def test_m4_s1_forbidden_unknown_and_missing(client: TestClient) -> None:
    dl = client.post("/downlinks", json=body()).json()
    problem(
        client.post(f"/__mock/downlinks/{dl['id']}/transition", json={"status": "DELIVERED"}), 409
    )
    problem(client.post(f"/__mock/downlinks/{dl['id']}/transition", json={"status": "LOST"}), 400)
    problem(
        client.post(
            f"/__mock/downlinks/{dl['id']}/transition", json={"status": "FAILED", "errorCode": " "}
        ),
        400,
    )
    problem(client.post("/__mock/downlinks/nope/transition", json={"status": "EXECUTING"}), 404)
    assert client.get(f"/downlinks/{dl['id']}").json() == dl


def test_m5_clock_read_advance_set_and_backwards(client: TestClient) -> None:
    assert client.get("/__mock/clock").json() == {"now": START, "mode": "manual"}
    assert (
        client.post("/__mock/clock", json={"advance": "PT1M30.5S"}).json()["now"]
        == "2025-01-10T10:01:30.500Z"
    )
    assert (
        client.post("/__mock/clock", json={"set": "2025-01-11T00:00:00Z"}).json()["now"]
        == "2025-01-11T00:00:00.000Z"
    )
    problem(client.post("/__mock/clock", json={"set": "2025-01-10T00:00:00Z"}), 409)
    for bad in ({}, {"advance": "soon"}, {"set": 5}, {"advance": "PT1M", "set": START}, []):
        problem(client.post("/__mock/clock", json=bad), 400)
    # the new time is what creates read (T3)
    assert client.post("/downlinks", json=body()).json()["createdAt"] == "2025-01-11T00:00:00.000Z"


def test_m5_due_moves_fire_in_time_order_at_their_instant() -> None:
    # The memory store's clock (a shared store fires moves on copies: shared/play.py).
    app = create_app(MockConfig(clock_mode=ClockMode.MANUAL, clock_start=START_MS))
    mock = app.state.mock
    fired: list[tuple[int, int]] = []
    for offset in (300, 100, 200, 100):
        mock.clock.schedule(START_MS + offset, lambda due: fired.append((due, mock.clock.now())))
    with TestClient(app) as c:  # type: ignore[arg-type]
        c.post("/__mock/clock", json={"advance": "PT0.2S"})
        assert fired == [(START_MS + 100, START_MS + 100)] * 2 + [(START_MS + 200, START_MS + 200)]
        c.post("/__mock/clock", json={"advance": "PT1S"})
        assert fired[-1] == (START_MS + 300, START_MS + 300)


def test_control_plane_has_its_own_openapi(client: TestClient) -> None:
    doc = client.get("/__mock/openapi.json").json()
    assert {"/__mock/health", "/__mock/reset", "/__mock/downlinks", "/__mock/clock"} <= set(
        doc["paths"]
    )


def test_shipped_fixtures_load(tmp_path: Path) -> None:
    app = create_app(
        MockConfig(
            clock_mode=ClockMode.MANUAL,
            clock_start=START_MS,
            fixtures=[REPO_ROOT / "fixtures" / "default.json"],
        )
    )
    store = app.state.mock.store
    assert len(store) == 120
    with TestClient(app) as c:
        c.post("/downlinks", json=body(), headers=auth("demo-client"))
        c.post("/__mock/reset")
        assert len(store) == 120  # M2 reloads fixtures


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{", "not valid JSON"),
        (b"[]", "the fixture set: [] is not of type 'object'"),
        (b'{"downlinks": [{"status": "PENDING"}]}', "downlinks[0].networkId"),
        (b'{"devices": [{"tags": {}}]}', "devices[0].networkId"),
    ],
)
def test_fixture_errors_name_file_and_place(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(FixtureError) as info:
        load_fixture_file(path)
    assert str(path) in str(info.value) and message in str(info.value)


def test_m5_t2_the_end_of_time_is_a_400_not_a_crash(client: TestClient) -> None:
    """The clock stops at 9999-12-31T23:59:59.999Z, the last instant RFC 3339 writes (T1)."""
    last = "9999-12-31T23:59:59.999Z"
    assert client.post("/__mock/clock", json={"set": last}).json()["now"] == last
    dl = client.post("/downlinks", json=body()).json()
    assert client.delete(f"/downlinks/{dl['id']}").status_code == 202
    assert client.get(f"/downlinks/{dl['id']}").json()["modifiedAt"] == last
    data = problem(client.post("/__mock/clock", json={"advance": "PT1S"}), 400)
    assert last in data["errors"][0]["detail"]
    problem(client.post("/__mock/clock", json={"advance": "P" + "9" * 30 + "DT"}), 400)
