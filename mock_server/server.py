"""Run the mock (or any ASGI app) with uvicorn, bounded in bytes and time.

`MockServer` runs it in a background thread on a free port; `run` runs it in the
foreground (`downlinks-mock serve`); `run_workers` runs it in N worker processes on one
port (`serve --workers N`). All speak HTTP/1.1 through `GuardedHttpProtocol`
(mock_server/connections.py), with the limits of `ServerLimits`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import uvicorn

from mock_server.config import MockConfig
from mock_server.connections import GuardedHttpProtocol, ServerLimits, quiet_disconnects
from mock_server.store.lifetime import tune_collector

__all__ = [
    "MockServer",
    "ServerLimits",
    "GuardedHttpProtocol",
    "ListenError",
    "listen_socket",
    "free_port",
    "quiet_disconnects",
    "run",
    "serve_config",
    "start_in_thread",
    "stop_in_thread",
    "run_workers",
    "StartError",
    "uvicorn_config",
]


def uvicorn_config(
    app: Any,
    *,
    limits: ServerLimits | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    log_level: str = "warning",
    access_log: bool = False,
    lifespan: str = "off",
) -> uvicorn.Config:
    """A uvicorn configuration that serves `app` through `GuardedHttpProtocol`."""
    limits = limits or ServerLimits()
    config = uvicorn.Config(
        quiet_disconnects(app),
        host=host,
        port=port,
        http=GuardedHttpProtocol,
        log_level=log_level,
        access_log=access_log,
        lifespan=lifespan,  # type: ignore[arg-type]
        timeout_keep_alive=max(1, round(limits.idle_timeout)),
    )
    config.guard_limits = limits  # type: ignore[attr-defined]
    config.timeout_keep_alive = limits.idle_timeout  # type: ignore[assignment]
    return config


class ListenError(Exception):
    """The address cannot be listened on; the message says why and what to do."""


class StartError(Exception):
    """The app could not be built or served: the message says why, and `option` names the
    command-line option to blame (None: no single one). It crosses from a worker process to
    the parent, so it keeps both in `args` (pickled as they are)."""

    def __init__(self, message: str, option: str | None = None) -> None:
        super().__init__(message, option)
        self.message = message
        self.option = option

    def __str__(self) -> str:
        return self.message


def listen_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port as uvicorn binds it (port 0: any free one).

    Bound before anything else happens, so that a busy port is one clear error before
    any banner is printed or any file is touched (ListenError).
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ListenError(f"cannot listen on {host}: {exc.strerror}; check --host") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ListenError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; stop what uses it, "
            "or pick another port with --port (0: any free one)"
        ) from None
    return sock


def run(app: Any, *, sock: socket.socket, log_level: str, limits: ServerLimits) -> None:
    """Serve `app` on the bound `sock` in the foreground until interrupted (`serve`).

    The caller binds first, so that a busy port fails before anything is printed.
    """
    tune_collector()
    uvicorn.Server(serve_config(app, sock, log_level, limits)).run(sockets=[sock])


def serve_config(
    app: Any, sock: socket.socket, log_level: str, limits: ServerLimits
) -> uvicorn.Config:
    """The configuration `serve` runs `app` with on the bound `sock` (one process or
    each worker)."""
    host, port = sock.getsockname()[:2]
    return uvicorn_config(
        app,
        limits=limits,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,  # `serve` writes its own, batched (mock_server/accesslog.py)
        lifespan="auto",
    )


def run_workers(
    app_factory: Callable[[], Any],
    *,
    sock: socket.socket,
    workers: int,
    log_level: str,
    limits: ServerLimits,
    on_ready: Callable[[list[int]], None] | None = None,
) -> int:
    """Serve the app of `app_factory` in `workers` processes on the one bound `sock`, in
    the foreground; the exit status (0: stopped by SIGINT/SIGTERM; 1: a worker died).

    Each worker builds its own app with `app_factory` (a picklable callable: a module-level
    function or a functools.partial of one) and accepts on the shared socket. `on_ready`
    gets the workers' pids once every one answers. A worker that fails to start stops the
    others and raises StartError (its message; a StartError raised by the factory crosses
    as it is). Workers are not restarted: one that dies is reported on stderr and the
    others are stopped, so the mock never runs short of the workers it was asked for.
    """
    from mock_server import workers as worker_processes

    return worker_processes.supervise(
        app_factory,
        sock=sock,
        count=workers,
        log_level=log_level,
        limits=limits,
        on_ready=on_ready,
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def start_in_thread(
    config: uvicorn.Config, sock: socket.socket, timeout: float, what: str
) -> tuple[uvicorn.Server, threading.Thread]:
    """Serve `config` on the bound `sock` in a daemon thread; return once it listens
    (RuntimeError naming `what` when it does not within `timeout` seconds)."""
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.01)
    return server, thread


def stop_in_thread(server: uvicorn.Server, thread: threading.Thread) -> None:
    """Stop what `start_in_thread` started, waiting at most 10 s for its thread."""
    server.should_exit = True
    thread.join(timeout=10)


class MockServer:
    """The mock in a thread: `with MockServer() as server: httpx.get(server.base_url + ...)`.

    Pass `app` to serve any ASGI app instead (for example, a deliberately broken mock),
    and `limits` to change the server's bounds (ServerLimits).
    """

    def __init__(
        self,
        config: MockConfig | None = None,
        *,
        app: Any = None,
        host: str = "127.0.0.1",
        limits: ServerLimits | None = None,
    ) -> None:
        if app is None:
            from mock_server.app import create_app

            app = create_app(config)
        self.app = app
        self.host = host
        self.port = 0
        self.limits = limits or ServerLimits()
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
        config = uvicorn_config(self.app, limits=self.limits)
        self._server, self._thread = start_in_thread(config, sock, timeout, "the mock server")
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            stop_in_thread(self._server, self._thread)
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
