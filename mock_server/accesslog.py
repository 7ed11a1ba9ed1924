"""A cheap access log: one line per request, written in batches off the request path.

uvicorn's own access log formats a `logging.LogRecord` and writes and flushes its stream
once per request, on the event loop: at a few thousand requests a second that alone takes
about a third of the mock's throughput. `AccessLog` wraps the ASGI app instead: a request
costs one tuple appended to a list; a daemon thread wakes every `interval` seconds, takes
the list, formats it and writes it in one call. At a rate a person can read, every request
gets its line, in uvicorn's shape plus the time taken:

    INFO:     127.0.0.1:50344 - "GET /downlinks?limit=5 HTTP/1.1" 200 0.8ms

Past `max_lines` requests in one interval (under load), the first `max_lines` are written
and the rest summarised in one line, so that the log can never become the bottleneck:

    INFO:     access log: 4,873 more requests in 0.50 s (200: 4,380, 201: 493), p50 3.9ms p99 9.1ms

`downlinks-mock serve` writes this log by default (`--access-log`), to stdout like
uvicorn's, only at log level info or debug (as uvicorn's); `--no-access-log` turns it off
and uvicorn's per-request log is never used.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TextIO

__all__ = ["AccessLog"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# One request as recorded on the request path: formatting waits for the writer thread.
# (client, method, path, query, http_version, status, seconds)
_Entry = tuple[Any, str, "str | bytes", bytes, str, int, float]


class AccessLog:
    """ASGI middleware that logs each HTTP request in batches from a writer thread.

    `stream` is where lines go (stdout by default); `interval` how often the writer wakes;
    `max_lines` how many request lines one interval may write before the rest of that
    interval is summarised. `close()` writes what is left (also called at lifespan
    shutdown and when the process exits normally).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        stream: TextIO | None = None,
        interval: float = 0.5,
        max_lines: int = 100,
        prefix: str = "INFO:     ",
    ) -> None:
        self.app = app
        self.stream = stream
        self.interval = interval
        self.max_lines = max_lines
        self.prefix = prefix
        self._entries: list[_Entry] = []
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
        self._thread.start()
        import atexit

        atexit.register(self.close)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.app(scope, receive, self._lifespan_send(send))
            else:
                await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def logged_send(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
            elif kind == "http.response.body" and not message.get("more_body", False):
                # The list is swapped by the writer thread; appending to whichever list is
                # current is atomic under the GIL, so no lock is taken here.
                self._entries.append(
                    (
                        scope.get("client"),
                        scope["method"],
                        scope.get("raw_path") or scope["path"],
                        scope.get("query_string", b""),
                        scope.get("http_version", "1.1"),
                        status,
                        time.perf_counter() - started,
                    )
                )
            await send(message)

        await self.app(scope, receive, logged_send)

    def _lifespan_send(self, send: Send) -> Send:
        async def lifespan_send(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                self.close()
            await send(message)

        return lifespan_send

    # -- the writer thread ------------------------------------------------------------

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.interval)
            self.flush()

    def flush(self) -> None:
        """Write every request recorded so far (or summarise past `max_lines`)."""
        entries, self._entries = self._entries, []
        if not entries:
            return
        stream = self.stream or sys.stdout
        lines = [self._line(e) for e in entries[: self.max_lines]]
        rest = entries[self.max_lines :]
        if rest:
            lines.append(self._summary(rest))
        try:
            stream.write("".join(lines))
            stream.flush()
        except (OSError, ValueError):  # a closed or broken stream must not stop the mock
            pass

    def close(self) -> None:
        """Stop the writer and write what is left; safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)
        self.flush()

    def _line(self, entry: _Entry) -> str:
        client, method, path, query, version, status, seconds = entry
        where = f"{client[0]}:{client[1]}" if client else "-"
        target = path.decode("latin-1") if isinstance(path, bytes) else path
        if query:
            target += "?" + query.decode("latin-1")
        return (
            f'{self.prefix}{where} - "{method} {target} HTTP/{version}" {status} '
            f"{seconds * 1000:.1f}ms\n"
        )

    def _summary(self, entries: list[_Entry]) -> str:
        statuses = Counter(e[5] for e in entries)
        took = sorted(e[6] for e in entries)
        p50 = took[len(took) // 2] * 1000
        p99 = took[min(len(took) - 1, int(len(took) * 0.99))] * 1000
        counts = ", ".join(f"{s}: {n:,}" for s, n in sorted(statuses.items()))
        return (
            f"{self.prefix}access log: {len(entries):,} more requests in "
            f"{self.interval:.2f} s ({counts}), p50 {p50:.1f}ms p99 {p99:.1f}ms\n"
        )
