"""Where a Redis-store request's CPU goes beyond a memory-store request's, profiled in process.

    python -m bench.shared_profile [--stored 1000] [--requests 2000]

Two apps (`create_app`) on the same N benchmark downlinks, one on the memory store, one on
a redis-server of its own, are called through `httpx.ASGITransport` one request at a
time (no server, no access log: the same for both) under cProfile with a CPU clock. For
each request kind it prints both CPU costs per request, the extra of the Redis store by
area (the redis client, asyncio, the shared store's own code, ...), and the functions
whose own time grew the most.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

__all__ = ["Profiled", "profile_kind", "profile_report", "main"]

# pstats keys: (file, line, function) -> (calls, primitive calls, own, cumulative, callers)
_Key = tuple[str, int, str]

# Areas of the code, by the file a function is in (the first that matches).
AREAS: tuple[tuple[str, str], ...] = (
    ("/redis/", "redis client (redis-py)"),
    ("hiredis", "redis client (redis-py)"),
    ("mock_server/store/redis/", "shared store (mock_server/store/redis)"),
    ("mock_server/control/journal", "journal middleware"),
    ("asyncio", "asyncio"),
    ("uvloop", "asyncio"),
    ("mock_server/", "mock (the rest)"),
    ("starlette", "starlette"),
    ("httpx", "httpx (the profiler's client)"),
)


def area(filename: str) -> str:
    for fragment, name in AREAS:
        if fragment in filename:
            return name
    return "other (builtins, orjson, ...)" if filename.startswith("~") else "other"


def _label(key: _Key) -> str:
    filename, line, name = key
    if filename == "~":
        return name
    for root in ("site-packages/", "python3.11/", "/bench/"):
        if root in filename:
            filename = filename.split(root, 1)[1]
            break
    return f"{name} ({filename}:{line})"


@dataclass
class Profiled:
    """One request kind on one store: CPU per request and the profile's own times."""

    cpu_us: float  # process CPU per request, measured without the profiler
    own: dict[_Key, float]  # function -> own CPU seconds per request, under the profiler
    calls: dict[_Key, float]  # function -> calls per request


async def _run(client: httpx.AsyncClient, requests: list[Callable[[], Any]]) -> None:
    for request in requests:
        answer = await request()
        if answer.status_code >= 400:
            raise RuntimeError(f"{answer.status_code}: {answer.text[:200]}")


