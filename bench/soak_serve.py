"""`downlinks-mock serve` with N benchmark downlinks stored before it answers, and the
soak's side of it (`serve`: start it on a free loopback port; its RSS and CPU figures).

    python -m bench.soak_serve --stored 1000000 --end-ms 1764000000000 -- --port 0 ...

Everything after `--` goes to `downlinks-mock serve` unchanged: its banner, its limits
(`ServerLimits`), its guarded httptools protocol, uvloop. Only `create_app` is wrapped,
so that the app's store is filled with `bench/dataset.py` downlinks (as bench/serve.py
fills it) before the server starts: a fixture file of a million records would be read
and validated one record at a time, which is not what the soak measures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.soak_load import HOST, Caps, http_once
from mock_server.loopwatch import ENV_VAR

__all__ = ["main", "Server", "serve", "rss_kib", "sched_ns", "RssSampler"]

REPO = Path(__file__).resolve().parent.parent


def _filled(create_app: Any, stored: int, end_ms: int, seed: int) -> Any:
    def create_filled_app(*args: Any, **kwargs: Any) -> Any:
        from bench.dataset import make_devices, make_downlinks

        app = create_app(*args, **kwargs)
        store = app.state.mock.store
        devices = make_devices(seed=seed)
        store.register_devices((d.network_id, d.tags) for d in devices)
        if stored:
            store.seed(make_downlinks(stored, end_ms, devices=devices, seed=seed))
        return app

    return create_filled_app


# -- the parent's side: start the mock, watch it -------------------------------------------------------------------


@dataclass
class Server:
    """The mock's process and what it said when it was ready."""

    proc: subprocess.Popen[bytes]
    port: int
    load_seconds: float
    stderr_path: Path


@contextmanager
def serve(stored: int, end_ms: int, caps: Caps, workdir: Path) -> Iterator[Server]:
    """`downlinks-mock serve` with `stored` downlinks, on a free loopback port."""
    out_path, err_path = workdir / "serve.out", workdir / "serve.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.soak_serve",
                f"--stored={stored}",
                f"--end-ms={end_ms}",
                "--",
                f"--host={HOST}",
                "--port=0",
                "--log-level=warning",
                *caps.flags(),
            ],
            cwd=REPO,
            stdout=out,
            stderr=err,
            env={**os.environ, ENV_VAR: "1"},
        )
    try:
        port = _banner_port(proc, out_path, deadline=started + 120 + stored / 4000)
        _wait_answering(port, proc, deadline=time.monotonic() + 60)
        yield Server(proc, port, round(time.monotonic() - started, 1), err_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


def _banner_port(proc: subprocess.Popen[bytes], out: Path, deadline: float) -> int:
    marker = f"Downlinks mock on http://{HOST}:"
    while time.monotonic() < deadline:
        for line in out.read_text(errors="replace").splitlines():
            if line.startswith(marker):
                return int(line[len(marker) :].split()[0])
        if proc.poll() is not None:
            raise RuntimeError(f"the mock exited with {proc.returncode} before its banner")
        time.sleep(0.2)
    raise RuntimeError("the mock did not print its banner in time")


def _wait_answering(port: int, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while True:
        try:
            if asyncio.run(http_once(port, "GET", "/__mock/health", "-", timeout=5))[0] == 200:
                return
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the mock does not answer")
        time.sleep(0.2)


def rss_kib(pid: int) -> int:
    """VmRSS of `pid` in KiB (Linux); 0 where /proc is not there."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def sched_ns(pid: int) -> tuple[int, int]:
    """(ns on a CPU, ns waiting for one) of `pid`'s main thread, the event loop's."""
    try:
        on_cpu, waiting = Path(f"/proc/{pid}/schedstat").read_text().split()[:2]
        return int(on_cpu), int(waiting)
    except (OSError, ValueError):
        return 0, 0


class RssSampler(threading.Thread):
    """Samples the mock's RSS each second, tagged with the phase running."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.phase = "ready"
        self.samples: list[tuple[float, str, int]] = []
        self.began = time.monotonic()
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.samples.append((time.monotonic() - self.began, self.phase, rss_kib(self.pid)))
            self._stop_event.wait(1.0)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    ours, serve_args = (
        (args[: args.index("--")], args[args.index("--") + 1 :]) if "--" in args else (args, [])
    )
    parser = argparse.ArgumentParser(prog="python -m bench.soak_serve", description=__doc__)
    parser.add_argument("--stored", type=int, required=True)
    parser.add_argument("--end-ms", type=int, required=True, help="newest createdAt, epoch ms")
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args(ours)

    import mock_server.app as app_module
    from mock_server.cli import main as cli_main

    # `serve` imports create_app when it runs, so it gets the filling one.
    app_module.create_app = _filled(
        app_module.create_app, options.stored, options.end_ms, options.seed
    )
    sys.argv = ["downlinks-mock", "serve", *serve_args]
    cli_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
