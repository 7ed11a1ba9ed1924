"""A process's round (store/redis/replica.py): the changes read and the requests' journal
entries and creates written in one round trip; and the guard on a change that a timeline's
move, played by every process itself, may have overtaken."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_server.config import ClockMode
from mock_server.domain.timefmt import format_ms
from mock_server.server import MockServer
from mock_server.store.redis.play import play_cancel
from mock_server.store.redis.replica import LOG_LENGTH, put_event
from tests.mock_server.conftest import START_MS, auth, body
from tests.mock_server.store.redis.conftest import shared_config


def _commit_cancel(server: MockServer, downlink_id: str, *, control: bytes, due: int | str) -> Any:
    """Run the COMMIT script for a cancel of `downlink_id` as `server` works it out,
    with the control version and next due instant given; what the script answered."""
    state = server.mock.state
    dl = server.mock.store.find(downlink_id)
    changed = play_cancel(dl, False, dl.modified_at)
    rev = state._revs[downlink_id]
    args = [LOG_LENGTH, downlink_id, rev, control, due, put_event(changed, None, rev + 1)]

    async def run() -> Any:
        async with state.reaching():
            return await state._script("COMMIT", state.keys.commit(), args)

    return asyncio.run(run())


@pytest.mark.rule("T3", "X1")
def test_a_change_worked_out_before_a_move_fell_due_is_refused(redis_url: str) -> None:
    """Every process plays a timeline's moves itself: a cancel worked out before the
    downlink's next move fell due by the shared clock, or under a clock set since, is
    refused (the process works it out again), so no process's answer is ever erased."""
    with MockServer(shared_config(redis_url)) as one, MockServer(shared_config(redis_url)) as two:
        with httpx.Client(base_url=one.base_url, headers=auth(), timeout=10) as a:
            with httpx.Client(base_url=two.base_url, headers=auth(), timeout=10) as b:
                made = a.post("/downlinks", json=body()).json()
                timeline = one.mock.progressions.export(made["id"])
                due = int(timeline["timer"])
                control = one.mock.state._control_version or b""
                # By the shared clock (manual, at START_MS) the move is still to come.
                assert due > START_MS
                refused = _commit_cancel(one, made["id"], control=control, due=START_MS)
                assert refused == 0
                assert _commit_cancel(one, made["id"], control=b"-1", due=due) == 0
                # `two` sets the clock to the move's instant and shows the move.
                assert b.post("/__mock/clock", json={"set": format_ms(due)}).status_code == 200
                moved = b.get(f"/downlinks/{made['id']}").json()
                assert moved["status"] != "PENDING"
                # `one`, with the control version it knew, cannot erase it...
                assert _commit_cancel(one, made["id"], control=control, due=due) == 0
                # ...and its cancel, worked out again, comes after it.
                cancelled = a.delete(f"/downlinks/{made['id']}")
                history = b.get(f"/downlinks/{made['id']}").json()
                events = [entry["event"] for entry in history["logs"]]
                assert events[: len(moved["logs"])] == [e["event"] for e in moved["logs"]]
                if cancelled.status_code == 200:
                    assert history["status"] == "CANCELLED"
                assert a.get(f"/downlinks/{made['id']}").json() == history


UNSEEDED = """
name: unseeded-luck
description: Each try fails by chance and is retried after a random wait; no seed.
progressions:
  flaky:
    steps:
      - {after: 200ms, to: EXECUTING}
      - {after: 300ms, to: SENT_TO_CARRIER}
      - {after: 1s, to: RETRY, errorCode: NETWORK_ERROR, chance: 0.5}
      - {after: 1s, to: DELIVERED}
    retrySteps:
      - after: {min: 5s, max: 20s}
        to: EXECUTING
      - {after: 300ms, to: SENT_TO_CARRIER}
      - {after: 1s, to: RETRY, errorCode: NETWORK_ERROR, chance: 0.5}
      - {after: 1s, to: DELIVERED}
"""


@pytest.mark.rule("S3", "S4", "T3")
def test_every_process_plays_an_unseeded_timeline_alike(redis_url: str, tmp_path: Path) -> None:
    """A timeline's moves are not committed: each process plays them, and draws alike
    (each timeline has a key of its own), so every process shows the same history."""
    scenario = tmp_path / "unseeded.yaml"
    scenario.write_text(UNSEEDED)
    config = shared_config(redis_url, scenario=str(scenario))
    with MockServer(config) as one, MockServer(config) as two:
        with httpx.Client(base_url=one.base_url, headers=auth(), timeout=10) as a:
            with httpx.Client(base_url=two.base_url, headers=auth(), timeout=10) as b:
                ids = [
                    a.post("/downlinks", json=body(retryLimit=3)).json()["id"] for _ in range(40)
                ]
                for step in ("PT1S", "PT2S", "PT30S", "PT10M"):
                    client = a if step == "PT2S" else b
                    assert client.post("/__mock/clock", json={"advance": step}).status_code == 200
                    seen_a = [a.get(f"/downlinks/{i}").json() for i in ids]
                    seen_b = [b.get(f"/downlinks/{i}").json() for i in ids]
                    assert seen_a == seen_b
                histories = {tuple(e["event"] for e in dl["logs"]) for dl in seen_a}
                assert len(histories) > 1  # the draws differ between downlinks
                assert {dl["status"] for dl in seen_a} <= {"DELIVERED", "FAILED"}


@pytest.mark.rule("T3")
def test_the_guard_reads_a_running_clock_as_every_process_does(redis_url: str) -> None:
    config = shared_config(redis_url, clock_mode=ClockMode.SCALED, clock_start=START_MS, speed=10)
    with MockServer(config) as one:
        with httpx.Client(base_url=one.base_url, headers=auth(), timeout=10) as a:
            made = a.post("/downlinks", json=body()).json()
            control = one.mock.state._control_version or b""
            now = one.mock.clock.now()
            # Fallen due a second ago by the scaled clock: refused; due in an hour: not.
            assert _commit_cancel(one, made["id"], control=control, due=now - 1_000) == 0
            later = _commit_cancel(one, made["id"], control=control, due=now + 3_600_000)
            assert isinstance(later, list)


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
