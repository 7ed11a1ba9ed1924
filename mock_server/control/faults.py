"""Fault injection (M8): latency, an error status, or a dropped connection, on matching
requests, for a number of requests or with a seeded probability.

A fault body is checked against the `Fault` schema of the control plane's OpenAPI
document (bounds, types, header tokens) before `parse_fault` applies the rules across
fields. A fault is checked before the request reaches the mock, so an injected error or drop
changes no state (a create that gets an injected 503 stores nothing). Faults never apply
to the control plane: the journal middleware does not ask for `/__mock` paths at all.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

import httpx
import orjson
from starlette.types import Message, Scope, Send

from mock_server.http.problems import PROBLEM_MEDIA_TYPE, BadRequest, NotFound, Violation
from mock_server.timeline.scenario_patterns import (
    PatternError,
    PatternKind,
    TextPattern,
    compile_pattern,
)

__all__ = ["Fault", "Faults", "parse_fault"]


@dataclass
class Fault:
    """One injected fault: what it matches, what it does, and how often."""

    id: str
    method: str | None  # None: any method
    path: str  # a glob over the request path
    query: dict[str, str]  # each pair must be among the request's query parameters
    latency: tuple[int, int] | None  # (min, max) ms; equal for a fixed latency
    status: int | None  # answer with this error status (problem+json)
    problem: dict[str, str]  # type/title/detail overrides of the problem body
    headers: dict[str, str]  # extra response headers of the error (Retry-After, ...)
    drop: bool  # close the connection without an answer
    times: int | None  # stop after this many applications; None: no limit
    probability: float | None  # apply to a matching request with this chance
    seed: int | None  # seeds the draws (probability and random latency)
    applied: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _path: TextPattern | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        # RE2: matching is linear in the path, whatever glob was armed.
        self._path = compile_pattern(PatternKind.GLOB, self.path)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.applied >= self.times

    def matches(self, method: str, path: str, query: bytes) -> bool:
        if self.exhausted or (self.method is not None and method != self.method):
            return False
        if self._path is None or not self._path.matches(path):
            return False
        if self.query:
            pairs = set(parse_qsl(query.decode("latin-1"), keep_blank_values=True))
            if not all(item in pairs for item in self.query.items()):
                return False
        return True

    def draw(self) -> bool:
        """Whether this matching request gets the fault (the seeded probability)."""
        return self.probability is None or self._rng.random() < self.probability

    def delay_ms(self) -> int:
        assert self.latency is not None
        low, high = self.latency
        return low if low == high else self._rng.randint(low, high)

    def to_json(self) -> dict[str, Any]:
        latency: Any = None
        if self.latency is not None:
            low, high = self.latency
            latency = low if low == high else {"min": low, "max": high}
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "latencyMs": latency,
            "status": self.status,
            **self.problem,
            "headers": self.headers,
            "drop": self.drop,
            "times": self.times,
            "probability": self.probability,
            "seed": self.seed,
            "applied": self.applied,
            "remaining": None if self.times is None else self.times - self.applied,
        }


# Headers the server writes itself: a fault that set them would break the answer's framing.
_RESERVED_HEADERS = frozenset({"content-length", "content-type", "transfer-encoding", "connection"})


def _integer(value: Any) -> int | None:
    return None if value is None else int(value)


def parse_fault(body: Mapping[str, Any]) -> Fault:
    """A `POST /__mock/faults` body, valid against the control plane's `Fault` schema, as a
    Fault (its id is set when it is added). The rules across fields are checked here, every
    broken one named at once (400, E2)."""
    errors: list[Violation] = []
    path = body.get("path", "/*")
    if path.startswith("/__mock"):
        # A broader glob ("/*") is fine: the control plane is skipped before matching.
        errors.append(
            {"pointer": "#/path", "detail": "faults never apply to the /__mock control plane"}
        )
    else:
        try:
            compile_pattern(PatternKind.GLOB, path)
        except PatternError as exc:
            errors.append({"pointer": "#/path", "detail": f"not a glob the mock can match: {exc}"})
    # Integers may arrive as 3.0, which JSON Schema counts as an integer.
    latency = body.get("latencyMs")
    bounds: tuple[int, int] | None = None
    if isinstance(latency, dict):
        bounds = (int(latency["min"]), int(latency["max"]))
        if bounds[0] > bounds[1]:
            errors.append(
                {"pointer": "#/latencyMs", "detail": f"min {bounds[0]} exceeds max {bounds[1]}"}
            )
    elif latency is not None:
        bounds = (int(latency), int(latency))
    has_status = "status" in body
    for key in ("type", "title", "detail", "headers"):
        if key in body and not has_status:
            errors.append({"pointer": f"#/{key}", "detail": f"{key} goes only with a status"})
    headers: dict[str, str] = dict(body.get("headers", {}))
    for name in headers:
        if name.lower() in _RESERVED_HEADERS:
            errors.append(
                {
                    "pointer": f"#/headers/{name}",
                    "detail": f"{name} is written by the mock itself; it cannot be injected",
                }
            )
    drop = body.get("drop", False)
    if drop and has_status:
        errors.append(
            {"pointer": "#/drop", "detail": "a dropped connection has no status: give one"}
        )
    if latency is None and not has_status and not drop:
        errors.append(
            {
                "pointer": "#",
                "detail": "say what to inject: latencyMs, status, or drop (latency may "
                "go with either of the others)",
            }
        )
    if errors:
        raise BadRequest(f"the fault is invalid ({len(errors)} problem(s))", errors=errors)
    probability = body.get("probability")
    seed = _integer(body.get("seed"))
    if seed is None and (probability is not None or (bounds and bounds[0] != bounds[1])):
        # Draws happen: choose a seed and show it, so that the run can be repeated.
        seed = random.SystemRandom().randrange(2**31)
    return Fault(
        id="",
        method=body.get("method"),
        path=path,
        query=dict(body.get("query", {})),
        latency=bounds,
        status=_integer(body.get("status")),
        problem={key: body[key] for key in ("type", "title", "detail") if key in body},
        headers=headers,
        drop=drop,
        times=_integer(body.get("times")),
        probability=None if probability is None else float(probability),
        seed=seed,
    )


class Faults:
    """The faults in force, first added first matched."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.active = False  # any fault that can still apply: the request path's one check
        # Requests waiting out a latency, by fault id: a clear or a removal releases them.
        self._waiting: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]] = {}
        # How latency is waited out; tests may swap it to observe delays without waiting.
        self.sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep

    @property
    def waiting(self) -> int:
        """How many requests are waiting out a latency fault now."""
        with self._lock:
            return sum(len(waiters) for waiters in self._waiting.values())

    async def _wait(self, fault: Fault, seconds: float) -> bool:
        """Wait out `fault`'s latency; False when the fault was cleared or removed while
        waiting (the request is released at once and goes on as if it had no fault)."""
        if self.sleep is not asyncio.sleep:  # a test's stand-in
            await self.sleep(seconds)
            return True
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        waiter = (loop, done)
        with self._lock:
            if all(f is not fault for f in self._faults):
                return False  # removed between pick and wait
            self._waiting.setdefault(fault.id, set()).add(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(done), seconds)
        except asyncio.TimeoutError:
            return True
        finally:
            with self._lock:
                waiters = self._waiting.get(fault.id)
                if waiters is not None:
                    waiters.discard(waiter)
                    if not waiters:
                        del self._waiting[fault.id]
        return False

    def _release(self, fault_ids: Iterable[str]) -> None:
        """Wake the requests waiting on these faults (under the lock; any thread)."""
        for fault_id in fault_ids:
            for loop, done in self._waiting.pop(fault_id, ()):
                try:
                    loop.call_soon_threadsafe(_settle, done)
                except RuntimeError:  # its loop has closed: nobody is waiting any more
                    pass

    def add(self, fault: Fault) -> Fault:
        """Put `fault` (from `parse_fault`) last in line, under a new id."""
        with self._lock:
            fault.id = f"f{next(self._ids)}"
            self._faults.append(fault)
            self.active = True
            return fault

    def list(self) -> list[Fault]:
        return list(self._faults)

    def share(self, defined: Iterable[Any], applied: Mapping[str, int]) -> None:
        """Hold the faults a shared store defines (`[id, body]` each, in order) with the
        times each was applied by any process (mock_server/store/redis/): a fault this
        process holds already keeps its draws and its waiting requests."""
        with self._lock:
            mine = {f.id: f for f in self._faults}
            faults: list[Fault] = []
            for fault_id, body in defined:
                fault = mine.pop(fault_id, None)
                if fault is None:
                    fault = parse_fault(body)
                    fault.id = fault_id
                fault.applied = max(fault.applied, applied.get(fault_id, 0))
                faults.append(fault)
            self._faults = faults
            self._refresh()
            self._release(list(mine))

    def clear(self) -> None:
        """Remove every fault; requests waiting out a latency go on at once."""
        with self._lock:
            self._faults = []
            self.active = False
            self._release(list(self._waiting))

    def remove(self, fault_id: str) -> None:
        """Remove one fault (NotFound if none has that id); its waiting requests go on."""
        with self._lock:
            kept = [f for f in self._faults if f.id != fault_id]
            if len(kept) == len(self._faults):
                raise NotFound(f"no fault with id {fault_id!r}")
            self._faults = kept
            self._refresh()
            self._release([fault_id])

    def _refresh(self) -> None:
        self.active = any(not f.exhausted for f in self._faults)

    def pick(self, method: str, path: str, query: bytes) -> Fault | None:
        """The first fault that matches and wins its draw; it counts as applied."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path, query) and fault.draw():
                    fault.applied += 1
                    if fault.exhausted:
                        self._refresh()
                    return fault
        return None

    async def inject(self, fault: Fault, scope: Scope, send: Send, raw_send: Send) -> bool:
        """Apply `fault`; True when it answered (or dropped) the request itself.

        `send` is the journal's; `raw_send` the server's, whose transport a drop closes.
        """
        if fault.latency is not None and not await self._wait(fault, fault.delay_ms() / 1000):
            return False  # released: the fault is gone, the request goes on without it
        if fault.drop:
            await _drop(raw_send, fault)
            return True
        if fault.status is not None:
            await _answer(fault, scope, send)
            return True
        return False


async def _answer(fault: Fault, scope: Message, send: Send) -> None:
    status = fault.status
    assert status is not None
    body = orjson.dumps(
        {
            "type": fault.problem.get("type", "/problems/injected-fault"),
            "title": fault.problem.get("title", _phrase(status)),
            "status": status,
            "detail": fault.problem.get(
                "detail", f"fault {fault.id} injected through /__mock/faults"
            ),
            "instance": scope["path"],
        }
    )
    headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in fault.headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _settle(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)


def _phrase(status: int) -> str:
    """The status's reason phrase; a status without one (e.g. 499) gets its class's."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Client Error" if status < 500 else "Server Error"


async def _drop(raw_send: Send, fault: Fault) -> None:
    """Close the client's connection without a byte of answer.

    Under uvicorn the server's `send` is bound to the request cycle, which holds the
    transport; closing it is a real dropped connection. Once the server has seen the
    connection go, returning without an answer is quiet. Where there is no transport
    (an in-process test client), the client gets the error httpx raises for a drop.
    """
    cycle = getattr(raw_send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise httpx.RemoteProtocolError(
            f"Server disconnected without sending a response (fault {fault.id})"
        )
    transport.close()
    for _ in range(100):  # a few loop turns until the server notices the close
        if getattr(cycle, "disconnected", True):
            return
        await asyncio.sleep(0)
