"""The shared store (Redis) against the memory store, in one run, as users start the mock.

    python bench/shared_store.py                 # 1,000 stored, 2 rounds of 5 s (about 3 min)
    python bench/shared_store.py --stored 100000 # a bigger store
    python bench/shared_store.py --quick         # a smoke run: 1-second runs, no profile

It starts a redis-server of its own (Debian's, no persistence) and three mocks on 127.0.0.1:

- `memory`: `downlinks-mock serve` with every default (bench/serve.py `mock`: its store
  filled with the N benchmark downlinks before it listens);
- `redis, 1 worker` and `redis, 2 workers`: `downlinks-mock serve --store URL
  --store-prefix P [--workers 2]`, every other option at its default, the same N
  downlinks committed to Redis beforehand (bench/shared_procs.py).

Each request kind runs under wrk (one thread, 32 connections) for a fixed time, rounds
interleaved between the servers, and the CPU seconds of the mock's processes, of
redis-server and of wrk over each run (from /proc and getrusage) are divided by the
requests answered:

1. GET one, a 50-item page that no page cache answers (4,096 distinct queries), POST
   create: CPU per request of mock + Redis on the Redis store against the memory store's
   (the target: at most 2x);
2. GET one and the mixed 9 reads : 1 create workload on 1 and 2 workers: throughput and
   where the CPU went (workers, redis-server, wrk), in cores busy;
3. a model of throughput at 4, 8 and 16 workers from the measured per-request costs
   (bench/shared_model.py);
4. (not with --quick) a profile in process of where a Redis-store request's CPU goes
   beyond the memory store's (bench/shared_profile.py).

The report is printed, and written into docs/performance.md between markers with the
command that made it. Exit 0 whether or not the target is met; 1 when it could not run.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make `bench` importable from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.http_load import (
    GET_ONE,
    MIXED,
    PAGE,
    POST,
    Server,
    bench_server,
    find_targets,
    machine,
    raise_priority,
    write_section,
)
from bench.loadgen import Load, LoadResult, find_wrk, run_wrk
from bench.shared_model import FanOut, measure_fanout, model_rows, model_table, saturation
from bench.shared_procs import (
    MockProcess,
    children_cpu_seconds,
    command_stats,
    find_redis_server,
    redis_server,
    seed_redis,
    shared_mock,
    tree_cpu_seconds,
    tree_wait_seconds,
)

__all__ = ["main", "Row", "TARGET_RATIO"]

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs" / "performance.md"
CONNECTIONS = 32
TARGET_RATIO = 2.0  # the bound: Redis store CPU per request <= 2x the memory store's

MEMORY = "memory"
REDIS_1 = "redis, 1 worker"
REDIS_2 = "redis, 2 workers"
COMPARED = (GET_ONE, PAGE, POST)  # memory against Redis
SCALED = (GET_ONE, MIXED)  # 1 against 2 workers


@dataclass(frozen=True)
class Mode:
    """How long each run is."""

    name: str
    rounds: int
    duration: float  # seconds of each measured run (wrk's unit: whole seconds)
    warmup: float
    fanout: int  # creates one worker commits for another to apply (the model's fan-out)


FULL = Mode("full", 2, 5.0, 2.0, 3_000)
QUICK = Mode("quick", 1, 1.0, 1.0, 200)


@dataclass
class Target:
    """A server under load: its name, URL, pid (its process tree is counted) and loads."""

    name: str
    url: str
    pid: int
    loads: dict[str, Load]
    workers: int = 1


@dataclass
class Row:
    """One request kind on one server, over every round."""

    server: str
    kind: str
    workers: int
    runs: list[LoadResult] = field(default_factory=list)
    mock_cpu: float = 0.0  # seconds, the mock's processes
    redis_cpu: float = 0.0  # seconds, redis-server
    wrk_cpu: float = 0.0  # seconds, wrk
    mock_wait: float = 0.0  # seconds the mock's threads were ready but waited for a core
    redis_wait: float = 0.0
    redis_commands: dict[str, tuple[int, int]] = field(default_factory=dict)  # calls, usec

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.runs)

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r in self.runs)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p99_ms(self) -> float:
        """The worst round's p99."""
        return max((r.p99_ms for r in self.runs), default=0.0)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.runs)

    def per_request_us(self, seconds: float) -> float:
        return seconds / self.requests * 1e6 if self.requests else 0.0

    @property
    def mock_us(self) -> float:
        return self.per_request_us(self.mock_cpu)

    @property
    def redis_us(self) -> float:
        return self.per_request_us(self.redis_cpu)

    @property
    def wrk_us(self) -> float:
        return self.per_request_us(self.wrk_cpu)

    @property
    def total_us(self) -> float:
        """Mock + Redis CPU per request (what the 2x target compares)."""
        return self.mock_us + self.redis_us

    def cores(self, seconds: float) -> float:
        """Cores kept busy over the measured runs."""
        return seconds / self.seconds if self.seconds else 0.0


