"""A round-robin HTTP proxy for the tests: each request goes to the next of several
upstream base URLs in turn (A, B, A, B, ...), so that a client talking to one address
talks to several mock processes, as users behind a load balancer do.

    with Alternate([mock_a.base_url, mock_b.base_url]) as proxy:
        run_contract_suite(proxy.base_url)

The method, path and query (raw, as sent), headers and body pass unchanged; so do the
status, headers and body of the answer (bytes as they came, compressed or not). Only the
hop-by-hop headers (Connection, Transfer-Encoding, ...) are the proxy's own. The client's
`Host` is kept by default, so that links the mock builds from it (`next`, `prev`) point
back at the proxy and the loopback Host check still passes; `rewrite_host=True` sends each
upstream its own host and port instead. `proxy.sent` counts the requests each upstream got.
"""

from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from mock_server.server import start_in_thread, stop_in_thread

__all__ = ["Alternate", "HOP_BY_HOP"]

# Headers about one connection, not the message (RFC 9110 7.6.1): never forwarded.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


class _Forward:
    """The ASGI app: read the request, send it to the next upstream, relay the answer."""

    def __init__(self, upstreams: Sequence[str], rewrite_host: bool) -> None:
        self.upstreams = [url.rstrip("/") for url in upstreams]
        self.rewrite_host = rewrite_host
        self.sent = [0] * len(self.upstreams)
        self._turn = itertools.cycle(range(len(self.upstreams)))
        self._lock = threading.Lock()
        self._client: httpx.AsyncClient | None = None

    def _next(self) -> int:
        with self._lock:
            index = next(self._turn)
            self.sent[index] += 1
            return index

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":  # no websockets here
            return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        index = self._next()
        target = self.upstreams[index]
        raw = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            raw += b"?" + scope["query_string"]
        url = httpx.URL(target).copy_with(raw_path=raw)
        headers = [
            (name, value)
            for name, value in scope["headers"]
            if name.decode("latin-1").lower() not in HOP_BY_HOP | {"content-length"}
            and not (self.rewrite_host and name.lower() == b"host")
        ]
        # Built directly, not with client.build_request, so the client adds no default
        # headers (Accept, Accept-Encoding, User-Agent) the caller did not send.
        request = httpx.Request(scope["method"], url, headers=headers, content=bytes(body))
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=60)
        try:
            response = await self._client.send(request, stream=True)
        except httpx.TransportError as exc:
            text = f"upstream {target} unreachable: {exc}".encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 502,
                    "headers": [(b"content-type", b"text/plain"), (b"x-alternate-error", b"1")],
                }
            )
            await send({"type": "http.response.body", "body": text})
            return
        try:
            content = b"".join([chunk async for chunk in response.aiter_raw()])
        finally:
            await response.aclose()
        out = [
            (name, value)
            for name, value in response.headers.raw
            if name.decode("latin-1").lower() not in HOP_BY_HOP | {"content-length"}
        ]
        if response.request.method != "HEAD" and response.status_code not in (204, 304):
            out.append((b"content-length", str(len(content)).encode()))
        elif "content-length" in response.headers:
            out.append((b"content-length", response.headers["content-length"].encode()))
        await send({"type": "http.response.start", "status": response.status_code, "headers": out})
        await send({"type": "http.response.body", "body": content})

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


class Alternate:
    """The proxy on a free loopback port, in a background thread, while in `with`."""

    def __init__(self, upstreams: Sequence[str], *, rewrite_host: bool = False) -> None:
        if not upstreams:
            raise ValueError("give at least one upstream base URL")
        self.app = _Forward(upstreams, rewrite_host)
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sent(self) -> list[int]:
        """How many requests each upstream got, in the order given."""
        return list(self.app.sent)

    def start(self, timeout: float = 10.0) -> Alternate:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self.app,
            http="h11",
            log_level="warning",
            access_log=False,
            lifespan="on",
            # The upstream's own Date and Server pass through; the proxy adds none.
            server_header=False,
            date_header=False,
            # Request heads of any size reach the upstream, whose limits are under test.
            h11_max_incomplete_event_size=1024 * 1024,
        )
        self._server, self._thread = start_in_thread(config, sock, timeout, "the proxy")
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            stop_in_thread(self._server, self._thread)
            self._server = None

    def __enter__(self) -> Alternate:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
