"""Fault injection (M8): latency, an error status, or a dropped connection, on matching
requests, for a number of requests or with a seeded probability.

A fault is checked before the request reaches the mock, so an injected error or drop
changes no state (a create that gets an injected 503 stores nothing). Faults never apply
to the control plane: the journal middleware does not ask for `/__mock` paths at all.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import random
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

import httpx
import orjson

from mock_server.http.problems import PROBLEM_MEDIA_TYPE, BadRequest, NotFound, Violation

__all__ = ["Fault", "Faults", "parse_fault", "MAX_LATENCY_MS"]

MAX_LATENCY_MS = 300_000  # five minutes: longer is a hang, not a latency
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_KEYS = frozenset(
    {
        "method",
        "path",
        "query",
        "latencyMs",
        "status",
        "type",
        "title",
        "detail",
        "headers",
        "drop",
        "times",
        "probability",
        "seed",
    }
)


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
    _path: Callable[[str], Any] = field(default=lambda _: None, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._path = re.compile(fnmatch.translate(self.path)).match

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.applied >= self.times

    def matches(self, method: str, path: str, query: bytes) -> bool:
        if self.exhausted or (self.method is not None and method != self.method):
            return False
        if self._path(path) is None:
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


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _latency(value: Any, errors: list[Violation]) -> tuple[int, int] | None:
    bound = f"an integer 0..{MAX_LATENCY_MS}"
    if _is_int(value):
        if 0 <= value <= MAX_LATENCY_MS:
            return (value, value)
        errors.append({"pointer": "#/latencyMs", "detail": f"latencyMs must be {bound}"})
        return None
    if isinstance(value, dict) and set(value) == {"min", "max"}:
        low, high = value["min"], value["max"]
        ok = True
        for key, item in (("min", low), ("max", high)):
            if not (_is_int(item) and 0 <= item <= MAX_LATENCY_MS):
                errors.append({"pointer": f"#/latencyMs/{key}", "detail": f"must be {bound}"})
                ok = False
        if ok and low > high:
            errors.append({"pointer": "#/latencyMs", "detail": "min must not exceed max"})
            ok = False
        return (low, high) if ok else None
    errors.append(
        {
            "pointer": "#/latencyMs",
            "detail": 'latencyMs is milliseconds (250) or a range ({"min": 100, "max": 500})',
        }
    )
    return None


def _strings(value: Any, key: str, errors: list[Violation]) -> dict[str, str]:
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return dict(value)
    errors.append({"pointer": f"#/{key}", "detail": f"{key} must map names to string values"})
    return {}


def parse_fault(body: Any, fault_id: str) -> Fault:
    """A `POST /__mock/faults` body -> a Fault; every bad key is named at once (400, E2)."""
    if not isinstance(body, dict):
        raise BadRequest(
            "a fault is a JSON object",
            errors=[{"pointer": "#", "detail": "expected an object"}],
        )
    errors: list[Violation] = []
    for key in sorted(set(body) - _KEYS):
        errors.append(
            {"pointer": f"#/{key}", "detail": f"unknown key; use {', '.join(sorted(_KEYS))}"}
        )
    method = body.get("method")
    if method is not None:
        if isinstance(method, str) and method.upper() in _METHODS:
            method = method.upper()
        else:
            errors.append(
                {"pointer": "#/method", "detail": f"one of {', '.join(sorted(_METHODS))}"}
            )
    path = body.get("path", "/*")
    if not isinstance(path, str) or not path.startswith("/"):
        errors.append({"pointer": "#/path", "detail": "a path glob starting with /"})
        path = "/*"
    elif path.startswith("/__mock"):
        # A broader glob ("/*") is fine: the control plane is skipped before matching.
        errors.append(
            {"pointer": "#/path", "detail": "faults never apply to the /__mock control plane"}
        )
    query = _strings(body["query"], "query", errors) if "query" in body else {}
    latency = _latency(body["latencyMs"], errors) if "latencyMs" in body else None
    status = body.get("status")
    if status is not None and not (_is_int(status) and 400 <= status <= 599):
        errors.append({"pointer": "#/status", "detail": "an error status, 400..599"})
        status = None
    problem: dict[str, str] = {}
    for key in ("type", "title", "detail"):
        if key in body:
            if isinstance(body[key], str) and body[key].strip():
                problem[key] = body[key]
            else:
                errors.append({"pointer": f"#/{key}", "detail": "a non-blank string"})
            if "status" not in body:
                errors.append({"pointer": f"#/{key}", "detail": "only with status"})
    headers = _strings(body["headers"], "headers", errors) if "headers" in body else {}
    if headers and "status" not in body:
        errors.append({"pointer": "#/headers", "detail": "only with status"})
    drop = body.get("drop", False)
    if not isinstance(drop, bool):
        errors.append({"pointer": "#/drop", "detail": "true or false"})
        drop = False
    if drop and "status" in body:
        errors.append(
            {"pointer": "#/drop", "detail": "a dropped connection has no status: give one"}
        )
    if "latencyMs" not in body and "status" not in body and not drop:
        errors.append(
            {
                "pointer": "#",
                "detail": "say what to inject: latencyMs, status, or drop (latency may "
                "go with either of the others)",
            }
        )
    times = body.get("times")
    if times is not None and not (_is_int(times) and times >= 1):
        errors.append({"pointer": "#/times", "detail": "a positive integer"})
    probability = body.get("probability")
    if probability is not None:
        if isinstance(probability, (int, float)) and not isinstance(probability, bool):
            probability = float(probability)
            if not 0.0 < probability <= 1.0:
                errors.append({"pointer": "#/probability", "detail": "a number in (0, 1]"})
        else:
            errors.append({"pointer": "#/probability", "detail": "a number in (0, 1]"})
    seed = body.get("seed")
    if seed is not None and not _is_int(seed):
        errors.append({"pointer": "#/seed", "detail": "an integer"})
    if errors:
        raise BadRequest("the fault is invalid", errors=errors)
    if seed is None and (probability is not None or (latency and latency[0] != latency[1])):
        # Draws happen: choose a seed and show it, so that the run can be repeated.
        seed = random.SystemRandom().randrange(2**31)
    return Fault(
        id=fault_id,
        method=method,
        path=path,
        query=query,
        latency=latency,
        status=status,
        problem=problem,
        headers=headers,
        drop=drop,
        times=times,
        probability=probability,
        seed=seed,
    )


Send = Callable[[dict], Awaitable[None]]


class Faults:
    """The faults in force, first added first matched."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.active = False  # any fault that can still apply: the request path's one check
        # How latency is waited out; tests may swap it to observe delays without waiting.
        self.sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep

    def add(self, body: Any) -> Fault:
        with self._lock:
            fault = parse_fault(body, f"f{next(self._ids)}")
            self._faults.append(fault)
            self.active = True
            return fault

    def list(self) -> list[Fault]:
        return list(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults = []
            self.active = False

    def remove(self, fault_id: str) -> None:
        with self._lock:
            kept = [f for f in self._faults if f.id != fault_id]
            if len(kept) == len(self._faults):
                raise NotFound(f"no fault with id {fault_id!r}")
            self._faults = kept
            self._refresh()

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

    async def inject(self, fault: Fault, scope: dict, send: Send, raw_send: Send) -> bool:
        """Apply `fault`; True when it answered (or dropped) the request itself.

        `send` is the journal's; `raw_send` the server's, whose transport a drop closes.
        """
        if fault.latency is not None:
            await self.sleep(fault.delay_ms() / 1000)
        if fault.drop:
            await _drop(raw_send, fault)
            return True
        if fault.status is not None:
            await _answer(fault, scope, send)
            return True
        return False


async def _answer(fault: Fault, scope: dict, send: Send) -> None:
    status = fault.status
    assert status is not None
    body = orjson.dumps(
        {
            "type": fault.problem.get("type", "/problems/injected-fault"),
            "title": fault.problem.get("title", HTTPStatus(status).phrase),
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
