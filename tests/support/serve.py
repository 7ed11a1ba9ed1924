"""`downlinks-mock serve` as a child process, for the tests that need whole mock processes
(several sharing one Redis, or one with several workers).

    with Serve("--store", redis_url, "--clock", "manual") as mock:
        httpx.get(f"{mock.url}/downlinks", headers=mock.auth)
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from types import TracebackType

import httpx

__all__ = ["Serve"]


class Serve:
    """One `serve` process on a free loopback port; its banner read, its URL and token
    known. Stopped with SIGTERM on leaving `with` (`status` is then its exit status)."""

    def __init__(self, *args: str) -> None:
        self.args = ["--port", "0", "--log-level", "warning", "--no-access-log", *args]
        self.process: subprocess.Popen[str] | None = None
        self.banner: list[str] = []
        self.status: int | None = None
        self.stderr = ""  # what it wrote there, once stopped
        self.workers = int(args[args.index("--workers") + 1]) if "--workers" in args else 1

    def start(self) -> Serve:
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from mock_server.cli.main import main; main()", "serve"]
            + self.args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        # The banner ends with the web view's line, or the workers' line after it.
        for line in self.process.stdout:
            self.banner.append(line.rstrip("\n"))
            if line.startswith("Workers:" if self.workers > 1 else "Web view:"):
                break
        if not self.banner or " on http" not in self.banner[0]:
            self.stop()
            raise RuntimeError(f"serve did not start: {self.banner} {self.stderr}")
        # One process prints its banner just before it listens: wait until it answers.
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.url}/__mock/health")
                return self
            except httpx.TransportError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"serve did not answer: {self.stderr}") from None
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return self.banner[0].split(" on ")[1].split()[0]

    @property
    def token(self) -> str | None:
        """The demo token the banner prints (lenient and hs256 auth)."""
        for previous, line in zip(self.banner, self.banner[1:], strict=False):
            if previous.startswith("Token ("):
                return line.strip()
        return None

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def pids(self) -> list[int]:
        """The worker processes' ids (with --workers), else []."""
        for line in self.banner:
            if line.startswith("Workers:"):
                return [int(p) for p in line.split("(pids ")[1].rstrip(")").split()]
        return []

    def stop(self, timeout: float = 30) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            _, self.stderr = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, self.stderr = self.process.communicate()
        self.status = self.process.returncode

    def __enter__(self) -> Serve:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
