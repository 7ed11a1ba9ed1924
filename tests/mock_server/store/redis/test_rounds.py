"""A process's round (store/redis/replica.py): the changes read, the requests' journal
entries and creates written, and the due moves committed, in one round trip."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from mock_server.domain.timefmt import format_ms
from mock_server.server import MockServer
from tests.mock_server.conftest import START_MS, auth, body
from tests.mock_server.store.redis.conftest import shared_config


@pytest.mark.rule("T3", "M5")
def test_moves_worked_out_by_a_clock_since_set_back_are_refused(redis_url: str) -> None:
    with MockServer(shared_config(redis_url)) as one, MockServer(shared_config(redis_url)) as two:
        with httpx.Client(base_url=one.base_url, headers=auth(), timeout=10) as a:
            with httpx.Client(base_url=two.base_url, headers=auth(), timeout=10) as b:
                made = a.post("/downlinks", json=body()).json()
                # `one` reads the clock an hour ahead of the shared one, as after another
                # process set the shared clock back and before `one` read that: the moves
                # it works out by its clock must not be committed.
                ahead = dict(one.mock.clock.state())
                ahead["anchor"] = int(ahead["anchor"]) + 3_600_000
                one.mock.clock.adopt(ahead)
                back = {"set": format_ms(START_MS), "backwards": True}
                assert b.post("/__mock/clock", json=back).status_code == 200
                seen = a.get(f"/downlinks/{made['id']}").json()
                assert seen["status"] == "PENDING", seen
                assert [entry["event"] for entry in seen["logs"]] == ["DOWNLINK_ACCEPTED"]
                assert b.get(f"/downlinks/{made['id']}").json() == seen
                assert a.get("/__mock/clock").json() == b.get("/__mock/clock").json()


@pytest.mark.rule("C6", "M7")
def test_one_round_carries_many_creates_and_journal_entries(redis_url: str) -> None:
    """Concurrent creates on one mock share round trips, each judged alone: of those
    with one reference the first is stored; every exchange is journaled once."""
    with MockServer(shared_config(redis_url, scenario="static")) as one:
        rounds: list[int] = []
        replica = one.mock.state
        script = replica._script

        async def counted(name: str, keys: list[str], args: list[Any]) -> Any:
            if name == "ROUND":
                rounds.append(1)
            return await script(name, keys, args)

        replica._script = counted

        async def burst() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=one.base_url, headers=auth()) as client:
                calls = [
                    client.post("/downlinks", json=body(externalReference=f"r-{i % 10}"))
                    for i in range(60)
                ]
                return await asyncio.gather(*calls)

        answers = asyncio.run(burst())
        replica._script = script
        statuses = [r.status_code for r in answers]
        assert statuses.count(201) == 10 and statuses.count(409) == 50
        stored = {r.json()["externalReference"] for r in answers if r.status_code == 201}
        assert stored == {f"r-{i}" for i in range(10)}
        assert 0 < len(rounds) < 60  # shared: fewer round trips than requests
        with httpx.Client(base_url=one.base_url, headers=auth(), timeout=10) as a:
            journal = a.get("/__mock/requests").json()
        posts = [e for e in journal["items"] if e["method"] == "POST"]
        assert len(posts) == 60
        assert sorted(e["status"] for e in posts) == [201] * 10 + [409] * 50
        seqs = [e["seq"] for e in journal["items"]]
        assert seqs == sorted(set(seqs))
