"""The request journal (M7) and the ASGI middleware that fills it and injects faults (M8).

The middleware sits outermost, around Starlette's own error middleware, so that it sees
every answer (500s included) and can drop the client's connection for real. The request
path stays cheap: it keeps references to what the server already built (the header
lists, the body chunks up to a limit) in one plain tuple and appends it to a bounded
deque; everything is decoded and rendered only when someone reads the journal.

Control-plane requests (`/__mock/...`) are not journaled: the journal shows the traffic
of the public API only, so reading it never changes what it shows.
"""

from __future__ import annotations

import collections
import fnmatch
import itertools
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import jwt
import orjson
from starlette.types import Message, Receive, Scope, Send

from mock_server.domain.timefmt import format_ms, parse_rfc3339
from mock_server.http.endpoint import created_downlink

if TYPE_CHECKING:
    from mock_server.mock import Mock

__all__ = [
    "Journal",
    "JournalEntry",
    "JournalFilter",
    "JournalMiddleware",
    "BODY_LIMIT",
    "CONTROL_PREFIX",
    "filter_from",
]

CONTROL_PREFIX = "/__mock/"
BODY_LIMIT = 8192  # bytes of each request and response body kept per entry

# Headers worth showing; the rest are noise for a reader of the journal.
_REQUEST_HEADERS = frozenset(
    {b"content-type", b"accept", b"authorization", b"user-agent", b"content-length"}
)
_RESPONSE_HEADERS = frozenset(
    {b"content-type", b"location", b"www-authenticate", b"allow", b"retry-after"}
)


class JournalEntry(NamedTuple):
    """One exchange as the middleware saw it: raw parts, rendered on read.

    The middleware appends a plain tuple of these fields (the cheapest thing to build);
    readers get this named view of it.
    """

    seq: int
    method: str
    path: str
    query: bytes
    request_headers: list[tuple[bytes, bytes]]
    request_body: list[bytes]
    request_size: int
    status: int | None  # None: no answer (a dropped connection)
    response_headers: list[tuple[bytes, bytes]]
    response_body: list[bytes]
    response_size: int
    at: int  # the mock's clock when the request came in (epoch ms)
    duration_ns: int
    fault: str | None  # the id of the fault applied
    downlink_id: str | None  # what a create made
    progression: str | None  # the progression that downlink got (S4)

    def to_json(self) -> dict[str, Any]:
        """The entry as `GET /__mock/requests` shows it."""
        request_headers = _pick_headers(self.request_headers, _REQUEST_HEADERS)
        client = None
        auth = request_headers.get("authorization")
        if auth is not None:
            client = _client_of(auth)
            request_headers["authorization"] = _redact(auth)
        request: dict[str, Any] = {"headers": request_headers, "client": client}
        _put_body(request, self.request_body, self.request_size)
        response: dict[str, Any] = {
            "headers": _pick_headers(self.response_headers, _RESPONSE_HEADERS)
        }
        _put_body(response, self.response_body, self.response_size)
        return {
            "seq": self.seq,
            "time": format_ms(self.at),
            "durationMs": round(self.duration_ns / 1e6, 3),
            "method": self.method,
            "path": self.path,
            "query": self.query.decode("latin-1"),
            "status": self.status,
            "request": request,
            "response": response,
            "downlinkId": self.downlink_id,
            "progression": self.progression,
            "fault": self.fault,
        }


