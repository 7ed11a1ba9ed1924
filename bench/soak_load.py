"""The soak's clients: well-behaved ones that count what is answered in time, and hostile
ones that try to hold the server (bench/soak.py runs them).

Every loop here stops at its phase's deadline and after a bounded count, every wait has a
timeout, and every connection goes to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import orjson

from bench.dataset import create_body, make_devices
from mock_server.domain.timefmt import format_ms

__all__ = [
    "HOST",
    "Caps",
    "KindStats",
    "Seen",
    "well_behaved",
    "http_once",
    "WELL_KINDS",
    "WEIGHTS",
]

HOST = "127.0.0.1"
WELL_KINDS = (
    "get one",
    "first page",
    "q (one device)",
    "time range",
    "time range by modifiedAt",
    "sorted page",
    "next page",
    "create",
    "cancel",
)
LATE_CAP = 120.0  # seconds a well-behaved client waits for a late answer

WEIGHTS = (30, 10, 10, 7, 3, 10, 10, 12, 8)
"""How often each kind is picked, relative to the others."""
_DAY = 24 * 3_600_000


@dataclass(frozen=True)
class Caps:
    """The server's limits the soak starts it with (its `serve` flags)."""

    max_header_bytes: int
    idle_timeout: float
    header_timeout: float
    body_timeout: float
    max_connections: int
    max_body_bytes: int
    journal_size: int

    def flags(self) -> list[str]:
        return [
            f"--max-header-bytes={self.max_header_bytes}",
            f"--idle-timeout={self.idle_timeout:g}",
            f"--header-timeout={self.header_timeout:g}",
            f"--body-timeout={self.body_timeout:g}",
            f"--max-connections={self.max_connections}",
            f"--max-body-bytes={self.max_body_bytes}",
            f"--journal-size={self.journal_size}",
        ]


@dataclass
class KindStats:
    """What one kind of request got in one phase."""

    latencies_ms: list[float] = field(default_factory=list)  # of every answer, late or not
    in_time: int = 0  # answers within the deadline
    unanswered: int = 0  # no answer at all (within LATE_CAP), or the connection failed
    statuses: Counter[str] = field(default_factory=Counter)
    retries: int = 0  # a kept-alive connection found closed, retried on a new one

    @property
    def sent(self) -> int:
        return len(self.latencies_ms) + self.unanswered

    @property
    def late(self) -> int:
        """Requests not answered within the deadline."""
        return self.sent - self.in_time

    def pct(self, p: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


@dataclass
class Seen:
    """Downlinks the clients saw in answers (their JSON is cached by the store), and the
    largest body answered (a page the page cache may hold)."""

    ids: set[str] = field(default_factory=set)
    created: list[str] = field(default_factory=list)
    largest_body: int = 0


# -- one HTTP/1.1 exchange ------------------------------------------------------------


def _request(port: int, method: str, target: str, token: str, body: bytes = b"") -> bytes:
    lines = [
        f"{method} {target} HTTP/1.1",
        f"Host: {HOST}:{port}",
        f"Authorization: Bearer {token}",
    ]
    if method in ("POST", "PUT") or body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, server closes) of one answer."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, chunked, closes = None, False, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            closes = True
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            parts.append(chunk[:-2])
        return status, b"".join(parts), closes
    return status, (await reader.readexactly(length) if length else b""), closes


