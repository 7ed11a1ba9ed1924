"""The request journal (M7) and the ASGI middleware that fills it and injects faults (M8).

The middleware sits outermost, around Starlette's own error middleware, so that it sees
every answer (500s included) and can drop the client's connection for real. The request
path stays cheap: it keeps the few headers worth showing and the body chunks, each cut to
the entry's byte budget, in one plain tuple and appends it to a ring bounded by a count
and by bytes; everything is decoded and rendered only when someone reads the journal, in
a way that cannot fail (`journal_render`).

Control-plane requests (`/__mock/...`) are not journaled: the journal shows the traffic
of the public API only, so reading it never changes what it shows.

A journal of size 0 is off (`MockConfig(journal_size=0)`): it keeps nothing, reads as
empty with a capacity of 0, and the middleware passes requests straight through (faults,
M8, are still applied when any are armed).
"""

from __future__ import annotations

import collections
import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from starlette.types import Message, Receive, Scope, Send

from mock_server.control.journal_render import (
    TRUNCATED,
    clean_text,
    client_of,
    keep_headers,
    redact,
    render_body,
    render_headers,
)
from mock_server.domain.timefmt import format_ms, parse_rfc3339
from mock_server.http.endpoint import SYNCED, created_downlink
from mock_server.http.problems import StoreUnavailable
from mock_server.timeline.scenario_patterns import PatternKind, TextPattern, compile_pattern

if TYPE_CHECKING:
    from mock_server.mock import Mock

__all__ = [
    "Journal",
    "JournalEntry",
    "JournalFilter",
    "JournalMiddleware",
    "BODY_LIMIT",
    "ENTRY_BYTES",
    "TOTAL_BYTES",
    "CONTROL_PREFIX",
    "filter_from",
]

CONTROL_PREFIX = "/__mock/"
ENTRY_BYTES = 8192
"""Default: bytes kept of each request and response body, and of each one's headers."""
BODY_LIMIT = ENTRY_BYTES  # the name older code imports
TOTAL_BYTES = 16 * 1024 * 1024
"""Default: bytes the whole journal keeps; the oldest entries go first past it."""
# What an entry costs besides what it keeps of headers, bodies, path and query.
_ENTRY_OVERHEAD = 512

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
    request_headers_cut: bool  # some request header was cut to the budget
    response_headers_cut: bool
    limit: int  # the entry's byte budget of each body
    cost: int  # bytes the entry holds, counted against the journal's total

    def to_json(self) -> dict[str, Any]:
        """The entry as `GET /__mock/requests` shows it (always valid JSON: lone
        surrogates escaped, deep bodies as text)."""
        request_headers = render_headers(self.request_headers)
        client = None
        auth = request_headers.get("authorization")
        if auth is not None:
            client = client_of(auth)
            request_headers["authorization"] = redact(auth)
        request: dict[str, Any] = {"headers": request_headers, "client": client}
        if self.request_headers_cut:
            request["headersTruncated"] = True
        render_body(request, self.request_body, self.request_size, self.limit)
        response: dict[str, Any] = {"headers": render_headers(self.response_headers)}
        if self.response_headers_cut:
            response["headersTruncated"] = True
        render_body(response, self.response_body, self.response_size, self.limit)
        return {
            "seq": self.seq,
            "time": format_ms(self.at),
            "durationMs": round(self.duration_ns / 1e6, 3),
            "method": clean_text(self.method),
            "path": clean_text(self.path),
            "query": self.query.decode("latin-1"),
            "status": self.status,
            "request": request,
            "response": response,
            "downlinkId": self.downlink_id,
            "progression": self.progression,
            "fault": self.fault,
        }