def profile_kind(
    loop: asyncio.AbstractEventLoop,
    client: httpx.AsyncClient,
    make: Callable[[int], Callable[[], Any]],
    count: int,
) -> Profiled:
    """`count` requests of one kind on `loop`, once timed and once profiled."""
    loop.run_until_complete(_run(client, [make(i) for i in range(count // 4)]))  # warm-up
    started = time.process_time()
    loop.run_until_complete(_run(client, [make(count + i) for i in range(count)]))
    cpu_us = (time.process_time() - started) / count * 1e6
    profiler = cProfile.Profile(time.process_time)
    batch = [make(2 * count + i) for i in range(count)]
    profiler.enable()
    loop.run_until_complete(_run(client, batch))
    profiler.disable()
    stats: dict[_Key, Any] = cast(Any, pstats.Stats(profiler)).stats
    own = {key: value[2] / count for key, value in stats.items()}
    calls = {key: value[0] / count for key, value in stats.items()}
    return Profiled(cpu_us, own, calls)


def _requests(client: httpx.AsyncClient, end_ms: int) -> dict[str, Callable[[int], Any]]:
    from bench.dataset import create_body, make_devices
    from mock_server.domain.timefmt import format_ms

    later = end_ms + 3_600_000
    body = create_body(make_devices()[0])
    json = {"Content-Type": "application/json"}
    return {
        "GET one": lambda i: lambda: client.get("/downlinks/" + _one_id[0]),
        "page (every page rendered)": lambda i: (
            lambda: client.get("/downlinks?createdBefore=" + quote(format_ms(later + i), safe=""))
        ),
        "POST create": lambda i: lambda: client.post("/downlinks", content=body, headers=json),
    }


_one_id: list[str] = [""]


def _apps(redis_url: str, stored: int, end_ms: int) -> dict[str, Any]:
    from bench.dataset import make_devices, make_downlinks
    from bench.shared_procs import seed_redis
    from mock_server.app import create_app
    from mock_server.config import MockConfig

    memory = create_app(MockConfig(scenario="default"))
    devices = make_devices()
    store = memory.state.mock.store
    store.register_devices((d.network_id, d.tags) for d in devices)
    store.seed(make_downlinks(stored, end_ms, devices=devices))
    seed_redis(redis_url, "profile", stored, end_ms)
    shared = create_app(MockConfig(scenario="default", store=redis_url, store_prefix="profile"))
    return {"memory": memory, "redis": shared}


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop, as `serve` runs the mock (asyncio's where uvloop is missing)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _calls(profiled: Profiled, function: str, file_part: str) -> float:
    return sum(
        n for (f, _, name), n in profiled.calls.items() if name == function and file_part in f
    )


def profile_all(stored: int, count: int) -> dict[str, dict[str, Profiled]]:
    """kind -> store -> Profiled, on a redis-server of its own."""
    from bench.dataset import OWNER
    from bench.shared_procs import redis_server
    from mock_server.http.auth import mint_token

    end_ms = time.time_ns() // 1_000_000
    auth = {"Authorization": f"Bearer {mint_token(OWNER)}"}
    out: dict[str, dict[str, Profiled]] = defaultdict(dict)
    with tempfile.TemporaryDirectory(prefix="shared-profile-") as tmp:
        with redis_server(Path(tmp)) as redis:
            apps = _apps(redis.url, stored, end_ms)  # before the loop: seeding runs its own
            loop = _new_loop()
            asyncio.set_event_loop(loop)
            try:
                for name, app in apps.items():
                    transport = httpx.ASGITransport(app=app)
                    client = httpx.AsyncClient(
                        transport=transport, base_url="http://localhost", headers=auth
                    )
                    first = loop.run_until_complete(client.get("/downlinks"))
                    _one_id[0] = first.json()["items"][25]["id"]
                    for kind, make in _requests(client, end_ms).items():
                        out[kind][name] = profile_kind(loop, client, make, count)
                    loop.run_until_complete(client.aclose())
            finally:
                loop.close()
                asyncio.set_event_loop(None)
    return out


def report(results: dict[str, dict[str, Profiled]], top: int = 8) -> str:
    """The profile's findings as markdown."""
    lines = [
        "Profile in process (`httpx.ASGITransport`, one request at a time, cProfile on a CPU "
        "clock; no server and no access log, the same for both stores):",
        "",
    ]
    for kind, by_store in results.items():
        memory, redis = by_store["memory"], by_store["redis"]
        extra: dict[_Key, float] = {}
        for key in memory.own.keys() | redis.own.keys():
            extra[key] = redis.own.get(key, 0.0) - memory.own.get(key, 0.0)
        areas: dict[str, float] = defaultdict(float)
        for key, seconds in extra.items():
            areas[area(key[0])] += seconds
        total = sum(extra.values())
        commands = _calls(redis, "pack_command", "/redis/")
        scripts = _calls(redis, "evalsha", "/redis/")
        pipelines = _calls(redis, "execute", "redis/asyncio/client")
        lines += [
            f"{kind}: {memory.cpu_us:,.0f} us of CPU per request on the memory store, "
            f"{redis.cpu_us:,.0f} us on the Redis store ({redis.cpu_us / memory.cpu_us:.2f}x); "
            f"{commands:.1f} Redis commands packed per request ({scripts:.1f} scripts, "
            f"{pipelines:.1f} Pipeline.execute calls). The extra under the profiler, by area: "
            + ", ".join(
                f"{name} {seconds / total:.0%}"
                for name, seconds in sorted(areas.items(), key=lambda kv: -kv[1])
                if abs(seconds) / total >= 0.02
            )
            + ".",
            "",
            "| function (own time) | share of the extra | calls per request |",
            "|---|---:|---:|",
        ]
        for key, seconds in sorted(extra.items(), key=lambda kv: -kv[1])[:top]:
            calls = redis.calls.get(key, 0.0) - memory.calls.get(key, 0.0)
            lines.append(f"| {_label(key)} | {seconds / total:.1%} | {calls:+.1f} |")
        lines.append("")
    return "\n".join(lines)


def profile_report(stored: int, count: int = 1_500) -> str:
    """Profile every kind and return the markdown report."""
    return report(profile_all(stored, count))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stored", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=1_500)
    args = parser.parse_args(argv)
    print(profile_report(args.stored, args.requests))
    return 0


if __name__ == "__main__":
    sys.exit(main())
