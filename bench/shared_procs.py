"""The processes of the shared-store benchmark: a redis-server of its own, the mock on it,
the CPU time each of them (and wrk) used, and the benchmark downlinks put into Redis.

    with redis_server(tmp) as redis:                  # Debian's redis-server, no persistence
        seed_redis(redis.url, "bench-1", count, end_ms)   # N stored, before the mock starts
        with shared_mock(redis.url, "bench-1", workers=2, log=...) as mock:
            before = tree_cpu_seconds(mock.pid)       # the mock and its worker processes

The mock is started as a user starts it: `downlinks-mock serve --store URL --store-prefix P
[--workers N]`, every other option at its default. Its downlinks are committed to Redis
beforehand by a `Mock` on the same store (the shared store's own seeding, M3, in batches),
so that the served processes load them from Redis as they would after any restart.
"""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.http_load import stop, wait_answering
from mock_server.server import free_port

__all__ = [
    "RedisServer",
    "MockProcess",
    "find_redis_server",
    "redis_server",
    "shared_mock",
    "serve_command",
    "seed_redis",
    "tree_pids",
    "tree_cpu_seconds",
    "tree_wait_seconds",
    "children_cpu_seconds",
    "command_stats",
]

REPO = Path(__file__).resolve().parent.parent
SEED_BATCH = 2_000  # downlinks committed by one SEED script (one change-log entry)
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class RedisServer:
    """A running redis-server on 127.0.0.1."""

    port: int
    pid: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@dataclass(frozen=True)
class MockProcess:
    """A running `downlinks-mock serve`: its URL and the pid of its (parent) process."""

    url: str
    pid: int
    workers: int


def find_redis_server() -> str | None:
    """The path of redis-server (Debian's package: apt-get install redis-server), or None."""
    return shutil.which("redis-server")


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server(workdir: Path, timeout: float = 20.0) -> Iterator[RedisServer]:
    """redis-server on a free loopback port, no snapshots, no append-only file; stopped after."""
    executable = find_redis_server()
    if executable is None:
        raise RuntimeError("redis-server is not installed (apt-get install -y redis-server)")
    port = free_port()
    command = [
        executable,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(workdir),
    ]
    with open(workdir / "redis.log", "wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while not _ping(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (workdir / "redis.log").read_text()[-1000:]
                raise RuntimeError(f"redis-server did not start on port {port}: {log}")
            time.sleep(0.05)
        yield RedisServer(port, proc.pid)
    finally:
        stop(proc)


def serve_command() -> list[str]:
    """`downlinks-mock serve`: the console script beside this interpreter (as a user runs
    it), else the same entry point through the interpreter."""
    script = Path(sys.executable).with_name("downlinks-mock")
    if script.is_file():
        return [str(script), "serve"]
    entry = "import sys; from mock_server.cli import main; sys.argv[0] = 'downlinks-mock'; main()"
    return [sys.executable, "-c", entry, "serve"]


@contextmanager
def shared_mock(
    store: str, prefix: str, *, workers: int, log: Path, timeout: float = 120.0
) -> Iterator[MockProcess]:
    """`downlinks-mock serve --store STORE --store-prefix PREFIX --workers N` on a free port,
    every other option at its default; yielded once it answers, stopped after."""
    port = free_port()
    command = [
        *serve_command(),
        "--port",
        str(port),
        "--store",
        store,
        "--store-prefix",
        prefix,
    ]
    if workers > 1:
        command += ["--workers", str(workers)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_answering(url, proc, deadline=time.monotonic() + timeout)
        if workers > 1:
            # Every worker builds its app and loads the store before the parent reports
            # ready; wait until all of them are there.
            deadline = time.monotonic() + timeout
            while len(tree_pids(proc.pid)) < workers + 1:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the {workers} workers did not start: {log.read_text()}")
                time.sleep(0.1)
        yield MockProcess(url, proc.pid, workers)
    finally:
        stop(proc)


def seed_redis(store: str, prefix: str, count: int, end_ms: int) -> float:
    """Commit the benchmark's devices and `count` downlinks (bench/dataset.py) to the shared
    store under `prefix`, through a `Mock` on it, as `serve`'s defaults configure one (real
    clock, default scenario, no fixtures). Returns the seconds it took."""
    from bench.dataset import make_devices, make_downlinks
    from mock_server.config import MockConfig
    from mock_server.mock import Mock

    async def fill() -> None:
        mock = Mock(MockConfig(store=store, store_prefix=prefix, scenario="default"))
        shared = mock.state
        assert shared.shared
        await shared.sync()  # the first process on the store initialises it
        devices = make_devices()
        await shared.register_devices([(d.network_id, d.tags) for d in devices])
        downlinks = make_downlinks(count, end_ms, devices=devices)
        for at in range(0, len(downlinks), SEED_BATCH):
            await shared.seed(downlinks[at : at + SEED_BATCH])

    started = time.perf_counter()
    asyncio.run(fill())
    return time.perf_counter() - started


def tree_pids(pid: int) -> list[int]:
    """`pid` and every process below it (the workers a `serve --workers N` spawned)."""
    out = [pid]
    at = 0
    while at < len(out):
        current = out[at]
        at += 1
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                children = Path(f"/proc/{current}/task/{task}/children").read_text().split()
            except OSError:
                continue
            out += [int(c) for c in children if int(c) not in out]
    return out


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime, stime, and the CPU of children it has waited for (cutime, cstime).
    return sum(int(f) for f in fields[11:15]) / _TICK


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of `pid` and every live process below it, so far."""
    return sum(_cpu(p) for p in tree_pids(pid))


def _waited(pid: int) -> float:
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0
    for task in tasks:
        try:
            # schedstat: on-CPU ns, ns runnable but waiting for a CPU, timeslices.
            total += int(Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def tree_wait_seconds(pid: int) -> float:
    """Seconds that the threads of `pid` and its descendants were ready to run but waited
    for a core (the scheduler's run-queue delay), so far: the machine's other work shows
    here, not in CPU time."""
    return sum(_waited(p) for p in tree_pids(pid))


def children_cpu_seconds() -> float:
    """CPU seconds of this process's finished children (wrk runs) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def command_stats(port: int) -> dict[str, tuple[int, int]]:
    """Redis' own accounting (INFO commandstats): command -> (calls, microseconds)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"*2\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n")
        data = b""
        while not data.endswith(b"\r\n") or data.count(b"\r\n") < 2 or not _complete(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    out: dict[str, tuple[int, int]] = {}
    for line in data.decode().splitlines():
        if line.startswith("cmdstat_"):
            name, _, rest = line.partition(":")
            values = dict(kv.split("=", 1) for kv in rest.split(","))
            out[name.removeprefix("cmdstat_")] = (int(values["calls"]), int(values["usec"]))
    return out


def _complete(data: bytes) -> bool:
    """Whether a RESP bulk string reply (`$LEN\\r\\n...\\r\\n`) is all there."""
    head, _, body = data.partition(b"\r\n")
    if not head.startswith(b"$"):
        return True
    return len(body) >= int(head[1:]) + 2
