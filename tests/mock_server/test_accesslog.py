"""The batched access log: a line per request, a summary past the cap, nothing lost."""

from __future__ import annotations

import asyncio
import io
import re

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.accesslog import AccessLog


def _app() -> Starlette:
    async def ok(request: Request) -> Response:
        return Response(b"{}", media_type="application/json")

    async def created(request: Request) -> Response:
        await request.body()
        return Response(b"{}", status_code=201, media_type="application/json")

    return Starlette(
        routes=[
            Route("/downlinks", ok, methods=["GET"]),
            Route("/downlinks", created, methods=["POST"]),
        ]
    )


async def _send(app: AccessLog, requests: list[tuple[str, str]]) -> list[int]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50344))
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        return [(await client.request(method, url)).status_code for method, url in requests]


def test_each_request_gets_a_line_with_its_status_and_time() -> None:
    out = io.StringIO()
    log = AccessLog(_app(), stream=out, interval=60)
    statuses = asyncio.run(_send(log, [("GET", "/downlinks?limit=5"), ("POST", "/downlinks")]))
    assert statuses == [200, 201]
    assert out.getvalue() == ""  # nothing is written on the request path
    log.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert re.fullmatch(
        r'INFO: +127\.0\.0\.1:50344 - "GET /downlinks\?limit=5 HTTP/1\.1" 200 \d+\.\dms', lines[0]
    )
    assert re.fullmatch(
        r'INFO: +127\.0\.0\.1:50344 - "POST /downlinks HTTP/1\.1" 201 .*ms', lines[1]
    )


def test_past_the_cap_the_rest_of_an_interval_is_summarised() -> None:
    out = io.StringIO()
    log = AccessLog(_app(), stream=out, interval=60, max_lines=3)
    asyncio.run(_send(log, [("GET", "/downlinks")] * 8 + [("POST", "/downlinks")] * 2))
    log.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    assert all('"GET /downlinks HTTP/1.1" 200' in line for line in lines[:3])
    assert re.fullmatch(
        r"INFO: +access log: 7 more requests in 60\.00 s \(200: 5, 201: 2\), "
        r"p50 \d+\.\dms p99 \d+\.\dms",
        lines[3],
    )


def test_the_writer_thread_flushes_by_itself_and_close_is_idempotent() -> None:
    out = io.StringIO()
    log = AccessLog(_app(), stream=out, interval=0.01)
    asyncio.run(_send(log, [("GET", "/downlinks")]))
    for _ in range(500):  # the writer wakes every 10 ms; wait for it, boundedly
        if out.getvalue():
            break
        asyncio.run(asyncio.sleep(0.01))
    assert '"GET /downlinks HTTP/1.1" 200' in out.getvalue()
    log.close()
    log.close()
    assert len(out.getvalue().splitlines()) == 1