# -- running ------------------------------------------------------------------------


def measure(
    jobs: list[tuple[Row, Target]], wrk: str, mode: Mode, redis_pid: int, redis_port: int
) -> None:
    """Each job `mode.rounds` times, round-robin, each warmed up before its first round;
    CPU of the server's processes, redis-server and wrk counted over each measured run."""
    for round_ in range(mode.rounds):
        for row, target in jobs:
            load = target.loads[row.kind]
            if round_ == 0:
                run_wrk(wrk, target.url, load, connections=CONNECTIONS, duration=mode.warmup)
            stats = command_stats(redis_port)
            mock, redis, wrk_cpu = (
                tree_cpu_seconds(target.pid),
                tree_cpu_seconds(redis_pid),
                children_cpu_seconds(),
            )
            mock_wait, redis_wait = tree_wait_seconds(target.pid), tree_wait_seconds(redis_pid)
            result = run_wrk(wrk, target.url, load, connections=CONNECTIONS, duration=mode.duration)
            row.mock_cpu += tree_cpu_seconds(target.pid) - mock
            row.redis_cpu += tree_cpu_seconds(redis_pid) - redis
            row.wrk_cpu += children_cpu_seconds() - wrk_cpu
            row.mock_wait += tree_wait_seconds(target.pid) - mock_wait
            row.redis_wait += tree_wait_seconds(redis_pid) - redis_wait
            after = command_stats(redis_port)
            for name, (calls, usec) in after.items():
                was = stats.get(name, (0, 0))
                old = row.redis_commands.get(name, (0, 0))
                row.redis_commands[name] = (old[0] + calls - was[0], old[1] + usec - was[1])
            row.runs.append(result)
            print(
                f"    {row.server:<17} {row.kind:<27} {result.rps:>8,.0f} req/s  "
                f"p99 {result.p99_ms:7.2f} ms"
                + (f"  errors {result.errors}" if result.errors else ""),
                flush=True,
            )


def _target(name: str, server: Server | MockProcess, stored: int, end_ms: int) -> Target:
    from bench.dataset import OWNER
    from mock_server.http.auth import mint_token

    found = find_targets(server.url, mint_token(OWNER), stored, end_ms)
    workers = server.workers if isinstance(server, MockProcess) else 1
    return Target(name, server.url, server.pid, found.loads, workers)


def run(stored: int, wrk: str, mode: Mode, tmp: Path) -> tuple[list[Row], list[Row], FanOut]:
    """Start Redis and the three mocks, run both phases and measure the fan-out of writes:
    the compared rows, the scaled rows and the fan-out."""
    end_ms = time.time_ns() // 1_000_000
    with ExitStack() as stack:
        redis = stack.enter_context(redis_server(tmp))
        data = ["--count", str(stored), "--end-ms", str(end_ms)]
        memory = stack.enter_context(bench_server(MEMORY, ["mock", *data], tmp / "memory.log", 900))
        took = [seed_redis(redis.url, f"bench-w{n}", stored, end_ms) for n in (1, 2)]
        print(f"  {stored:,} downlinks committed to Redis in {took[0]:.1f} s", flush=True)
        one = stack.enter_context(
            shared_mock(redis.url, "bench-w1", workers=1, log=tmp / "redis-1.log")
        )
        two = stack.enter_context(
            shared_mock(redis.url, "bench-w2", workers=2, log=tmp / "redis-2.log")
        )
        targets = {
            MEMORY: _target(MEMORY, memory, stored, end_ms),
            REDIS_1: _target(REDIS_1, one, stored, end_ms),
            REDIS_2: _target(REDIS_2, two, stored, end_ms),
        }
        compared: list[Row] = []
        scaled: list[Row] = []

        def jobs(
            rows: list[Row], kinds: tuple[str, ...], names: tuple[str, ...]
        ) -> list[tuple[Row, Target]]:
            out = []
            for kind in kinds:
                for name in names:
                    row = Row(name, kind, targets[name].workers)
                    rows.append(row)
                    out.append((row, targets[name]))
            return out

        args = (wrk, mode, redis.pid, redis.port)
        print("  memory store against Redis store (1 worker):", flush=True)
        measure(jobs(compared, (GET_ONE, PAGE), (MEMORY, REDIS_1)), *args)
        print("  1 and 2 workers on the Redis store:", flush=True)
        measure(jobs(scaled, SCALED, (REDIS_1, REDIS_2)), *args)
        # Creates last: they grow the stores that the reads read.
        print("  creates, memory against Redis:", flush=True)
        measure(jobs(compared, (POST,), (MEMORY, REDIS_1)), *args)
        fanout = measure_fanout(redis.url, "bench-fanout", redis.port, mode.fanout)
    return compared, scaled, fanout