class _Connection:
    """One keep-alive connection, reopened when the server has closed it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def exchange(self, raw: bytes, stats: KindStats) -> tuple[int, bytes]:
        for attempt in (1, 2):
            fresh = self.writer is None
            if fresh:
                self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
            assert self.reader is not None and self.writer is not None
            try:
                self.writer.write(raw)
                status, body, closes = await _read_answer(self.reader)
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if fresh or attempt == 2:
                    raise
                stats.retries += 1  # closed while idle (idle timeout, eviction): retry
                continue
            if closes:
                self.close()
            return status, body
        raise ConnectionError("unreachable")


async def http_once(
    port: int, method: str, target: str, token: str, timeout: float = 10.0
) -> tuple[int, bytes]:
    """One request on a connection of its own."""
    conn = _Connection(port)
    try:
        return await asyncio.wait_for(
            conn.exchange(_request(port, method, target, token), KindStats()), timeout
        )
    finally:
        conn.close()


# -- well-behaved clients -------------------------------------------------------------


class _Plan:
    """Picks each well-behaved request: kinds by weight, varied filters and sorts."""

    def __init__(
        self,
        port: int,
        token: str,
        end_ms: int,
        ids: list[str],
        seed: int,
        weights: tuple[int, ...] = WEIGHTS,
    ) -> None:
        self.weights = weights
        self.port, self.token, self.end_ms = port, token, end_ms
        self.rng = random.Random(seed)
        self.ids = ids
        self.devices = make_devices()
        self.bodies = [create_body(d) for d in self.devices]
        self.cursors: list[str] = []  # `next` links seen, followed by "next page"
        self.cancellable: list[str] = []  # created by the soak, cancelled once each

    def pick(self) -> tuple[str, bytes]:
        rng = self.rng
        kind = rng.choices(WELL_KINDS, weights=self.weights)[0]
        method, target, body = "GET", "/downlinks", b""
        if kind == "get one" and self.ids:
            target = f"/downlinks/{rng.choice(self.ids)}"
        elif kind == "q (one device)":
            target = f"/downlinks?q={quote(rng.choice(self.devices).network_id)}&limit=20"
        elif kind.startswith("time range"):
            since = self.end_ms - rng.randrange(1, 29) * _DAY
            sorts = (
                ["-modifiedAt", "modifiedAt"]
                if "modifiedAt" in kind
                else ["createdAt", "-createdAt"]
            )
            target = (
                f"/downlinks?createdSince={quote(format_ms(since))}"
                f"&createdBefore={quote(format_ms(since + 2 * _DAY))}"
                f"&sort={rng.choice(sorts)}"
            )
        elif kind == "sorted page":
            sort = rng.choice(["-createdAt", "modifiedAt", "-modifiedAt", "createdAt"])
            target = f"/downlinks?sort={sort}&limit={rng.choice([10, 50, 100])}"
        elif kind == "next page" and self.cursors:
            target = self.cursors.pop(rng.randrange(len(self.cursors)))
        elif kind == "create":
            method, body = "POST", rng.choice(self.bodies)
        elif kind == "cancel" and self.cancellable:
            method = "DELETE"
            target = f"/downlinks/{self.cancellable.pop()}"
        else:
            kind = "first page"
        return kind, _request(self.port, method, target, self.token, body)

    def learn(self, kind: str, status: int, body: bytes, seen: Seen) -> None:
        seen.largest_body = max(seen.largest_body, len(body))
        if status >= 300 or not body:
            return
        data = orjson.loads(body)
        if "items" in data:
            seen.ids.update(item["id"] for item in data["items"])
            link = data.get("next")
            if link and len(self.cursors) < 200:
                parts = urlsplit(link)
                self.cursors.append(f"{parts.path}?{parts.query}")
        elif "id" in data:
            seen.ids.add(data["id"])
            if kind == "create":
                seen.created.append(data["id"])
                self.cancellable.append(data["id"])
                if len(self.cancellable) > 1000:
                    del self.cancellable[0]


async def well_behaved(
    port: int,
    token: str,
    end_ms: int,
    ids: list[str],
    *,
    clients: int,
    seconds: float,
    deadline_s: float,
    think_s: float,
    max_requests: int,
    stats: dict[str, KindStats],
    seen: Seen,
    seed: int = 1,
    without: Collection[str] = (),
) -> None:
    """`clients` keep-alive clients, each one request at a time with `think_s` between,
    for `seconds` (and at most `max_requests` in all); an answer later than `deadline_s`
    counts as not answered in time."""
    stop = time.monotonic() + seconds
    budget = [max_requests]

    async def client(n: int) -> None:
        pairs = zip(WELL_KINDS, WEIGHTS, strict=True)
        weights = tuple(0 if k in without else w for k, w in pairs)
        plan = _Plan(port, token, end_ms, ids, seed * 1000 + n, weights)
        conn = _Connection(port)
        try:
            while time.monotonic() < stop and budget[0] > 0:
                budget[0] -= 1
                kind, raw = plan.pick()
                kind_stats = stats.setdefault(kind, KindStats())
                began = time.perf_counter()
                try:
                    # A late answer is still waited for (up to LATE_CAP), so that each
                    # client has at most one request in the mock at a time.
                    status, body = await asyncio.wait_for(conn.exchange(raw, kind_stats), LATE_CAP)
                except (
                    asyncio.TimeoutError,
                    OSError,
                    asyncio.IncompleteReadError,
                    ValueError,
                ) as exc:
                    conn.close()
                    kind_stats.unanswered += 1
                    kind_stats.statuses[type(exc).__name__] += 1
                else:
                    took = time.perf_counter() - began
                    kind_stats.latencies_ms.append(took * 1000)
                    kind_stats.in_time += took <= deadline_s
                    kind_stats.statuses[str(status)] += 1
                    plan.learn(kind, status, body, seen)
                await asyncio.sleep(think_s)
        finally:
            conn.close()

    await asyncio.gather(*(client(n) for n in range(clients)))
