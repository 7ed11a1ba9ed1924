"""Worker processes on one port (mock_server/workers.py, `serve --workers N`).

The machinery is tested with the memory store through `run_workers` (each worker then has
its own state, which these tests do not look at); `serve --workers` itself refuses the
memory store. Shared state across workers is tested with the Redis store.
"""

from __future__ import annotations

import functools
import os
import pickle
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mock_server.cli.serve import served_app
from tests.mock_server.cli.test_cli_serve import DEFAULTS
from tests.support.serve import Serve

# Serves the mock (memory store, manual clock) in WORKERS processes on a free port; prints
# `ready PORT PID...` once all answer; exits with run_workers' status, or 3 on StartError.
_SUPERVISOR = """
import functools, sys
from mock_server.app import create_app
from mock_server.config import ClockMode, MockConfig
from mock_server.server import ServerLimits, StartError, listen_socket, run_workers

sock = listen_socket("127.0.0.1", 0)
port = sock.getsockname()[1]
config = MockConfig(clock_mode=ClockMode.MANUAL, fixtures=[p for p in sys.argv[2:]])
try:
    status = run_workers(
        functools.partial(create_app, config),
        sock=sock,
        workers=int(sys.argv[1]),
        log_level="warning",
        limits=ServerLimits(),
        on_ready=lambda pids: print("ready", port, *pids, flush=True),
    )
except StartError as exc:
    print("failed:", exc, flush=True)
    sys.exit(3)
sys.exit(status)
"""


class Supervisor:
    """The supervising process, and what it printed once its workers answered."""

    def __init__(self, workers: int = 2, *fixtures: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _SUPERVISOR, str(workers), *fixtures],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        words = self.process.stdout.readline().split()
        self.first_line = " ".join(words)
        self.port = int(words[1]) if words[:1] == ["ready"] else 0
        self.pids = [int(w) for w in words[2:]] if self.port else []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def finish(self, timeout: float = 30) -> tuple[int, str]:
        """Wait for the exit; the status and what went to stderr."""
        _, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, err

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for pid in self.pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def supervisor() -> Iterator[Supervisor]:
    started = Supervisor(2)
    try:
        assert started.port, started.first_line
        yield started
    finally:
        started.kill()


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, exited but not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return state[0] != "Z"


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _gone(pids: list[int], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_two_workers_on_one_port_both_run_and_every_request_is_answered(
    supervisor: Supervisor,
) -> None:
    assert len(supervisor.pids) == 2 and len(set(supervisor.pids)) == 2
    for pid in supervisor.pids:
        assert _alive(pid) and _parent(pid) == supervisor.process.pid
    # Fresh connections each time: the kernel hands each to either worker.
    statuses = [httpx.get(f"{supervisor.url}/__mock/health").status_code for _ in range(50)]
    assert statuses == [200] * 50


def test_sigterm_stops_every_worker_and_the_parent_exits_0(supervisor: Supervisor) -> None:
    assert httpx.get(f"{supervisor.url}/__mock/health").status_code == 200
    supervisor.process.send_signal(signal.SIGTERM)
    status, err = supervisor.finish()
    assert status == 0, err
    assert _gone(supervisor.pids)
    assert "Traceback" not in err
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{supervisor.url}/__mock/health")


def test_sigint_stops_every_worker_too(supervisor: Supervisor) -> None:
    supervisor.process.send_signal(signal.SIGINT)
    status, err = supervisor.finish()
    assert status == 0, err
    assert _gone(supervisor.pids) and "Traceback" not in err


def test_a_worker_that_dies_is_reported_and_stops_the_others(supervisor: Supervisor) -> None:
    dead, other = supervisor.pids
    os.kill(dead, signal.SIGKILL)
    status, err = supervisor.finish()
    assert status == 1  # not restarted: the mock ends, loudly
    assert f"(pid {dead}) exited with status -9" in err and "not restarted" in err
    assert _gone([other])


def test_a_worker_that_fails_at_start_fails_the_start(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"downlinks": [{"status": "PENDING"}]}')
    started = Supervisor(2, str(bad))
    try:
        status, err = started.finish()
    finally:
        started.kill()
    assert status == 3
    assert (
        started.first_line.startswith("failed: FixtureError: ") and str(bad) in started.first_line
    )
    assert "ready" not in started.first_line  # the banner's moment never came


def test_the_config_reaches_each_worker_as_the_parent_made_it() -> None:
    from mock_server.cli.serve import build_config

    # Off loopback the admin token is generated at start: once, in the parent. Workers get
    # the config pickled (spawn), and unpickling does not run __post_init__ again.
    config = build_config(**{**DEFAULTS, "host": "0.0.0.0", "store": "redis://h:1/0"})
    assert config.admin_token
    factory = pickle.loads(pickle.dumps(functools.partial(served_app, config, True)))
    assert factory.args[0].admin_token == config.admin_token
    assert factory.args[0] == config


def _serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from mock_server.cli.main import main; main()", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_serve_with_workers_on_a_busy_port_fails_first_with_one_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _serve("--port", str(port), "--workers", "2", "--store", "redis://127.0.0.1:1/0")
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert out == ""  # no banner, no worker started
    errors = [line for line in err.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and f"127.0.0.1:{port}" in errors[0]
    assert "Traceback" not in err


def test_serve_workers_share_state_through_redis(redis_url: str) -> None:
    with Serve("--workers", "2", "--store", redis_url, "--clock", "manual") as mock:
        assert "store redis://127.0.0.1:" in mock.banner[0] and "2 workers" in mock.banner[0]
        assert len(mock.pids) == 2
        created = httpx.post(
            f"{mock.url}/downlinks",
            headers=mock.auth,
            json={
                "instruction": [{"bn": "urn:dev:DEVEUI:0004a30b001c0530:"}, {"n": "x", "v": 1}],
                "method": {"protocol": "SMS"},
            },
        )
        assert created.status_code == 201, created.text
        # Fresh connections land on either worker; each sees the one downlink.
        for _ in range(20):
            items = httpx.get(f"{mock.url}/downlinks", headers=mock.auth).json()["items"]
            assert [item["id"] for item in items] == [created.json()["id"]]
    assert mock.status == 0, mock.stderr
    assert _gone(mock.pids)
