"""The soak's hostile clients: each tries to make the server hold memory, a connection or
its event loop (bench/soak.py runs them next to the well-behaved ones).

Every loop stops at the deadline and after a bounded count, every wait has a timeout,
and every connection goes to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Collection

import orjson

from bench.soak_load import HOST, Caps
from mock_server.domain.senml import MAX_RECORDS

__all__ = ["HOSTILE_KINDS", "hostile"]

HOSTILE_KINDS = (
    "oversized header",
    "idle sockets",
    "slow head",
    "slow body",
    "over the cap",
    "big body",
    "deep nesting",
)

# -- hostile clients ------------------------------------------------------------------


ANSWER_WAIT = 120.0  # seconds a hostile request body waits for its answer


async def _open() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(HOST, _PORT[0])


_PORT = [0]


async def _outcome(reader: asyncio.StreamReader, timeout: float) -> str:
    """What the server did: its status, `closed` without one, or `open` after `timeout`."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        return head[9:12].decode("latin-1")
    except asyncio.TimeoutError:
        return "open"
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return "closed"


async def _hostile_loop(
    kind: str,
    stop: float,
    count: int,
    pause: float,
    one: Callable[[], Awaitable[str | Counter[str]]],
    out: dict[str, Counter[str]],
) -> None:
    results = out.setdefault(kind, Counter())
    for _ in range(count):
        if time.monotonic() >= stop:
            return
        try:
            outcome = await one()
        except (OSError, asyncio.IncompleteReadError) as exc:
            outcome = f"client {type(exc).__name__}"
        if isinstance(outcome, Counter):
            results.update(outcome)
        else:
            results[outcome] += 1
        await asyncio.sleep(pause)


async def hostile(
    port: int,
    token: str,
    caps: Caps,
    *,
    seconds: float,
    out: dict[str, Counter[str]],
    kinds: Collection[str] = HOSTILE_KINDS,
) -> None:
    """The hostile `kinds` at once for `seconds`; `out[kind]` counts what the server did."""
    _PORT[0] = port
    stop = time.monotonic() + seconds
    auth = f"Authorization: Bearer {token}\r\nHost: {HOST}:{port}\r\n"
    wait = max(caps.header_timeout, caps.body_timeout, caps.idle_timeout) + 2

    async def oversized_header() -> str:
        reader, writer = await _open()
        try:
            pad = "x" * (caps.max_header_bytes * 4)
            writer.write(f"GET /downlinks HTTP/1.1\r\n{auth}X-Pad: {pad}\r\n\r\n".encode())
            return await _outcome(reader, wait)
        finally:
            writer.close()

    async def idle_sockets() -> Counter[str]:
        opened = [await _open() for _ in range(20)]
        try:
            outcomes = await asyncio.gather(
                *(_outcome(r, caps.idle_timeout + 2) for r, _ in opened)
            )
            return Counter(outcomes)
        finally:
            for _, writer in opened:
                writer.close()

    async def slow_head() -> str:
        reader, writer = await _open()
        try:
            writer.write(b"GET /downlinks HTTP/1.1\r\nX-Slow: ")
            ends = time.monotonic() + wait
            while time.monotonic() < ends and not reader.at_eof():
                writer.write(b"a")
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 0.5)
                    return head[9:12].decode("latin-1")
                except asyncio.TimeoutError:
                    continue
            return "open"
        except (asyncio.IncompleteReadError, ConnectionError):
            return "closed"
        finally:
            writer.close()

    async def slow_body() -> str:
        reader, writer = await _open()
        try:
            writer.write(
                f"POST /downlinks HTTP/1.1\r\n{auth}Content-Type: application/json\r\n"
                "Content-Length: 100000\r\n\r\n{".encode()
            )
            ends = time.monotonic() + wait
            while time.monotonic() < ends:
                writer.write(b" " * 16)
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 0.5)
                    return head[9:12].decode("latin-1")
                except asyncio.TimeoutError:
                    continue
            return "open"
        except (asyncio.IncompleteReadError, ConnectionError):
            return "closed"
        finally:
            writer.close()

    async def over_the_cap() -> Counter[str]:
        opened = []
        for _ in range(caps.max_connections + 50):
            if time.monotonic() >= stop:
                break
            opened.append(await _open())
        try:
            outcomes = await asyncio.gather(*(_outcome(r, 1.0) for r, _ in opened))
            return Counter(outcomes)
        finally:
            for _, writer in opened:
                writer.close()

    too_big = b'{"instruction": "' + b"x" * (caps.max_body_bytes + 1024) + b'"}'
    device = "urn:dev:DEVEUI:0004a30b001c0530:"
    records = (caps.max_body_bytes - 1024) // 30  # 34,918 records just under the limit
    wide = orjson.dumps(
        {
            "instruction": [{"bn": device}] + [{"n": f"k{i}", "v": i} for i in range(records)],
            "method": {"protocol": "LORA", "fPort": 10},
        }
    )
    # A valid create near the body limit: as many records as one create takes (C2), each
    # with a long string value, so that the stored message is nearly 1 MiB.
    text = "x" * ((caps.max_body_bytes - 4096) // MAX_RECORDS - 24)
    at_bound = orjson.dumps(
        {
            "instruction": [{"bn": device}]
            + [{"n": f"k{i}", "vs": text} for i in range(MAX_RECORDS - 1)],
            "method": {"protocol": "LORA", "fPort": 10},
        }
    )
    assert len(at_bound) < caps.max_body_bytes
    big_bodies = [too_big, wide, at_bound]
    depth = 100_000
    deep_bodies = [
        b"[" * depth + b"]" * depth,
        b'{"instruction":' + b"[" * 1000 + b"]" * 1000 + b"}",
    ]
    turn = [0, 0]

    async def post(body: bytes) -> str:
        reader, writer = await _open()
        try:
            writer.write(
                f"POST /downlinks HTTP/1.1\r\n{auth}Content-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            # Wait for the answer, so that one such request is in flight at a time: the
            # mock keeps working on a request whose client has gone.
            return await _outcome(reader, ANSWER_WAIT)
        finally:
            writer.close()

    async def big_body() -> str:
        turn[0] += 1
        return await post(big_bodies[turn[0] % len(big_bodies)])

    async def deep_nesting() -> str:
        turn[1] += 1
        return await post(deep_bodies[turn[1] % 2])

    # (kind, how many at once, at most how many each, pause between, one attempt)
    plan: list[tuple[str, int, int, float, Callable[[], Awaitable[str | Counter[str]]]]] = [
        ("oversized header", 2, 10_000, 0.05, oversized_header),
        ("idle sockets", 1, 1_000, 0.1, idle_sockets),
        ("slow head", 8, 1_000, 0.0, slow_head),
        ("slow body", 8, 1_000, 0.0, slow_body),
        ("over the cap", 1, 100, 2.0, over_the_cap),
        ("big body", 1, 10_000, 1.0, big_body),
        ("deep nesting", 1, 10_000, 0.1, deep_nesting),
    ]
    loops = [
        (kind, _hostile_loop(kind, stop, count, pause, one, out))
        for kind, at_once, count, pause, one in plan
        if kind in kinds
        for _ in range(at_once)
    ]
    await asyncio.gather(*(loop for _, loop in loops))