# -- reporting ----------------------------------------------------------------------


def compare_table(rows: list[Row]) -> tuple[str, list[tuple[str, float]]]:
    """The memory-vs-Redis table and (kind, ratio) for each kind."""
    lines = [
        "| request | store | req/s | p99 ms | mock CPU us/req | Redis CPU us/req "
        "| mock + Redis us/req | vs memory | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ratios: list[tuple[str, float]] = []
    by = {(r.kind, r.server): r for r in rows}
    for kind in COMPARED:
        base = by[(kind, MEMORY)]
        for name in (MEMORY, REDIS_1):
            r = by[(kind, name)]
            # The memory mock uses no Redis: its columns count the mock alone.
            redis_us = "" if name == MEMORY else f"{r.redis_us:,.0f}"
            total = r.mock_us if name == MEMORY else r.total_us
            ratio = total / base.mock_us if base.mock_us else float("inf")
            lines.append(
                f"| {kind} | {name} | {r.rps:,.0f} | {r.p99_ms:.2f} | {r.mock_us:,.0f} "
                f"| {redis_us} | {total:,.0f} | {ratio:.2f}x | {r.errors} |"
            )
            if name != MEMORY:
                ratios.append((kind, ratio))
    return "\n".join(lines), ratios


def scaled_table(rows: list[Row]) -> str:
    lines = [
        "| request | workers | req/s | p99 ms | workers CPU us/req | Redis CPU us/req "
        "| wrk CPU us/req | cores busy: workers + Redis + wrk = total "
        "| waiting for a core: workers, Redis | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|---:|",
    ]
    for r in rows:
        busy = [r.cores(r.mock_cpu), r.cores(r.redis_cpu), r.cores(r.wrk_cpu)]
        lines.append(
            f"| {r.kind} | {r.workers} | {r.rps:,.0f} | {r.p99_ms:.2f} | {r.mock_us:,.0f} "
            f"| {r.redis_us:,.0f} | {r.wrk_us:,.0f} | {busy[0]:.2f} + {busy[1]:.2f} + "
            f"{busy[2]:.2f} = {sum(busy):.2f} | {r.cores(r.mock_wait):.2f}, "
            f"{r.cores(r.redis_wait):.2f} | {r.errors} |"
        )
    return "\n".join(lines)


def commands_table(rows: list[Row]) -> str:
    """Redis' own accounting per request (INFO commandstats): its top commands."""
    lines = [
        "| request | server | Redis commands per request (calls x us of execution each) |",
        "|---|---|---|",
    ]
    for r in rows:
        top = sorted(r.redis_commands.items(), key=lambda kv: -kv[1][1])
        shown = [
            f"{name} {calls / r.requests:.2f} x {usec / calls:.1f} us"
            for name, (calls, usec) in top[:5]
            if r.requests and calls and name != "info"
        ]
        lines.append(f"| {r.kind} | {r.server} | {'; '.join(shown)} |")
    return "\n".join(lines)


def limits(rows: list[Row], nproc: int) -> list[str]:
    """What bounds each scaled run on this machine: where the CPU went, and how long the
    mock and Redis were ready to run but waited for a core (the scheduler's run queue)."""
    out = []
    for r in rows:
        busy = {
            "workers": r.cores(r.mock_cpu),
            "redis-server": r.cores(r.redis_cpu),
            "wrk": r.cores(r.wrk_cpu),
        }
        total = sum(busy.values())
        ready = busy["workers"] + r.cores(r.mock_wait)  # running or waiting to run
        shown = ", ".join(f"{k} {v:.2f}" for k, v in busy.items())
        if ready >= 0.85 * r.workers:
            why = (
                f"CPU: the workers were ready to run {ready:.2f} of their {r.workers} "
                f"core(s)' time but ran {busy['workers']:.2f}; the {nproc} cores are shared "
                "with redis-server, wrk and the machine's other work"
            )
        elif total >= 0.85 * nproc:
            why = f"the machine's {nproc} cores, {total:.2f} of them busy"
        else:
            why = (
                f"round trips: the workers were ready to run only {ready:.2f} of their "
                f"{r.workers} core(s)' time, the requests wait on Redis"
            )
        out.append(
            f"- {r.kind}, {r.workers} worker(s): {r.rps:,.0f} req/s, limited by {why} "
            f"(cores busy: {shown})."
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--stored", type=int, default=1_000, help="downlinks stored (1,000)")
    parser.add_argument("--no-profile", action="store_true", help="skip the in-process profile")
    parser.add_argument("--docs", type=Path, default=DOCS, help="where to write the report")
    parser.add_argument("--no-docs", action="store_true", help="print only")
    raw = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(raw)
    mode = QUICK if args.quick else FULL
    command = "python bench/shared_store.py" + "".join(f" {shlex.quote(a)}" for a in raw)
    if find_redis_server() is None:
        print("redis-server is not installed: apt-get install -y redis-server", file=sys.stderr)
        return 1
    wrk = find_wrk(install=True)
    if wrk is None:
        print("wrk is not installed and could not be installed", file=sys.stderr)
        return 1
    info = machine()
    info["priority"] = raise_priority()
    nproc = os.cpu_count() or 1
    load_start = os.getloadavg()
    print(
        f"machine: {nproc} cores ({info['cpu']}), Python {info['python']}; {info['priority']}; "
        f"load average {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}\n"
        f"mode: {mode.name}; {args.stored:,} stored; {CONNECTIONS} connections, "
        f"{mode.rounds} round(s) of {mode.duration:g} s per kind",
        flush=True,
    )
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="shared-store-") as tmp:
            compared, scaled, fanout = run(args.stored, wrk, mode, Path(tmp))
    except (RuntimeError, OSError, subprocess.TimeoutExpired, httpx.HTTPError) as exc:
        print(f"\nthe benchmark could not run: {exc}", file=sys.stderr)
        return 1
    profile = ""
    if not args.quick and not args.no_profile:
        from bench.shared_profile import profile_report

        print("  profiling in process ...", flush=True)
        profile = profile_report(args.stored)
    took = time.monotonic() - started
    load_end = os.getloadavg()
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    table, ratios = compare_table(compared)
    modelled = model_rows(scaled, fanout, (1, 2, 4, 8, 16))
    report = [
        f"`{command}` ({when}, {took:.0f} s): {nproc} cores ({info['cpu']}), Python "
        f"{info['python']}, redis-server {redis_version()}, {info['priority']}; load average "
        f"(1 min) {load_start[0]:.2f} at the start, {load_end[0]:.2f} at the end; "
        f"{args.stored:,} stored; {mode.rounds} round(s) of {mode.duration:g} s per row.",
        "",
        "CPU per request, mock + Redis, Redis store against the memory store:",
        "",
        table,
        "",
        "| target | met | figure |",
        "|---|---|---|",
        *(
            f"| {kind}: mock + Redis CPU <= {TARGET_RATIO:g}x memory | "
            f"{'PASS' if ratio <= TARGET_RATIO else 'MISS'} | {ratio:.2f}x |"
            for kind, ratio in ratios
        ),
        "",
        "Throughput on the Redis store, 1 and 2 workers (wrk on the same cores):",
        "",
        scaled_table(scaled),
        "",
        *limits(scaled, nproc),
        "",
        commands_table([r for r in compared if r.server != MEMORY] + scaled),
        "",
        "Model: throughput with W workers on one Redis, each worker on a core of its own:",
        "",
        model_table(modelled),
        "",
        *saturation(scaled, fanout),
    ]
    if profile:
        report += ["", profile]
    text = "\n".join(report)
    print("\n" + text)
    if not args.no_docs:
        write_section(args.docs, f"shared-store {mode.name}", "bench/shared_store.py", text)
        print(f"\nwritten to {args.docs}")
    return 0


def redis_version() -> str:
    done = subprocess.run(
        [find_redis_server() or "redis-server", "--version"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    for word in done.stdout.split():
        if word.startswith("v="):
            return word[2:]
    return "unknown"


if __name__ == "__main__":
    sys.exit(main())
