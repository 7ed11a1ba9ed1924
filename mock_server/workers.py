"""Several worker processes answering on one port (`downlinks-mock serve --workers N`).

The parent binds the socket once (a busy port is one error before anything starts), then
spawns N workers that each build their own app and accept on that socket: the kernel
hands each new connection to one of them. The state they share lives in the store (a Redis
store; the memory store is per process), so any worker can answer any request.

Spawned, not forked: a worker starts from a fresh interpreter, so it inherits no threads,
locks, event loop or open client connections from the parent (a forked copy of a Redis
connection pool would share its sockets with the parent), and it behaves the same on every
platform. Its settings arrive pickled: whatever the parent generated at start (the admin
token off loopback) is the same in every worker.

Workers are never restarted. One that dies is reported on stderr and the others are
stopped, and the parent exits 1: a mock quietly running on fewer workers than asked, or
on a fresh worker that lost its in-process state, would hide the failure.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from types import FrameType
from typing import Any

import uvicorn

from mock_server.connections import ServerLimits
from mock_server.server import StartError, serve_config
from mock_server.store.lifetime import tune_collector

__all__ = ["supervise"]

# How long stopped workers get to finish their open requests before they are killed.
STOP_GRACE = 10.0
_READY = "ready"
_FAILED = "failed"


class _WorkerServer(uvicorn.Server):
    """A uvicorn server that tells the parent once it accepts connections."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._on_started()


def _exit_with_parent(conn: Connection) -> None:
    """Block until the parent's end of the pipe closes (the parent is gone), then stop."""
    try:
        while True:
            conn.recv()
    except (EOFError, OSError):
        os.kill(os.getpid(), signal.SIGTERM)


def _worker(
    app_factory: Callable[[], Any],
    sock: socket.socket,
    log_level: str,
    limits: ServerLimits,
    conn: Connection,
) -> None:
    """One worker process: build the app, report, serve until told to stop."""
    threading.Thread(target=_exit_with_parent, args=(conn,), daemon=True).start()
    try:
        app = app_factory()
    except KeyboardInterrupt:  # Ctrl-C reached the whole process group during start-up
        return
    except StartError as exc:
        conn.send((_FAILED, exc))
        sys.exit(1)
    except Exception as exc:  # anything else: the trace for the log, one line for the parent
        traceback.print_exc()
        conn.send((_FAILED, StartError(f"{type(exc).__name__}: {exc}")))
        sys.exit(1)
    tune_collector()
    config = serve_config(app, sock, log_level, limits)
    server = _WorkerServer(config, on_started=lambda: conn.send((_READY, os.getpid())))
    try:
        server.run(sockets=[sock])
    except SystemExit:  # uvicorn's exit on a failed lifespan start-up
        if not server.started:
            conn.send((_FAILED, StartError("the app did not start: see the log above")))
        raise
    except KeyboardInterrupt:
        return


class _Supervisor:
    """The parent's side: start, watch, forward signals, stop."""

    def __init__(self) -> None:
        self.processes: list[multiprocessing.process.BaseProcess] = []
        self.pipes: list[Connection] = []
        self.stopping = False  # a SIGINT/SIGTERM came: exits from now on are expected

    def stopped(self) -> bool:
        """Whether a signal said stop (set by the handler, between any two statements)."""
        return self.stopping

    def forward(self, signum: int, frame: FrameType | None) -> None:
        """SIGINT/SIGTERM: the first asks every worker to finish (SIGTERM), a second one
        to stop at once (SIGINT, uvicorn's forced exit)."""
        again = self.stopping
        self.stopping = True
        self.signal_all(signal.SIGINT if again else signal.SIGTERM)

    def signal_all(self, signum: int) -> None:
        for process in self.processes:
            if process.is_alive() and process.pid is not None:
                try:
                    os.kill(process.pid, signum)
                except ProcessLookupError:  # exited in between
                    pass

    def stop_all(self) -> None:
        """Stop every worker still running: SIGTERM, then SIGKILL after STOP_GRACE."""
        self.signal_all(signal.SIGTERM)
        for process in self.processes:
            process.join(STOP_GRACE)
            if process.is_alive():
                process.kill()
                process.join()

    def name(self, index: int) -> str:
        return f"worker {index + 1} (pid {self.processes[index].pid})"

    def await_ready(self) -> bool:
        """Wait until every worker answers; False when a signal said stop first. Raises
        StartError (after stopping the others) when one fails or dies before it answers."""
        waiting = set(range(len(self.processes)))
        while waiting and not self.stopped():
            handles: list[Any] = [self.pipes[i] for i in waiting]
            handles += [self.processes[i].sentinel for i in waiting]
            for handle in wait(handles):
                index = (
                    self.pipes.index(handle)
                    if isinstance(handle, Connection)
                    else next(i for i, p in enumerate(self.processes) if p.sentinel == handle)
                )
                if index not in waiting:
                    continue
                try:
                    kind, detail = self.pipes[index].recv()
                except EOFError:  # died without a word (killed, crashed)
                    if self.stopped():
                        return False
                    self.processes[index].join()
                    code = self.processes[index].exitcode
                    self.stop_all()
                    raise StartError(
                        f"{self.name(index)} exited with status {code} before it answered"
                    ) from None
                if kind == _FAILED:
                    self.stop_all()
                    raise detail
                waiting.discard(index)
        return not self.stopped()

    def watch(self) -> int:
        """Wait until every worker has exited; 1 when one died without being told to."""
        status = 0
        running = set(range(len(self.processes)))
        while running:
            sentinels = {self.processes[i].sentinel: i for i in running}
            for sentinel in wait(list(sentinels)):
                index = sentinels[sentinel]  # type: ignore[index]
                running.discard(index)
                process = self.processes[index]
                process.join()
                if not self.stopped():
                    print(
                        f"{self.name(index)} exited with status {process.exitcode}; "
                        "stopping the other workers (workers are not restarted)",
                        file=sys.stderr,
                        flush=True,
                    )
                    status = 1
                    self.stopping = True
                    self.signal_all(signal.SIGTERM)
        return status


def supervise(
    app_factory: Callable[[], Any],
    *,
    sock: socket.socket,
    count: int,
    log_level: str,
    limits: ServerLimits,
    on_ready: Callable[[list[int]], None] | None = None,
) -> int:
    """`server.run_workers`: start `count` workers on `sock`, wait for them, return the
    exit status."""
    if count < 1:
        raise ValueError(f"the number of workers must be at least 1, not {count}")
    context = multiprocessing.get_context("spawn")
    supervisor = _Supervisor()
    previous = {
        signum: signal.signal(signum, supervisor.forward)
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        for index in range(count):
            if supervisor.stopped():  # a signal during start-up: start no more
                break
            parent_end, child_end = context.Pipe()
            process = context.Process(
                target=_worker,
                args=(app_factory, sock, log_level, limits, child_end),
                name=f"downlinks-mock worker {index + 1}",
            )
            supervisor.processes.append(process)
            supervisor.pipes.append(parent_end)
            process.start()
            child_end.close()
        if supervisor.await_ready():
            if on_ready is not None:
                on_ready([p.pid for p in supervisor.processes if p.pid is not None])
        else:  # stopped before all answered: those started after the signal hear it now
            supervisor.signal_all(signal.SIGTERM)
        return supervisor.watch()
    except BaseException:
        supervisor.stop_all()
        raise
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for pipe in supervisor.pipes:
            pipe.close()
