"""Every rule holds across mocks sharing one store (docs/shared-mock.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_server.server import MockServer
from tests.mock_server.conftest import auth, body, problem
from tests.mock_server.store.redis.conftest import shared_config
from tests.support.redis_server import RedisServer

Pair = tuple[httpx.Client, httpx.Client]


def _create(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    r = client.post("/downlinks", json=body(**fields))
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


@pytest.mark.rule("C6")
def test_a_downlink_created_on_one_is_read_on_the_other(pair: Pair) -> None:
    a, b = pair
    made = _create(a, externalReference="order-1")
    got = b.get(f"/downlinks/{made['id']}")
    assert got.status_code == 200
    assert got.json() == made
    again = b.post("/downlinks", json=body(externalReference="order-1"))
    assert again.status_code == 409


@pytest.mark.rule("C6")
def test_concurrent_creates_with_one_reference_across_mocks_have_one_winner(
    redis_url: str,
) -> None:
    servers = [MockServer(shared_config(redis_url)).start() for _ in range(3)]
    try:

        async def race() -> list[int]:
            async with httpx.AsyncClient(headers=auth(), timeout=30) as client:
                calls = [
                    client.post(
                        f"{servers[i % 3].base_url}/downlinks", json=body(externalReference="r")
                    )
                    for i in range(200)
                ]
                return [r.status_code for r in await asyncio.gather(*calls)]

        codes = asyncio.run(race())
    finally:
        for server in servers:
            server.stop()
    assert codes.count(201) == 1
    assert codes.count(409) == 199


@pytest.mark.rule("L5", "L6", "L7")
def test_a_page_walk_alternating_between_mocks_yields_each_downlink_once(pair: Pair) -> None:
    a, b = pair
    made = {_create(a if i % 2 else b)["id"] for i in range(23)}
    seen: list[str] = []
    page = a.get("/downlinks", params={"limit": 5, "sort": "createdAt"}).json()
    clients = [b, a]
    turn = 0
    while True:
        seen += [item["id"] for item in page["items"]]
        if "next" not in page:
            break
        client = clients[turn % 2]
        turn += 1
        page = client.get(page["next"].split("/downlinks", 1)[1].join(["/downlinks", ""])).json()
    assert len(seen) == len(set(seen)) == 23
    assert set(seen) == made


@pytest.mark.rule("L5")
def test_the_page_cache_never_serves_a_page_the_other_mock_made_stale(pair: Pair) -> None:
    a, b = pair
    _create(a)
    assert len(b.get("/downlinks").json()["items"]) == 1
    _create(a)
    assert len(b.get("/downlinks").json()["items"]) == 2


@pytest.mark.rule("S1", "T3", "M5")
def test_a_due_move_fires_once_whichever_mock_sees_it(pair: Pair) -> None:
    a, b = pair
    made = _create(a)
    assert b.post("/__mock/clock", json={"advance": "PT10M"}).status_code == 200
    seen_a = a.get(f"/downlinks/{made['id']}").json()
    seen_b = b.get(f"/downlinks/{made['id']}").json()
    assert seen_a == seen_b
    assert seen_a["status"] == "DELIVERED"
    events = [entry.get("event") for entry in seen_a["logs"]]
    assert events.count("DOWNLINK_STARTED") == 1
    assert events.count("DOWNLINK_DELIVERED") == 1
    # Each move is stamped with its own due instant, not the instant the clock reached.
    stamps = [entry["createdAt"] for entry in seen_a["logs"]]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) > 1
    assert a.get("/__mock/clock").json() == b.get("/__mock/clock").json()


@pytest.mark.rule("X1", "X3", "S1")
def test_a_cancel_racing_due_moves_gives_one_history(redis_url: str) -> None:
    servers = [MockServer(shared_config(redis_url)).start() for _ in range(2)]
    try:
        with httpx.Client(base_url=servers[0].base_url, headers=auth()) as a:
            ids = [_create(a)["id"] for _ in range(20)]

        async def race() -> None:
            async with httpx.AsyncClient(headers=auth(), timeout=30) as client:
                one, two = servers[0].base_url, servers[1].base_url
                calls: list[Any] = [client.post(f"{one}/__mock/clock", json={"advance": "PT2S"})]
                calls += [client.delete(f"{two}/downlinks/{i}") for i in ids]
                await asyncio.gather(*calls)

        asyncio.run(race())
        with httpx.Client(base_url=servers[1].base_url, headers=auth()) as b:
            for downlink_id in ids:
                history = b.get(f"/downlinks/{downlink_id}").json()
                events = [entry.get("event") for entry in history["logs"]]
                assert events.count("DOWNLINK_ACCEPTED") == 1
                if history["status"] == "CANCELLED":
                    assert events[-1] == "DOWNLINK_FAILED"  # X4: nothing after the cancel
                    assert events.count("DOWNLINK_FAILED") == 1
                stamps = [entry["createdAt"] for entry in history["logs"]]
                assert stamps == sorted(stamps)
    finally:
        for server in servers:
            server.stop()


@pytest.mark.rule("M2", "M3", "M4", "M6")
def test_the_control_plane_acts_on_the_shared_state(pair: Pair) -> None:
    a, b = pair
    seeded = a.post(
        "/__mock/downlinks",
        json=[{"id": "seed-1", "networkId": "urn:dev:DEVEUI:0004a30b001c0530:"}],
    )
    assert seeded.status_code == 201, seeded.text
    assert b.post("/__mock/downlinks", json=[{"id": "seed-1", "networkId": "x"}]).status_code == 409
    moved = b.post("/__mock/downlinks/seed-1/transition", json={"status": "EXECUTING"})
    assert moved.status_code == 200, moved.text
    assert a.get("/__mock/ui/api/downlinks/seed-1").json()["downlink"]["status"] == "EXECUTING"
    devices = a.post("/__mock/devices", json=[{"networkId": "urn:dev:X:1:", "tags": {"t": "v"}}])
    assert devices.status_code == 201
    assert b.put("/__mock/scenario", json={"name": "static"}).status_code == 200
    assert a.get("/__mock/scenario").json()["name"] == "static"
    assert a.post("/__mock/reset").status_code == 204
    assert b.get("/__mock/ui/api/downlinks/seed-1").status_code == 404
    assert b.get("/__mock/scenario").json()["name"] == "default"


@pytest.mark.rule("M7", "M8")
def test_journal_and_faults_are_shared(pair: Pair) -> None:
    a, b = pair
    _create(a)
    b.get("/downlinks")
    paths = [(e["method"], e["path"]) for e in a.get("/__mock/requests").json()["items"]]
    assert paths == [("POST", "/downlinks"), ("GET", "/downlinks")]
    armed = a.post("/__mock/faults", json={"path": "/downlinks", "status": 503, "times": 3})
    assert armed.status_code == 201, armed.text
    codes = [(a if i % 2 else b).get("/downlinks").status_code for i in range(6)]
    assert codes == [503, 503, 503, 200, 200, 200]
    assert [f["applied"] for f in b.get("/__mock/faults").json()] == [3]
    assert b.delete("/__mock/faults").status_code == 204
    assert a.get("/__mock/faults").json() == []
    assert a.delete("/__mock/requests").status_code == 204
    assert b.get("/__mock/requests").json()["items"] == []


@pytest.mark.rule("L7", "S4")
def test_a_restart_keeps_downlinks_cursors_and_timelines(redis_url: str) -> None:
    with MockServer(shared_config(redis_url)) as first:
        with httpx.Client(base_url=first.base_url, headers=auth()) as a:
            made = [_create(a)["id"] for _ in range(3)]
            next_link = a.get("/downlinks", params={"limit": 2}).json()["next"]
    with MockServer(shared_config(redis_url)) as second:
        with httpx.Client(base_url=second.base_url, headers=auth()) as b:
            rest = b.get("/downlinks" + next_link.split("/downlinks", 1)[1])
            assert rest.status_code == 200, rest.text
            page_one = b.get("/downlinks", params={"limit": 2}).json()["items"]
            assert {i["id"] for i in page_one + rest.json()["items"]} == set(made)
            assert b.post("/__mock/clock", json={"advance": "PT10M"}).status_code == 200
            for downlink_id in made:
                assert b.get(f"/downlinks/{downlink_id}").json()["status"] == "DELIVERED"


@pytest.mark.rule("E1")
def test_a_store_that_is_down_answers_503_and_recovers_by_itself(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path).start()
    try:
        with MockServer(shared_config(redis.url())) as server:
            with httpx.Client(base_url=server.base_url, headers=auth(), timeout=10) as a:
                made = _create(a)
                redis.stop()
                for request in (
                    a.build_request("GET", f"/downlinks/{made['id']}"),
                    a.build_request("POST", "/downlinks", json=body()),
                    a.build_request("GET", "/downlinks"),
                    a.build_request("POST", "/__mock/reset"),
                ):
                    down = a.send(request)
                    data = problem(down, 503)
                    assert "127.0.0.1" in data["detail"]
                    assert down.headers["retry-after"] == "1"
                redis.start()
                # Back, but empty (no persistence): the mock starts over with it.
                assert a.get("/downlinks").status_code == 200
                again = _create(a)
                assert a.get(f"/downlinks/{again['id']}").status_code == 200
    finally:
        redis.stop()


@pytest.mark.rule("E1")
def test_a_store_that_stops_answering_gives_503s_not_a_hang(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path).start()
    try:
        with MockServer(shared_config(redis.url())) as server:
            with httpx.Client(base_url=server.base_url, headers=auth(), timeout=10) as a:
                made = _create(a)
                redis.pause()  # up, but answering nothing

                async def stuck() -> list[int]:
                    # Well inside the client's timeout, every request gets its answer.
                    async with httpx.AsyncClient(headers=auth(), timeout=15) as client:
                        url = f"{server.base_url}/downlinks/{made['id']}"
                        answers = await asyncio.gather(*(client.get(url) for _ in range(6)))
                        return [r.status_code for r in answers]

                assert asyncio.run(stuck()) == [503] * 6
                redis.resume()
                assert a.get(f"/downlinks/{made['id']}").status_code == 200
    finally:
        redis.resume()
        redis.stop()


@pytest.mark.rule("T3")
def test_every_move_due_fires_before_the_next_answer_however_many(pair: Pair) -> None:
    a, b = pair
    made = [_create(a)["id"] for _ in range(300)]  # more than one round of due moves
    assert b.post("/__mock/clock", json={"advance": "PT10M"}).status_code == 200
    page = a.get("/downlinks", params={"limit": 1000}).json()["items"]
    assert {item["id"] for item in page} == set(made)
    assert {item["status"] for item in page} == {"DELIVERED"}


@pytest.mark.rule("M7")
def test_concurrent_exchanges_are_each_journaled_once(redis_url: str) -> None:
    servers = [MockServer(shared_config(redis_url)).start() for _ in range(2)]
    try:

        async def burst() -> None:
            async with httpx.AsyncClient(headers=auth(), timeout=30) as client:
                calls = [client.get(f"{servers[i % 2].base_url}/downlinks") for i in range(60)]
                assert {r.status_code for r in await asyncio.gather(*calls)} == {200}

        asyncio.run(burst())
        with httpx.Client(base_url=servers[1].base_url) as b:
            items = b.get("/__mock/requests").json()["items"]
    finally:
        for server in servers:
            server.stop()
    seqs = [item["seq"] for item in items]
    assert len(items) == 60
    assert seqs == sorted(set(seqs))


@pytest.mark.rule("M7")
def test_the_shared_journal_keeps_to_its_count_and_byte_budgets(redis_url: str) -> None:
    budgets = {"journal_size": 20, "journal_entry_bytes": 1024, "journal_bytes": 8192}
    with MockServer(shared_config(redis_url, **budgets)) as one:
        with MockServer(shared_config(redis_url, **budgets)) as two:
            with httpx.Client(headers=auth()) as client:
                for i in range(30):
                    base = (one if i % 2 else two).base_url
                    client.post(f"{base}/downlinks", json=body(message="x" * 600))
                journal = client.get(f"{one.base_url}/__mock/requests").json()
                items = journal["items"]
                assert 0 < len(items) <= 20
                assert journal["bytes"] <= 8192
                seqs = [item["seq"] for item in items]
                assert seqs == list(range(31 - len(items), 31))  # the newest, in order
                assert journal["evicted"] == 30 - len(items)
                # A clear on one process: the seq goes on, nothing counts as evicted.
                assert client.delete(f"{two.base_url}/__mock/requests").status_code == 204
                client.get(f"{one.base_url}/downlinks")
                after = client.get(f"{two.base_url}/__mock/requests").json()
                assert [item["seq"] for item in after["items"]] == [31]
                assert after["evicted"] == 0