@dataclass(frozen=True)
class JournalFilter:
    """What `GET /__mock/requests` narrows by; every field None means everything."""

    methods: frozenset[str] | None = None
    path: str | None = None  # exact, or a glob when it holds * ? or [
    glob: TextPattern | None = None  # `path` compiled, when it is a glob (RE2: linear time)
    status: int | None = None
    status_class: int | None = None  # 4 for "4xx"
    since: int | None = None  # inclusive, epoch ms on the mock's clock
    before: int | None = None  # exclusive
    limit: int | None = None  # the newest `limit` of what matched

    def matcher(self) -> Callable[[JournalEntry], bool]:
        glob = self.glob

        def match(entry: JournalEntry) -> bool:
            if self.methods is not None and entry.method not in self.methods:
                return False
            if self.path is not None:
                if glob is not None:
                    if not glob.matches(entry.path):
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
    plane's document, as a filter. A glob RE2 cannot take raises `PatternError`."""
    kwargs: dict[str, Any] = {}
    if "method" in values:
        kwargs["methods"] = frozenset(m.strip().upper() for m in values["method"].split(","))
    if "path" in values:
        kwargs["path"] = path = values["path"]
        if any(c in path for c in "*?["):
            kwargs["glob"] = compile_pattern(PatternKind.GLOB, path)
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
    """A bounded ring of the latest exchanges, oldest first (M7): at most `size` entries
    and `total_bytes` bytes; each entry keeps at most `entry_bytes` of each body and of
    each message's headers.

    Appends take no lock: the server calls them from its one event-loop thread, and deque
    appends and pops are atomic anyway. Readers copy the ring before they look.

    `size` 0 means off: `append` keeps nothing and `entries` is always empty.
    """

    def __init__(
        self, size: int = 1000, *, entry_bytes: int = ENTRY_BYTES, total_bytes: int = TOTAL_BYTES
    ) -> None:
        if size < 0:
            raise ValueError("the journal size must be at least 0 (0: off)")
        if entry_bytes < 256:
            raise ValueError("the journal's entry budget must be at least 256 bytes")
        if total_bytes < entry_bytes:
            raise ValueError("the journal's byte budget must be at least its entry budget")
        self.size = size
        self.entry_bytes = entry_bytes
        self.total_bytes = total_bytes
        self._entries: collections.deque[tuple[Any, ...]] = collections.deque()
        self._bytes = 0  # what the entries kept cost, together
        self._seq = itertools.count(1)
        self._last = 0  # the last seq handed out
        self._cleared_at = 0  # the last seq before the last clear

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def evicted(self) -> int:
        """Entries pushed out of the ring since the last clear."""
        return self._last - self._cleared_at - len(self._entries)

    @property
    def seq(self) -> int:
        """The seq of the last entry ever appended (0: none yet); a clear keeps it."""
        return self._last

    @property
    def bytes(self) -> int:
        """What the kept entries cost, together (at most `total_bytes`, or one entry's)."""
        return self._bytes

    def append(self, fields: tuple[Any, ...]) -> None:
        """Append one exchange: the JournalEntry fields after `seq`, its cost last. The
        oldest entries go while the ring is over its count or its bytes."""
        if not self.size:  # off
            return
        seq = self._last = next(self._seq)
        entries = self._entries
        entries.append((seq, *fields))
        self._bytes += fields[-1]
        while len(entries) > self.size or (self._bytes > self.total_bytes and len(entries) > 1):
            self._bytes -= entries.popleft()[-1]

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0
        self._cleared_at = self._last

    def load(
        self, entries: list[tuple[Any, ...]], seq: int, total_bytes: int, cleared_at: int
    ) -> None:
        """Hold `entries` (stored tuples, seq first, oldest first) instead of this
        process's own: the shared journal's, read back (mock_server/store/redis/journal.py),
        with its last seq, its bytes and the seq it had reached when last cleared."""
        self._entries = collections.deque(entries)
        self._bytes = total_bytes
        self._last = seq
        self._cleared_at = cleared_at

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
            "capacityBytes": self.total_bytes,
            "bytes": self.bytes,
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
        journal = mock.journal
        if not journal.size and not mock.faults.active and not mock.state.shared:
            # The journal is off and no fault is armed: nothing to keep or to apply (with
            # a shared store, another process may have armed one: the sync below tells).
            await self.app(scope, receive, send)
            return
        limit = journal.entry_bytes
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
                if request_size < limit:
                    # A reference when it fits; a page of 1000 downlinks is cut, not kept.
                    request_body.append(chunk[: limit - request_size])
                request_size += len(chunk)
            return message

        recorded = False
        # With a shared store the entry is written before the answer's last byte leaves,
        # so a client that reads the journal from another process next finds it there.
        early = mock.state.shared

        async def send_(message: Message) -> None:
            nonlocal status, response_headers, response_size
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = message.get("headers", response_headers)
            else:
                chunk = message.get("body", b"")
                if response_size < limit:
                    response_body.append(chunk[: limit - response_size])
                response_size += len(chunk)
                if early and not message.get("more_body", False):
                    await record()
            await send(message)

        async def record() -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            created: tuple[str | None, str | None] = (None, None)
            if status == 201:
                # The create handler hands over what it stored (a dry run stores nothing).
                dl = created_downlink(scope)
                if dl is not None:
                    created = (dl.id, dl.progression)
            path, query = scope["path"], scope["query_string"]
            if len(query) > limit:
                query = query[: limit - len(TRUNCATED)] + TRUNCATED
            asked, asked_bytes, asked_cut = keep_headers(scope["headers"], _REQUEST_HEADERS, limit)
            told, told_bytes, told_cut = keep_headers(response_headers, _RESPONSE_HEADERS, limit)
            cost = (
                _ENTRY_OVERHEAD
                + len(path)
                + len(query)
                + asked_bytes
                + told_bytes
                + min(request_size, limit)
                + min(response_size, limit)
            )
            await mock.state.record(
                (
                    scope["method"],
                    path,
                    query,
                    asked,
                    request_body,
                    request_size,
                    status,
                    told,
                    response_body,
                    response_size,
                    at,
                    time.perf_counter_ns() - started,
                    fault_id,
                    *created,
                    asked_cut,
                    told_cut,
                    limit,
                    cost,
                )
            )

        try:
            if early:
                # The faults other processes armed, and the state the handler reads.
                try:
                    await mock.state.sync()
                except StoreUnavailable as exc:
                    await exc.to_response(scope["path"])(scope, receive_, send_)
                    return
                scope.setdefault("state", {})[SYNCED] = True
            faults = mock.faults
            if faults.active:
                fault = faults.pick(scope["method"], scope["path"], scope["query_string"])
                if fault is not None and await mock.state.claim_fault(fault):
                    fault_id = fault.id
                    if await faults.inject(fault, scope, send_, send):
                        return
            await self.app(scope, receive_, send_)
        finally:
            await record()
