"""Soak: bounded mixed load with faults armed and hostile clients mixed in.

    python -m bench.soak                      # 1,000,000 stored, 30 s a phase
    python -m bench.soak --stored 100000 --seconds 20
    python -m bench.soak --quick              # 1,000 stored, 4 s a phase (a smoke run)

The mock runs as `downlinks-mock serve` does (bench/soak_serve.py: the serve command,
its limits and protocol, with N bench/dataset.py downlinks stored before it answers), on
127.0.0.1 and a free port, with `DOWNLINKS_MOCK_LOOP_WATCH=1` so that
`GET /__mock/loop` reports how late its event loop runs (mock_server/loopwatch.py).
Faults are armed through the control plane (M8): latency on some reads, an error status
on some creates, each with a probability. Then, after a short warm-up:

1. baseline: well-behaved clients alone (GET one, pages with varied filters and sorts,
   `next` links, creates, cancels), each request with a deadline;
2. soak: the same clients, and at the same time hostile ones (bench/soak_load.py):
   oversized headers, idle sockets, slow heads, slow bodies, bursts of connections past
   the cap, bodies over and just under the body limit, deeply nested bodies;
3. cool-down: nothing, for longer than the idle timeout, to see what the mock keeps.

It prints the mock's RSS each second, the event-loop lag (p50, p99, max) of each phase,
the share of well-behaved requests answered within the deadline and the p50 and p99 of
each kind, with the soak / baseline ratios, what the hostile clients got back, and
whether the RSS stayed within the caps plus the store and the lag p99 within 50 ms.
Everything is bounded in time and count; the script exits 0 whether the targets hold
or not (1 only when it could not run).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from bench.soak_hostile import HOSTILE_KINDS, hostile
from bench.soak_load import HOST, WELL_KINDS, Caps, KindStats, Seen, http_once, well_behaved
from bench.soak_report import as_json, report
from bench.soak_serve import RssSampler, Server, rss_kib, sched_ns, serve
from mock_server.http.auth import mint_token

__all__ = ["main", "Mode", "run_soak"]


@dataclass(frozen=True)
class Mode:
    """How big, how long and how many."""

    stored: int
    seconds: float  # each of the baseline and soak phases
    warmup: float
    clients: int  # well-behaved clients
    think_s: float  # pause of each well-behaved client between requests
    deadline_s: float  # an answer later than this is not in time
    max_requests: int  # per phase, all well-behaved clients together
    alone_seconds: float  # each hostile kind alone, after the soak (0: skip)
    without: tuple[str, ...] = ()  # request kinds left out (well-behaved or hostile)


FULL = Mode(1_000_000, 30.0, 3.0, 16, 0.02, 1.0, 200_000, 8.0)
QUICK = Mode(1_000, 4.0, 1.0, 4, 0.02, 1.0, 20_000, 0.0)
CAPS = Caps(
    max_header_bytes=16 * 1024,
    idle_timeout=2.0,
    header_timeout=3.0,
    body_timeout=3.0,
    max_connections=256,
    max_body_bytes=1024 * 1024,
    journal_size=1000,
)
FAULTS = [
    # latency on some reads of one downlink
    {
        "method": "GET",
        "path": "/downlinks/*",
        "latencyMs": {"min": 20, "max": 200},
        "probability": 0.1,
        "seed": 1,
    },
    # an error status on some creates: 502, which the mock itself never answers
    {"method": "POST", "path": "/downlinks", "status": 502, "probability": 0.05, "seed": 2},
]


# -- one run --------------------------------------------------------------------------


@dataclass
class Phase:
    """What one phase measured."""

    name: str
    seconds: float = 0.0
    stats: dict[str, KindStats] = field(default_factory=dict)
    lag: dict[int, int] = field(default_factory=dict)  # loopwatch buckets of the phase
    cpu_lag: dict[int, int] = field(default_factory=dict)  # the same, capped at CPU time
    lag_max_ms: float = 0.0  # the largest lateness seen up to the phase's end
    cpu_share: float = 0.0  # of the phase, the loop's thread on a CPU
    wait_share: float = 0.0  # of the phase, the loop's thread runnable but waiting
    hostile: dict[str, Counter[str]] = field(default_factory=dict)

    def in_time(self) -> tuple[int, int]:
        in_time = sum(s.in_time for s in self.stats.values())
        return in_time, sum(s.sent for s in self.stats.values())


@dataclass
class Result:
    """Everything one soak run measured."""

    mode: Mode
    caps: Caps
    load_seconds: float
    rss_ready_kib: int
    phases: list[Phase]
    rss: list[tuple[float, str, int]]
    seen: Seen
    tracebacks: int
    loadavg: tuple[str, str]


async def _loop_figures(port: int) -> dict[str, Any]:
    # A long timeout: the mock may still be working through the hostile requests' backlog.
    status, body = await http_once(port, "GET", "/__mock/loop", "-", timeout=300)
    if status != 200:
        raise RuntimeError(f"GET /__mock/loop answered {status}: is the probe wired?")
    data: dict[str, Any] = orjson.loads(body)
    return data


async def _drive(
    server: Server, mode: Mode, caps: Caps, end_ms: int, sampler: RssSampler
) -> tuple[list[Phase], Seen]:
    port, pid = server.port, server.proc.pid
    token = mint_token("client")
    await _loop_figures(port)  # starts the probe
    for fault in FAULTS:
        status, body = await _post_json(port, "/__mock/faults", fault)
        if status != 201:
            raise RuntimeError(f"arming a fault answered {status}: {body[:200]!r}")
    ids: list[str] = []
    for target in ("/downlinks?limit=100", "/downlinks?sort=-createdAt&limit=100"):
        status, body = await http_once(port, "GET", target, token)
        ids += [item["id"] for item in orjson.loads(body)["items"]]
    seen = Seen()
    common: dict[str, Any] = dict(
        clients=mode.clients,
        deadline_s=mode.deadline_s,
        think_s=mode.think_s,
        max_requests=mode.max_requests,
        seen=seen,
        without=mode.without,
    )
    hostile_kinds = tuple(k for k in HOSTILE_KINDS if k not in mode.without)
    sampler.phase = "warm-up"
    await well_behaved(port, token, end_ms, ids, seconds=mode.warmup, stats={}, **common)
    # The baseline, everything at once, then each hostile kind alone (which ones hold it).
    plan: list[tuple[str, tuple[str, ...], float]] = [
        ("baseline", (), mode.seconds),
        ("soak", hostile_kinds, mode.seconds),
        *((f"alone: {k}", (k,), mode.alone_seconds) for k in hostile_kinds if mode.alone_seconds),
    ]
    phases: list[Phase] = []
    for name, kinds, seconds in plan:
        phase = Phase(name)
        sampler.phase = name
        before, cpu_before, began = await _loop_figures(port), sched_ns(pid), time.monotonic()
        load = well_behaved(port, token, end_ms, ids, seconds=seconds, stats=phase.stats, **common)
        if kinds:
            await asyncio.gather(
                load,
                hostile(port, token, caps, seconds=seconds, out=phase.hostile, kinds=kinds),
            )
        else:
            await load
        after, cpu_after = await _loop_figures(port), sched_ns(pid)
        phase.seconds = time.monotonic() - began
        wall_ns = phase.seconds * 1e9
        phase.cpu_share = (cpu_after[0] - cpu_before[0]) / wall_ns
        phase.wait_share = (cpu_after[1] - cpu_before[1]) / wall_ns
        phase.lag = _difference(before["buckets"], after["buckets"])
        phase.cpu_lag = _difference(before["cpuBuckets"], after["cpuBuckets"])
        phase.lag_max_ms = after["maxMs"]
        phases.append(phase)
    sampler.phase = "cool-down"
    await asyncio.sleep(caps.idle_timeout + 2)
    return phases, seen


def _difference(before: dict[str, int], after: dict[str, int]) -> dict[int, int]:
    """The histogram of the time between two readings of the probe."""
    return {int(k): n - before.get(k, 0) for k, n in after.items() if n - before.get(k, 0) > 0}


async def _post_json(port: int, path: str, data: Any) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        body = orjson.dumps(data)
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        answer = await asyncio.wait_for(reader.read(), 10)
        return int(answer[9:12]), answer.split(b"\r\n\r\n", 1)[-1]
    finally:
        writer.close()


def run_soak(mode: Mode, caps: Caps = CAPS) -> Result:
    """One soak run: start the mock, drive the phases, stop the mock."""
    end_ms = time.time_ns() // 1_000_000
    load_before = (
        Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    )
    with (
        tempfile.TemporaryDirectory(prefix="soak-") as tmp,
        serve(mode.stored, end_ms, caps, Path(tmp)) as server,
    ):
        ready = rss_kib(server.proc.pid)
        sampler = RssSampler(server.proc.pid)
        sampler.start()
        try:
            runner = _event_loop_runner()
            phases, seen = runner(_drive(server, mode, caps, end_ms, sampler))
        finally:
            sampler.stop()
        tracebacks = server.stderr_path.read_text(errors="replace").count("Traceback")
    load_after = (
        Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    )
    return Result(
        mode,
        caps,
        server.load_seconds,
        ready,
        phases,
        sampler.samples,
        seen,
        tracebacks,
        (load_before, load_after),
    )


def _event_loop_runner() -> Any:
    try:
        import uvloop

        return uvloop.run
    except ImportError:
        return asyncio.run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="1,000 stored, 4 s a phase")
    parser.add_argument("--stored", type=int, help="downlinks stored before the load")
    parser.add_argument("--seconds", type=float, help="length of the baseline and soak phases")
    parser.add_argument(
        "--alone", type=float, help="seconds of each hostile kind alone after the soak (0: skip)"
    )
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        choices=[*WELL_KINDS, *HOSTILE_KINDS],
        metavar="KIND",
        help="leave a request kind out (repeatable): one of %(choices)s",
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args(argv)
    mode = QUICK if args.quick else FULL
    if args.stored is not None:
        mode = replace(mode, stored=max(0, args.stored))
    if args.alone is not None:
        mode = replace(mode, alone_seconds=min(600.0, max(0.0, args.alone)))
    if args.without:
        mode = replace(mode, without=tuple(args.without))
    if args.seconds is not None:
        mode = replace(mode, seconds=min(600.0, max(1.0, args.seconds)))
    print(
        f"soak: {mode.stored:,} stored, {mode.seconds:g} s a phase, left out: "
        f"{', '.join(mode.without) or 'none'}",
        flush=True,
    )
    try:
        result = run_soak(mode)
    except (RuntimeError, OSError, asyncio.TimeoutError) as exc:
        print(f"soak: could not run: {exc}", file=sys.stderr)
        return 1
    print(report(result), flush=True)
    if args.json:
        args.json.write_bytes(orjson.dumps(as_json(result), option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
