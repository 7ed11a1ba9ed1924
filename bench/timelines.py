"""What live progressions cost the request path (T3): 0 vs 100,000 live timelines.

Two mocks hold the same 100,000 downlinks. In one every downlink's progression is
`static` (no timeline); in the other each has a live timeline whose next move is due in
one to two hours (a timer on the clock's heap). Both answer `GET /downlinks/{id}` and a
50-item page `GET /downlinks?limit=50` through the ASGI app (httpx.ASGITransport), in
alternating rounds; the script prints the median time per request and the ratio
live/static, which should be 1 within noise: a request pays one heap peek.

    python bench/timelines.py [--downlinks 100000] [--rounds 15] [--requests 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import tracemalloc
from typing import Any

import httpx

from mock_server.app import create_app
from mock_server.config import AuthMode, ClockMode, MockConfig
from mock_server.domain.model import NewDownlink
from mock_server.timeline.scenarios import parse_scenario

START_MS = 1_736_503_200_000  # 2025-01-10T10:00:00.000Z

# Every downlink's first move is one to two hours away, so all timelines stay live.
LATER = {
    "name": "later",
    "seed": 1,
    "progressions": {
        "later": {
            "steps": [
                {"after": {"min": "1h", "max": "2h"}, "to": "EXECUTING"},
                {"after": "1s", "to": "SENT_TO_CARRIER"},
                {"after": "1s", "to": "DELIVERED"},
            ]
        }
    },
}


def _new(i: int) -> NewDownlink:
    return NewDownlink(
        network_id=f"urn:dev:DEVEUI:{i:016x}:",
        message=f'[{{"bn":"urn:dev:DEVEUI:{i:016x}:"}},{{"n":"v","v":{i}}}]',
        method={"protocol": "LORA", "fPort": 1},
        external_reference=None,
        retry_limit=0,
        feedback_timeout_ms=None,
        parts=1,
    )


def build(count: int, live: bool) -> tuple[Any, str]:
    """An app holding `count` downlinks, with or without live timelines; a middle id."""
    app = create_app(
        MockConfig(
            clock_mode=ClockMode.MANUAL,
            clock_start=START_MS,
            auth_mode=AuthMode.OFF,
            scenario="static",
        )
    )
    mock = app.state.mock
    if live:
        mock.progressions.use(parse_scenario(LATER))
    now = mock.clock.now()
    ids = [mock.store.create("default", _new(i), now).id for i in range(count)]
    expected = count if live else 0
    assert mock.progressions.live == expected, (mock.progressions.live, expected)
    return app, ids[count // 2]


async def _time(client: httpx.AsyncClient, url: str, requests: int) -> float:
    """Seconds per request, the mean of one batch."""
    start = time.perf_counter()
    for _ in range(requests):
        response = await client.get(url)
        assert response.status_code == 200, response.text
    return (time.perf_counter() - start) / requests


async def measure(
    apps: dict[str, tuple[Any, str]], rounds: int, requests: int
) -> dict[tuple[str, str], float]:
    """Median seconds per request for each (setup, request), alternating setups."""
    clients = {
        name: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock")
        for name, (app, _) in apps.items()
    }
    samples: dict[tuple[str, str], list[float]] = {}
    try:
        for _ in range(rounds):
            for name, (_, some_id) in apps.items():
                for label, url in (
                    ("GET one", f"/downlinks/{some_id}"),
                    ("GET page", "/downlinks?limit=50"),
                ):
                    samples.setdefault((name, label), []).append(
                        await _time(clients[name], url, requests)
                    )
    finally:
        for client in clients.values():
            await client.aclose()
    return {key: statistics.median(values) for key, values in samples.items()}


def timeline_bytes(count: int) -> float:
    """Heap bytes per live timeline: creates with a timeline minus creates without."""
    sizes = []
    for live in (False, True):
        tracemalloc.start()
        app, _ = build(count, live)
        sizes.append(tracemalloc.get_traced_memory()[0])
        tracemalloc.stop()
        del app
    return (sizes[1] - sizes[0]) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--downlinks", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    started = time.perf_counter()
    apps = {"static": build(args.downlinks, live=False)}
    static_s = time.perf_counter() - started
    started = time.perf_counter()
    apps["live"] = build(args.downlinks, live=True)
    live_s = time.perf_counter() - started
    pending = apps["live"][0].state.mock.clock.pending
    print(f"{args.downlinks} downlinks each; live timelines: 0 vs {pending} timers pending")
    print(
        f"create {args.downlinks}: {static_s:.2f} s without timelines, "
        f"{live_s:.2f} s with ({(live_s - static_s) / args.downlinks * 1e6:+.1f} us per create)"
    )
    medians = asyncio.run(measure(apps, args.rounds, args.requests))
    print(f"{'request':<10} {'0 timelines':>14} {'live':>14} {'ratio':>7}")
    for label in ("GET one", "GET page"):
        base, live = medians[("static", label)], medians[("live", label)]
        print(f"{label:<10} {base * 1e6:>11.1f} us {live * 1e6:>11.1f} us {live / base:>7.3f}")
    print(f"memory: {timeline_bytes(20_000):.0f} bytes per live timeline (20,000 measured)")


if __name__ == "__main__":
    main()
