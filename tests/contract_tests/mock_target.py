"""Run contract checks against the mock, or against the mock broken on purpose.

The mock runs in a thread on a free loopback port with a manual clock (T3), so nothing
moves unless a check moves it. `Broken` wraps its ASGI app and rewrites requests or
responses, which is how these tests show that a check fails on a wrong implementation.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

from contract_tests.context import Context, Target
from contract_tests.registry import CHECKS, Check, Finding, Mode, Skip
from mock_server.app import create_app
from mock_server.config import ClockMode, MockConfig
from mock_server.server import MockServer

__all__ = [
    "START",
    "SETTINGS",
    "Servers",
    "mock_config",
    "serve",
    "target_for",
    "outcome",
    "checks_of",
    "assert_caught",
    "Broken",
    "Query",
    "edit_json",
]

START = 1_767_225_600_000  # 2026-01-01T00:00:00.000Z
FULL = ("downlink.read", "downlink.write", "downlink.delete")


def mock_config(clock: str = "manual") -> MockConfig:
    """ "manual": nothing moves unless told; "scaled": time runs 1000 times faster but
    downlinks never progress (so created downlinks get distinct instants); "real": the
    default scenario progresses downlinks over a few seconds, as a real target would."""
    if clock == "scaled":
        return MockConfig(
            clock_mode=ClockMode.SCALED, clock_start=START, speed=1000.0, scenario="static"
        )
    if clock == "real":
        return MockConfig()
    return MockConfig(clock_mode=ClockMode.MANUAL, clock_start=START)


@contextmanager
def serve(wrap: Callable[[Any], Any] | None = None, clock: str = "manual") -> Iterator[MockServer]:
    """A fresh mock (wrapped by `wrap`, if given) on a free port."""
    app = create_app(mock_config(clock))
    with MockServer(app=wrap(app) if wrap else app) as server:
        yield server


# (clock, mode) pairs the checks run under: full mode on the manual clock (seeded times);
# black-box on the manual clock (every downlink at one instant), on the scaled clock
# (distinct instants), and on the real clock with downlinks progressing on their own.
SETTINGS: list[tuple[str, str]] = [
    ("manual", "full"),
    ("manual", "black-box"),
    ("scaled", "black-box"),
    ("real", "black-box"),
]


class Servers:
    """One mock per clock setting, started on first use, all stopped on exit."""

    def __init__(self) -> None:
        self._running: dict[str, Any] = {}
        self._stack = ExitStack()

    def __getitem__(self, clock: str) -> MockServer:
        if clock not in self._running:
            self._running[clock] = self._stack.enter_context(serve(clock=clock))
        return self._running[clock]

    def __enter__(self) -> Servers:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


def target_for(server: MockServer, mode: Mode) -> Target:
    """Tokens for client A (full and read-only) and client B, minted for lenient auth."""
    probe = Target(server.base_url, mode, "lenient", token="")
    a = f"client-a-{uuid.uuid4().hex[:6]}"
    b = f"client-b-{uuid.uuid4().hex[:6]}"
    token = probe.mint(a, FULL)
    assert token is not None
    return Target(
        server.base_url,
        mode,
        "lenient" if mode is Mode.FULL else None,
        token=token,
        other_tenant_token=probe.mint(b, FULL),
        read_only_token=probe.mint(a, ("downlink.read",)),
    )


# One client for every check run: making one per context (an SSL context each) costs
# more than most checks.
_CLIENT = httpx.Client(timeout=10.0)


def outcome(entry: Check, target: Target) -> tuple[str, str]:
    """Run one check: ("pass", ""), ("skip", reason) or ("fail", message)."""
    with Context(target, name=entry.name, seed=7, client=_CLIENT) as ctx:
        try:
            entry.func(ctx)
        except Skip as exc:
            return "skip", str(exc)
        except Finding as exc:
            detail = "\n".join(
                x for x in (exc.message, exc.expected, exc.actual, exc.request, exc.response) if x
            )
            return "fail", detail
    return "pass", ""


def assert_caught(
    name: str, wrap: Callable[[Any], Any], expected: list[str], clock: str = "manual"
) -> None:
    """Serve the mock broken by `wrap` and require each named check to fail on it, with
    a message (expected/actual, a curl line)."""
    by_name = {c.name: c for c in CHECKS}
    with serve(wrap, clock=clock) as running:
        target = target_for(running, Mode.FULL)
        for check_name in expected:
            result, detail = outcome(by_name[check_name], target)
            assert result == "fail", f"{check_name} did not catch {name}: {result} {detail}"
            assert detail


def checks_of(module: str) -> list[Check]:
    """The registered checks defined in `contract_tests.checks.<module>`."""
    return [c for c in CHECKS if c.func.__module__ == f"contract_tests.checks.{module}"]


Query = list[tuple[str, str]]
RequestRewrite = Callable[[str, str, Query, bytes], tuple[Query, bytes]]
ResponseRewrite = Callable[[str, str, Query, int, bytes], tuple[int, bytes]]


class Broken:
    """An ASGI wrapper that rewrites what goes in and what comes out of the mock.

    `request(method, path, query, body) -> (query, body)`;
    `response(method, path, query, status, body) -> (status, body)`;
    `drop_headers` are removed from every answer.
    """

    def __init__(
        self,
        app: Any,
        *,
        request: RequestRewrite | None = None,
        response: ResponseRewrite | None = None,
        drop_headers: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.state = app.state
        self.on_request = request
        self.on_response = response
        self.drop = {h.lower().encode() for h in drop_headers} | {b"content-length"}

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/__mock"):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        query = parse_qsl(scope["query_string"].decode(), keep_blank_values=True)
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if self.on_request:
            query, body = self.on_request(method, path, query, body)
        scope = {**scope, "query_string": urlencode(query).encode()}
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, replay, capture)
        status, out = start["status"], b"".join(chunks)
        if self.on_response:
            status, out = self.on_response(method, path, query, status, out)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in self.drop]
        headers.append((b"content-length", str(len(out)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": out})


def edit_json(body: bytes, change: Callable[[Any], Any]) -> bytes:
    """Apply `change` to a JSON body (returning the new value, or None to keep it)."""
    if not body:
        return body
    data = json.loads(body)
    changed = change(data)
    return json.dumps(data if changed is None else changed).encode()
