"""Connections bounded in bytes and time: `GuardedHttpProtocol`, uvicorn's httptools
protocol with the limits uvicorn leaves out, and `ServerLimits`, their values (see
docs/security.md):

- the request line and headers of one request are at most `max_header_bytes`, else
  `431` problem+json and the connection closes (httptools has no limit of its own, and
  would buffer a 30 MB header);
- a connection that sends nothing for `idle_timeout` seconds, before its first request
  or between requests, is closed (uvicorn arms its keep-alive timer only after a
  response, so a connection that never sends a byte stayed open for ever);
- a request whose head has not fully arrived `header_timeout` seconds after its first
  byte is answered `408` and closed (slow-loris), and so is one whose body has not fully
  arrived `body_timeout` seconds after its head (the same, one stage later);
- at most `max_connections` connections are open: a new one past the limit closes the
  connection that has waited longest without a request in progress, so idle and slow
  clients cannot starve the others; when every connection is busy the new one gets
  `503` problem+json.

A client that disconnects in the middle of its request body is not an error of the
mock: `quiet_disconnects` drops it without a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.requests import ClientDisconnect
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["ServerLimits", "GuardedHttpProtocol", "quiet_disconnects"]

_log = logging.getLogger("downlinks_mock.server")


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """Bounds on what one client can make the server hold (docs/security.md).

    Each has a `downlinks-mock serve` flag of the same name.
    """

    max_header_bytes: int = 16 * 1024  # request line + headers of one request: else 431
    idle_timeout: float = 5.0  # seconds without a byte, before or between requests
    header_timeout: float = 10.0  # seconds from a request's first byte to its last header
    body_timeout: float = 30.0  # seconds from a request's last header to its last body byte
    max_connections: int = 1000  # open connections; past it the longest-idle one closes

    def __post_init__(self) -> None:
        if self.max_header_bytes < 1024:
            raise ValueError("max_header_bytes must be at least 1024")
        if min(self.idle_timeout, self.header_timeout, self.body_timeout) <= 0:
            raise ValueError("timeouts must be positive")
        if self.max_connections < 1:
            raise ValueError("max_connections must be at least 1")


def _problem(status: int, reason: str, kind: str, title: str, detail: str) -> bytes:
    """A complete HTTP/1.1 problem+json answer that closes the connection (E1 shape)."""
    body = json.dumps(
        {"type": f"/problems/{kind}", "title": title, "status": status, "detail": detail}
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "content-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header size limit, idle and header-read
    timeouts and a connection limit. The limits come from `config.guard_limits`."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.limits: ServerLimits = getattr(config, "guard_limits", ServerLimits())
        self.head_bytes = 0  # bytes of the current request's URL and headers, as parsed
        self.head_fed = 0  # bytes fed to the parser while the current head was unfinished
        self.in_head = False  # between a request's first byte and its last header
        self.refused = False  # answered by the guard: ignore whatever else arrives
        self.idle_since = time.monotonic()  # when it last had no request in progress
        self.header_timer: asyncio.TimerHandle | None = None
        self.body_timer: asyncio.TimerHandle | None = None

    # -- connections ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections and not self._evict_one():
            self._refuse(
                _problem(
                    503,
                    "Service Unavailable",
                    "too-many-connections",
                    "Too many connections",
                    f"every one of the {self.limits.max_connections} connections the "
                    "server allows is busy; retry shortly (serve --max-connections)",
                )
            )
            return
        # uvicorn arms its keep-alive timer only after a response: arm it now too.
        self.timeout_keep_alive_task = self.loop.call_later(
            self.limits.idle_timeout, self.timeout_keep_alive_handler
        )

    def _evict_one(self) -> bool:
        """Close the connection idle (or slow in its head) the longest; False if none."""
        candidates = [
            c
            for c in self.connections
            if c is not self
            and isinstance(c, GuardedHttpProtocol)
            and not c.refused
            and (c.cycle is None or c.cycle.response_complete)
        ]
        if not candidates:
            return False
        oldest = min(candidates, key=lambda c: c.idle_since)
        oldest.refused = True
        oldest.connections.discard(oldest)
        oldest.transport.close()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        self._cancel_body_timer()
        super().connection_lost(exc)

    def _refuse(self, answer: bytes) -> None:
        self.refused = True
        self.in_head = False
        self._cancel_header_timer()
        self._cancel_body_timer()
        self._unset_keepalive_if_required()
        self.connections.discard(self)
        if not self.transport.is_closing():
            self.transport.write(answer)
            self.transport.close()

    # -- bytes ---------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return
        super().data_received(data)
        # httptools buffers a header until it ends: bound what it may hold, too.
        if self.in_head and not self.refused:
            self.head_fed += len(data)
            self._check_head()

    def send_400_response(self, msg: str) -> None:
        if not self.refused:  # a guard's answer went out already
            super().send_400_response(msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.in_head = True
        self.head_bytes = self.head_fed = 0
        self.header_timer = self.loop.call_later(self.limits.header_timeout, self._header_timeout)

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        self.head_bytes += len(url)
        self._check_head()

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.refused:
            return
        super().on_header(name, value)
        self.head_bytes += len(name) + len(value) + 4
        self._check_head()

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        self.in_head = False
        if self.refused:
            return
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.more_body:
            self.body_timer = self.loop.call_later(self.limits.body_timeout, self._body_timeout)

    def on_body(self, body: bytes) -> None:
        if not self.refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._cancel_body_timer()
        if not self.refused:
            super().on_message_complete()

    def on_response_complete(self) -> None:
        self.idle_since = time.monotonic()
        super().on_response_complete()

    def _check_head(self) -> None:
        limit = self.limits.max_header_bytes
        if max(self.head_bytes, self.head_fed) > limit and not self.refused:
            self._refuse(
                _problem(
                    431,
                    "Request Header Fields Too Large",
                    "request-header-fields-too-large",
                    "Request header fields too large",
                    f"the request line and headers exceed {limit} bytes; send smaller "
                    "headers (the limit is serve --max-header-bytes)",
                )
            )

    # -- time ----------------------------------------------------------------------

    def _header_timeout(self) -> None:
        self.header_timer = None
        if self.in_head and not self.refused:
            self._refuse(
                _problem(
                    408,
                    "Request Timeout",
                    "request-timeout",
                    "Request timeout",
                    f"the request's headers did not arrive within "
                    f"{self.limits.header_timeout:g} s (serve --header-timeout)",
                )
            )

    def _body_timeout(self) -> None:
        self.body_timer = None
        cycle = self.cycle
        if self.refused or cycle is None or not cycle.more_body:
            return
        answer = b""
        if not cycle.response_started:
            answer = _problem(
                408,
                "Request Timeout",
                "request-timeout",
                "Request timeout",
                f"the request's body did not arrive within {self.limits.body_timeout:g} s "
                "of its headers (serve --body-timeout)",
            )
        # The app waiting for the body sees the client gone, and sends nothing more.
        cycle.disconnected = True
        cycle.message_event.set()
        self._refuse(answer)

    def _cancel_body_timer(self) -> None:
        if self.body_timer is not None:
            self.body_timer.cancel()
            self.body_timer = None

    def _cancel_header_timer(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None


def quiet_disconnects(app: Any) -> Any:
    """Wrap an ASGI app so that a client gone mid-request ends the request quietly
    (no traceback: the client left, the mock did nothing wrong)."""

    async def guarded(scope: Any, receive: Any, send: Any) -> None:
        try:
            await app(scope, receive, send)
        except ClientDisconnect:
            _log.debug("client disconnected during %s %s", scope.get("method"), scope.get("path"))

    return guarded
