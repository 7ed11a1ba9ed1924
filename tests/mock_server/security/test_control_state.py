"""The control plane's findings on state (M3, M5, M8): seed clashes tell nothing of another
client, the clock has a way back, a big seed leaves the loop free, latency ends on clear.
Every refused request leaves the state as it was (`snapshot`)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.config import ClockMode, MockConfig
from mock_server.control.parsing import CHUNK, SLICEABLE
from mock_server.domain.timefmt import MAX_MS, parse_rfc3339
from mock_server.openapi.control import body_schema
from tests.mock_server.conftest import NID, START, START_MS, auth, body, problem
from tests.mock_server.security.snapshot import snapshot

END_OF_TIME = "9999-12-31T23:59:59.999Z"


def make_app(**config: Any) -> Any:
    return create_app(
        MockConfig(clock_mode=ClockMode.MANUAL, clock_start=START_MS, scenario="static", **config)
    )


@pytest.fixture
def app() -> Any:
    return make_app()


@pytest.fixture
def http(app: Any) -> TestClient:
    return TestClient(app)


def refused(http: TestClient, status: int, method: str, path: str, **kw: Any) -> dict[str, Any]:
    """Send a request that must be refused with `status`, asserting nothing changed."""
    mock = http.app.state.mock  # type: ignore[attr-defined]
    before = snapshot(mock)
    data = problem(http.request(method, path, **kw), status)
    assert snapshot(mock) == before
    return data


# -- M3: a clash names only the caller's records -------------------------------------------


@pytest.mark.rule("M3")
def test_m3_a_taken_id_answers_the_same_whoever_holds_it(http: TestClient) -> None:
    seeded = [
        {"networkId": NID, "id": "held-by-rival", "owner": "rival", "externalReference": "ref-o"},
        {"networkId": NID, "id": "held-by-me", "owner": "me"},
    ]
    assert http.post("/__mock/downlinks", json=seeded).status_code == 201
    answers = []
    for taken in ("held-by-rival", "held-by-me"):
        records = [
            {"networkId": NID, "owner": "me"},
            {"networkId": NID, "owner": "me", "id": taken},
        ]
        data = refused(http, 409, "POST", "/__mock/downlinks", json=records)
        answers.append(data)
        text = str(data)
        assert "rival" not in text and "ref-o" not in text and taken not in text
        assert data["errors"] == [
            {"pointer": "#/1/id", "detail": data["errors"][0]["detail"]},
        ]
    assert answers[0] == answers[1]


@pytest.mark.rule("M3")
def test_m3_a_taken_reference_names_the_record_not_the_owner(http: TestClient) -> None:
    seeded = [{"networkId": NID, "owner": "acme", "externalReference": "order-7"}]
    assert http.post("/__mock/downlinks", json=seeded).status_code == 201
    records = [{"networkId": NID, "owner": "acme", "externalReference": "order-7"}]
    data = refused(http, 409, "POST", "/__mock/downlinks", json=records)
    assert [e["pointer"] for e in data["errors"]] == ["#/0/externalReference"]
    assert "acme" not in str(data) and "order-7" not in str(data)
    # another owner may hold the same reference (C6 is per client)
    records = [{"networkId": NID, "owner": "zeta", "externalReference": "order-7"}]
    assert http.post("/__mock/downlinks", json=records).status_code == 201


@pytest.mark.rule("M3")
def test_m3_clashes_within_the_request_are_each_named(http: TestClient) -> None:
    records = [
        {"networkId": NID, "id": "a"},
        {"networkId": NID, "id": "a"},
        {"networkId": NID, "externalReference": "r"},
        {"networkId": NID, "externalReference": "r"},
    ]
    data = refused(http, 409, "POST", "/__mock/downlinks", json=records)
    assert [e["pointer"] for e in data["errors"]] == ["#/1/id", "#/3/externalReference"]


# -- M5: the way back ---------------------------------------------------------------------


@pytest.mark.rule("M5")
def test_m5_a_clock_at_the_end_of_time_can_be_set_back(http: TestClient) -> None:
    token = auth(expires_at_ms=START_MS + 3_600_000)
    made = http.post("/downlinks", json=body(), headers=token).json()
    assert http.post("/__mock/clock", json={"set": END_OF_TIME}).status_code == 200
    assert http.get("/downlinks", headers=token).status_code == 401  # exp is past for good
    moved = http.post(f"/__mock/downlinks/{made['id']}/transition", json={"status": "EXECUTING"})
    assert moved.json()["modifiedAt"] == END_OF_TIME
    # without `backwards` it is still M5's 409, and nothing moves
    refused(http, 409, "POST", "/__mock/clock", json={"set": START})
    answer = http.post("/__mock/clock", json={"set": START, "backwards": True})
    assert answer.status_code == 200 and answer.json()["now"] == START
    assert http.get("/downlinks", headers=token).status_code == 200
    # T2: the stamped history stays; a later change is never stamped before modifiedAt
    after = http.post(f"/__mock/downlinks/{made['id']}/transition", json={"status": "FAILED"})
    dl = after.json()
    assert parse_rfc3339(dl["modifiedAt"]) >= MAX_MS
    assert [log["createdAt"] for log in dl["logs"]][:2] == [made["createdAt"], END_OF_TIME]
    stamps = [parse_rfc3339(log["createdAt"]) for log in dl["logs"]]
    assert stamps == sorted(stamps)


@pytest.mark.rule("M5")
def test_m5_backwards_forward_is_a_plain_set_and_needs_a_set(http: TestClient) -> None:
    later = "2025-01-11T00:00:00.000Z"
    assert http.post("/__mock/clock", json={"set": later, "backwards": True}).json()["now"] == later
    for bad in (
        {"backwards": True},
        {"advance": "PT1M", "backwards": True},
        {"set": START, "backwards": "yes"},
    ):
        refused(http, 400, "POST", "/__mock/clock", json=bad)


# -- M3: a big seed is bounded and leaves the loop free -----------------------------------


@pytest.mark.rule("M3")
def test_m3_a_seed_over_the_seed_limit_is_413(app: Any) -> None:
    http = TestClient(make_app(seed_body_limit=4096))
    records = [{"networkId": NID, "message": "x" * 100} for _ in range(100)]
    refused(http, 413, "POST", "/__mock/downlinks", json=records)
    refused(http, 413, "POST", "/__mock/devices", json=[{"networkId": NID * 100}] * 10)
    assert http.post("/__mock/downlinks", json=records[:5]).status_code == 201


@pytest.mark.rule("M3")
def test_m3_a_big_seed_names_problems_at_their_own_index_and_stores_nothing(
    http: TestClient,
) -> None:
    count = CHUNK * 3 + 7
    records: list[dict[str, Any]] = [{"networkId": NID} for _ in range(count)]
    records[CHUNK + 5] = {"networkId": NID, "status": "LOST"}
    records[2 * CHUNK + 1] = {"networkId": NID, "id": ""}
    data = refused(http, 400, "POST", "/__mock/downlinks", json=records)
    assert [e["pointer"] for e in data["errors"]] == [
        f"#/{CHUNK + 5}/status",
        f"#/{2 * CHUNK + 1}/id",
    ]
    records = [{"networkId": NID} for _ in range(count)]
    records[2 * CHUNK + 1] = {"networkId": NID, "createdAt": START, "modifiedAt": "2025-01-01Z"}
    records[2 * CHUNK + 1]["modifiedAt"] = "2025-01-01T00:00:00Z"
    data = refused(http, 400, "POST", "/__mock/downlinks", json=records)
    assert [e["pointer"] for e in data["errors"]] == [f"#/{2 * CHUNK + 1}/modifiedAt"]
    records = [{"networkId": NID} for _ in range(count)]
    records[-1] = {"networkId": NID, "id": "twice"}
    records[-2] = {"networkId": NID, "id": "twice"}
    data = refused(http, 409, "POST", "/__mock/downlinks", json=records)
    assert [e["pointer"] for e in data["errors"]] == [f"#/{count - 1}/id"]


@pytest.mark.rule("M3")
def test_m3_other_requests_are_answered_while_a_big_seed_is_checked(app: Any) -> None:
    records = [{"networkId": NID, "message": "m"} for _ in range(CHUNK * 8)]
    finished: list[str] = []

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:

            async def seed() -> None:
                answer = await c.post("/__mock/downlinks", json=records)
                assert answer.status_code == 201
                finished.append("seed")

            async def health() -> None:
                await asyncio.sleep(0)  # the seed goes first
                for _ in range(3):
                    assert (await c.get("/__mock/health")).status_code == 200
                finished.append("health")

            await asyncio.gather(seed(), health())

    asyncio.run(run())
    assert finished == ["health", "seed"]
    assert len(app.state.mock.store) == CHUNK * 8


# -- M8: latency ends when cleared; what can be armed -------------------------------------


@pytest.mark.rule("M8")
@pytest.mark.parametrize("how", ["clear", "remove", "reset"])
def test_m8_a_request_in_a_latency_fault_is_released_when_it_goes(app: Any, how: str) -> None:
    mock = app.state.mock

    async def run() -> tuple[int, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            armed = await c.post("/__mock/faults", json={"latencyMs": 300_000, "status": 503})
            waiting = asyncio.create_task(c.get("/downlinks", headers=auth()))
            while mock.faults.waiting == 0:
                await asyncio.sleep(0)
            if how == "clear":
                await c.delete("/__mock/faults")
            elif how == "remove":
                await c.delete(f"/__mock/faults/{armed.json()['id']}")
            else:
                await c.post("/__mock/reset")
            # a guard against a hang, far above any wait: not a timed assertion
            answer = await asyncio.wait_for(waiting, 60)
            return answer.status_code, mock.faults.waiting

    status, still_waiting = asyncio.run(run())
    assert status == 200  # released without the fault: it was removed
    assert still_waiting == 0


@pytest.mark.rule("M8")
@pytest.mark.parametrize(
    "headers",
    [
        {"X-A": "a\r\nSet-Cookie: x=1"},
        {"X-A": "a\nb"},
        {"X-A": "a\rb"},
        {"X-A\r\nX-B": "1"},
        {"X A": "1"},
        {"X-A:": "1"},
        {"": "1"},
        {"X-A": "é"},
        {"X-A": "x" * 1001},
        {"X-" + "a" * 100: "1"},
        {f"X-{i}": "1" for i in range(21)},
    ],
)
def test_m8_a_header_that_could_split_or_swell_the_answer_is_never_armed(
    http: TestClient, headers: dict[str, str]
) -> None:
    data = refused(http, 400, "POST", "/__mock/faults", json={"status": 503, "headers": headers})
    assert all(e["pointer"].startswith("#/headers") for e in data["errors"])
    assert http.get("/__mock/faults").json() == []


@pytest.mark.rule("M8")
@pytest.mark.parametrize(
    "fault",
    [
        {"latencyMs": 300_001},
        {"latencyMs": {"min": 0, "max": 300_001}},
        {"status": 503, "title": "t" * 10_000},
        {"status": 503, "times": 0},
        {"status": 503, "probability": 0},
        {"status": 503, "query": {f"k{i}": "v" for i in range(51)}},
        {"status": 503, "path": "/downlinks/[z-a]"},
        {"status": 503, "path": "/" + "a" * 2048},
    ],
)
def test_m8_fault_bounds_are_enforced(http: TestClient, fault: dict[str, Any]) -> None:
    refused(http, 400, "POST", "/__mock/faults", json=fault)


@pytest.mark.rule("M3")
@pytest.mark.parametrize("operation", ["seedDownlinks", "seedDevices"])
def test_m3_seeding_bodies_are_bounded_and_checkable_in_slices(operation: str) -> None:
    schema = body_schema(operation)
    assert set(schema) <= SLICEABLE  # what the sliced check covers
    assert schema["maxItems"] == 10_000


@pytest.mark.rule("M3")
@pytest.mark.parametrize("path", ["/__mock/downlinks", "/__mock/devices"])
def test_m3_more_records_than_a_request_takes_is_a_400(http: TestClient, path: str) -> None:
    data = refused(http, 400, "POST", path, json=[{"networkId": NID}] * 10_001)
    assert [e["pointer"] for e in data["errors"]] == ["#"]


@pytest.mark.rule("M3")
def test_m3_a_record_with_too_many_logs_is_a_400(http: TestClient) -> None:
    logs = [{"createdAt": START}] * 1001
    data = refused(http, 400, "POST", "/__mock/downlinks", json=[{"networkId": NID, "logs": logs}])
    assert [e["pointer"] for e in data["errors"]] == ["#/0/logs"]