def _pick_headers(raw: Iterable[tuple[bytes, bytes]], names: frozenset[bytes]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in raw:
        name = name.lower()
        if name in names:
            out[name.decode("latin-1")] = value.decode("latin-1")
    return out


def _redact(authorization: str) -> str:
    scheme = authorization.split(" ", 1)[0]
    return f"{scheme} <redacted>" if " " in authorization else "<redacted>"


def _client_of(authorization: str) -> str | None:
    """The client a Bearer JWT names (`client_id`, else `sub`), signature unchecked."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        claims = jwt.decode(token.strip(), options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    client = claims.get("client_id", claims.get("sub"))
    if not isinstance(client, str):
        return None
    try:
        client.encode("utf-8")  # a lone surrogate would break every later read of the journal
    except UnicodeEncodeError:
        return None
    return client


def _put_body(into: dict[str, Any], chunks: list[bytes], size: int) -> None:
    data = b"".join(chunks)[:BODY_LIMIT]
    truncated = size > BODY_LIMIT
    if not data:
        into["body"] = None
    elif not truncated:
        try:
            into["body"] = orjson.loads(data)
        except orjson.JSONDecodeError:
            into["body"] = data.decode("utf-8", "replace")
    else:
        into["body"] = data.decode("utf-8", "replace")
    if truncated:
        into["bodyTruncated"] = True
        into["bodySize"] = size


@dataclass(frozen=True)
class JournalFilter:
    """What `GET /__mock/requests` narrows by; every field None means everything."""

    methods: frozenset[str] | None = None
    path: str | None = None  # exact, or a glob when it holds * ? or [
    status: int | None = None
    status_class: int | None = None  # 4 for "4xx"
    since: int | None = None  # inclusive, epoch ms on the mock's clock
    before: int | None = None  # exclusive
    limit: int | None = None  # the newest `limit` of what matched

    def matcher(self) -> Callable[[JournalEntry], bool]:
        glob = None
        if self.path is not None and any(c in self.path for c in "*?["):
            glob = re.compile(fnmatch.translate(self.path)).match

        def match(entry: JournalEntry) -> bool:
            if self.methods is not None and entry.method not in self.methods:
                return False
            if self.path is not None:
                if glob is not None:
                    if glob(entry.path) is None:
                        return False
                elif entry.path != self.path:
                    return False
            if self.status is not None and entry.status != self.status:
                return False
            if self.status_class is not None and (
                entry.status is None or entry.status // 100 != self.status_class
            ):
                return False
            if self.since is not None and entry.at < self.since:
                return False
            return not (self.before is not None and entry.at >= self.before)

        return match


def filter_from(values: Mapping[str, Any]) -> JournalFilter:
    """The `readJournal` query parameters, already coerced and valid against the control
    plane's document, as a filter."""
    kwargs: dict[str, Any] = {}
    if "method" in values:
        kwargs["methods"] = frozenset(m.strip().upper() for m in values["method"].split(","))
    if "path" in values:
        kwargs["path"] = values["path"]
    if "status" in values:
        text = values["status"]
        if text[1:].lower() == "xx":
            kwargs["status_class"] = int(text[0])
        else:
            kwargs["status"] = int(text)
    for key in ("since", "before"):
        if key in values:
            kwargs[key] = parse_rfc3339(values[key])
    if "limit" in values:
        kwargs["limit"] = values["limit"]
    return JournalFilter(**kwargs)


class Journal:
    """A bounded ring of the latest exchanges, oldest first (M7).

    Appends take no lock: the server calls them from its one event-loop thread, and a
    deque append is atomic anyway. Readers copy the ring before they look.
    """

    def __init__(self, size: int = 1000) -> None:
        if size < 1:
            raise ValueError("the journal size must be at least 1")
        self.size = size
        self._entries: collections.deque[tuple[Any, ...]] = collections.deque(maxlen=size)
        self._seq = itertools.count(1)
        self._last = 0  # the last seq handed out
        self._cleared_at = 0  # the last seq before the last clear

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def evicted(self) -> int:
        """Entries pushed out of the ring since the last clear."""
        return self._last - self._cleared_at - len(self._entries)

    def append(self, fields: tuple[Any, ...]) -> None:
        """Append one exchange: the JournalEntry fields after `seq`."""
        seq = self._last = next(self._seq)
        self._entries.append((seq, *fields))

    def clear(self) -> None:
        self._entries.clear()
        self._cleared_at = self._last

    def entries(self, where: JournalFilter | None = None) -> list[JournalEntry]:
        """The entries that match, oldest first (the newest `limit` when a limit is set)."""
        entries = [JournalEntry._make(raw) for raw in list(self._entries)]
        if where is None:
            return entries
        match = where.matcher()
        found = [e for e in entries if match(e)]
        if where.limit is not None:
            found = found[-where.limit :]
        return found

    def to_json(self, where: JournalFilter | None = None) -> dict[str, Any]:
        return {
            "items": [entry.to_json() for entry in self.entries(where)],
            "capacity": self.size,
            "evicted": self.evicted,
        }


class JournalMiddleware:
    """Pure ASGI: journal every public request, and apply the first matching fault."""

    def __init__(self, app: Any, mock: Mock) -> None:
        self.app = app
        self.mock = mock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            # The control plane: neither journaled nor faulted.
            await self.app(scope, receive, send)
            return
        mock = self.mock
        at = mock.clock.now()
        started = time.perf_counter_ns()
        request_body: list[bytes] = []
        request_size = 0
        status: int | None = None
        response_headers: list[tuple[bytes, bytes]] = []
        response_body: list[bytes] = []
        response_size = 0
        fault_id: str | None = None

        async def receive_() -> Message:  # keeps the body, up to the limit
            nonlocal request_size
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                if request_size < BODY_LIMIT:
                    # A reference when it fits; a page of 1000 downlinks is cut, not kept.
                    request_body.append(chunk[: BODY_LIMIT - request_size])
                request_size += len(chunk)
            return message

        async def send_(message: Message) -> None:
            nonlocal status, response_headers, response_size
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = message.get("headers", response_headers)
            else:
                chunk = message.get("body", b"")
                if response_size < BODY_LIMIT:
                    response_body.append(chunk[: BODY_LIMIT - response_size])
                response_size += len(chunk)
            await send(message)

        created: tuple[str | None, str | None] = (None, None)
        try:
            faults = mock.faults
            if faults.active:
                fault = faults.pick(scope["method"], scope["path"], scope["query_string"])
                if fault is not None:
                    fault_id = fault.id
                    if await faults.inject(fault, scope, send_, send):
                        return
            await self.app(scope, receive_, send_)
            if status == 201:
                # The create handler hands over what it stored (a dry run stores nothing).
                dl = created_downlink(scope)
                if dl is not None:
                    created = (dl.id, dl.progression)
        finally:
            mock.journal.append(
                (
                    scope["method"],
                    scope["path"],
                    scope["query_string"],
                    scope["headers"],
                    request_body,
                    request_size,
                    status,
                    response_headers,
                    response_body,
                    response_size,
                    at,
                    time.perf_counter_ns() - started,
                    fault_id,
                    *created,
                )
            )
