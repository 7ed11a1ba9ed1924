"""Load generators for loopback HTTP: `wrk` where it is installed, else asyncio sockets.

Both keep `connections` keep-alive connections busy with one request at a time each (no
pipelining) for `duration` seconds, and report requests per second and the latency
percentiles. The Python generator is also bounded in count (`max_requests`); it shares
the machine's cores with the server, so its figures are lower than wrk's: compare ratios.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

__all__ = ["Load", "LoadResult", "find_wrk", "run_wrk", "run_python", "run_load"]

_LUA = Path(__file__).with_name("wrk_report.lua")


@dataclass(frozen=True)
class Load:
    """One kind of request to repeat: method, path with query, headers and body.

    With `mix`, each connection sends the (method, path) pairs of `mix` in turn instead
    (`body` is the body of each POST): a set of distinct pages that a page cache cannot
    answer, or a workload of reads and creates.
    """

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    mix: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class LoadResult:
    """What one run measured."""

    requests: int
    seconds: float
    errors: int  # failed connections, reads, timeouts and answers of 400 and up
    p50_ms: float
    p99_ms: float
    generator: str

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _apt_get(apt: str, *args: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run([apt, *args], env=env, capture_output=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired):
        pass


def find_wrk(install: bool = True) -> str | None:
    """The path of `wrk`; when missing, running as root and `install`, apt-get it first
    (and once more after `apt-get update`). A failed install gives None: the caller falls
    back to the Python generator."""
    path = shutil.which("wrk")
    if path or not install or os.name != "posix" or os.geteuid() != 0:
        return path
    apt = shutil.which("apt-get")
    if apt is None:
        return None
    _apt_get(apt, "install", "-y", "-q", "wrk")
    if shutil.which("wrk") is None:
        _apt_get(apt, "update", "-q")
        _apt_get(apt, "install", "-y", "-q", "wrk")
    return shutil.which("wrk")


def run_wrk(
    wrk: str, base_url: str, load: Load, *, connections: int, duration: float, threads: int = 1
) -> LoadResult:
    """One wrk run; raises RuntimeError if wrk fails or prints no result."""
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "5s",
        "-s",
        str(_LUA),
    ]
    for name, value in load.headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(base_url + load.path)
    env = {**os.environ, "BENCH_METHOD": load.method, "BENCH_BODY": load.body.decode()}
    with tempfile.TemporaryDirectory() as tmp:
        if load.mix:
            listing = Path(tmp, "requests.txt")
            listing.write_text("".join(f"{m} {p}\n" for m, p in load.mix))
            env["BENCH_REQUESTS"] = str(listing)
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=duration + 60, check=False
        )
    match = re.search(r"^BENCH_RESULT (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    data = orjson.loads(match.group(1))
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    return LoadResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=errors,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        generator="wrk",
    )


def _request_bytes(host: str, port: int, load: Load) -> list[bytes]:
    """Each request of `load` as bytes on the wire: one, or one per entry of its mix."""
    out = []
    for method, path in load.mix or ((load.method, load.path),):
        body = load.body if method in ("POST", "PUT", "PATCH") else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
        lines += [f"{name}: {value}" for name, value in load.headers.items()]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        out.append(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    return out


async def _connection(
    host: str,
    port: int,
    requests: list[bytes],
    deadline: float,
    budget: list[int],
    latencies: list[int],
    failures: list[int],
) -> None:
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        failures[0] += 1
        return
    try:
        turn = 0
        while time.monotonic() < deadline and budget[0] > 0:
            budget[0] -= 1
            request = requests[turn]
            turn = (turn + 1) % len(requests)
            began = time.perf_counter_ns()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter_ns() - began)
            if status >= 400:
                failures[0] += 1
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
        failures[0] += 1
    finally:
        writer.close()


async def _python_load(
    host: str, port: int, load: Load, connections: int, duration: float, max_requests: int
) -> LoadResult:
    requests = _request_bytes(host, port, load)
    latencies: list[int] = []
    failures = [0]
    budget = [max_requests]
    started = time.monotonic()
    deadline = started + duration
    tasks = [
        _connection(host, port, requests, deadline, budget, latencies, failures)
        for _ in range(connections)
    ]
    # Every connection stops at the deadline; the timeout only guards a stuck server.
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=duration + 30)
    seconds = time.monotonic() - started
    latencies.sort()

    def pct(p: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] / 1e6

    return LoadResult(len(latencies), seconds, failures[0], pct(50), pct(99), "python")


def run_python(
    base_url: str,
    load: Load,
    *,
    connections: int,
    duration: float,
    max_requests: int = 2_000_000,
) -> LoadResult:
    """One run of the asyncio generator (uvloop when installed) against `base_url`."""
    hostport = base_url.split("://", 1)[1].rstrip("/")
    host, port = hostport.rsplit(":", 1)
    coroutine = _python_load(host, int(port), load, connections, duration, max_requests)
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def run_load(
    wrk: str | None, base_url: str, load: Load, *, connections: int, duration: float
) -> LoadResult:
    """wrk when given, else the Python generator."""
    if wrk:
        return run_wrk(wrk, base_url, load, connections=connections, duration=duration)
    return run_python(base_url, load, connections=connections, duration=duration)
