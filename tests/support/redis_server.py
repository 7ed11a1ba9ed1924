"""A real `redis-server` for the tests (Debian's package), never a fake.

Registered from tests/conftest.py. `redis_server` (one per test session, so one per xdist
worker) runs redis-server on a free loopback port, in a temporary directory, with no
persistence; `redis_url` gives each test that server's URL with the database emptied (the
`store` fixture of tests/mock_server/conftest.py runs a module's tests on both stores with
it). `RedisServer.restart()` and `RedisServer.down()` are for the tests of what the mock
does while Redis is away.

Without redis-server (or without the redis client) these tests skip with one reason;
with DOWNLINKS_REQUIRE_REDIS=1 (as scripts/test sets under CI) that is a failure instead.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = [
    "REQUIRE_ENV",
    "RedisServer",
    "missing",
    "redis_server",
    "redis_url",
]

# Set to 1 (as scripts/test does under CI) to make a missing redis-server fail the run.
REQUIRE_ENV = "DOWNLINKS_REQUIRE_REDIS"
# How long redis-server gets to answer PING after it was started.
START_TIMEOUT = 20.0


def missing() -> str | None:
    """Why the Redis tests cannot run here, or None when they can."""
    if shutil.which("redis-server") is None:
        return "the Redis tests need redis-server: apt-get install -y redis-server"
    if importlib.util.find_spec("redis") is None:
        return "the Redis tests need the redis client: pip install -e '.[redis]'"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _encode(*args: str) -> bytes:
    """One command in RESP, Redis' wire format."""
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class RedisServer:
    """One redis-server process on 127.0.0.1:`port`, with its files in `directory`."""

    def __init__(self, directory: Path, *, executable: str = "redis-server") -> None:
        self.directory = directory
        self.executable = executable
        self.port = _free_port()
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        """The server's URL, as `--store` takes it."""
        return f"redis://127.0.0.1:{self.port}/{db}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self, *args: str) -> bytes:
        """Send one command; its reply's first line (b"+PONG", b"+OK", b":3", ...)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(_encode(*args))
            reply = b""
            while not reply.endswith(b"\r\n"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
        return reply.split(b"\r\n", 1)[0]

    def start(self) -> RedisServer:
        """Start it on `port` (the same one again after `stop`) and wait until PING answers."""
        if self.running:
            return self
        self._process = subprocess.Popen(
            [
                self.executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                "--logfile",
                str(self.directory / "redis.log"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self._process.poll() is not None:
                log = self.directory / "redis.log"
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                self._process = None
                raise RuntimeError(f"redis-server on port {self.port} exited at start:\n{tail}")
            try:
                if self.command("PING") == b"+PONG":
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server on port {self.port} did not answer PING")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop it (its data goes with it: nothing is saved)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self) -> None:
        """Stop it and start it again on the same port, empty: "Redis restarted"."""
        self.stop()
        self.start()

    @contextmanager
    def down(self) -> Iterator[None]:
        """Redis away for the `with` block, back (empty, same port) after it."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def pause(self) -> None:
        """Freeze it (SIGSTOP): connections stay open and nothing is answered."""
        if self._process is not None:
            self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused server answer again (SIGCONT)."""
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)

    def flush(self) -> None:
        """Empty every database."""
        reply = self.command("FLUSHALL")
        if reply != b"+OK":
            raise RuntimeError(f"FLUSHALL answered {reply!r}")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server for this session (this xdist worker), stopped at the end."""
    reason = missing()
    if reason is not None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's redis-server, running and empty, as a `--store` URL."""
    redis_server.start()  # a test before this one may have left it down
    redis_server.flush()
    return redis_server.url()
