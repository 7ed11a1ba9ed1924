"""Run the mock (or any ASGI app) with uvicorn in a background thread on a free port."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from mock_server.config import MockConfig

__all__ = ["MockServer", "free_port"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class MockServer:
    """The mock in a thread: `with MockServer() as server: httpx.get(server.base_url + ...)`.

    Pass `app` to serve any ASGI app instead (for example, a deliberately broken mock).
    """

    def __init__(
        self, config: MockConfig | None = None, *, app: Any = None, host: str = "127.0.0.1"
    ) -> None:
        if app is None:
            from mock_server.app import create_app

            app = create_app(config)
        self.app = app
        self.host = host
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def mock(self) -> Any:
        """The `Mock` behind the app (its store, clock, ...), when the app is the mock's."""
        return self.app.state.mock

    def start(self, timeout: float = 10.0) -> MockServer:
        sock = socket.socket()
        sock.bind((self.host, 0))
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the mock server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
