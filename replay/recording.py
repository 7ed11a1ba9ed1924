"""The recording proxy: clients talk through it to any implementation, and every exchange
goes to a JSONL cassette (see `cassette.py` for the format).

The proxy forwards method, path, query, headers and body as they came, and answers with
the target's status, headers and body, absolute links to the target rewritten to point at
the proxy (so that a client following `next` stays on the record). The cassette keeps the
target's own answer. The shipped recordings in `fixtures/recordings/` are made by this
module against the mock:

    python -m replay.recording --make-fixtures [--out fixtures/recordings]
"""

from __future__ import annotations

import argparse
import ssl
import sys
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.domain.timefmt import format_ms
from mock_server.http.problems import problem_response
from replay.cassette import HOP_HEADERS, CassetteWriter, message_body, redact_headers

__all__ = ["create_proxy", "make_fixtures", "FIXTURES_DIR", "main"]

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "recordings"
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Not forwarded: they describe this hop, or httpx sets them for the next one (the
# cassette also leaves out date and server, which do get forwarded).
_HOP = HOP_HEADERS - {"date", "server"}


def create_proxy(
    target: str,
    cassette: CassetteWriter,
    *,
    timeout: float = 30.0,
    transport: Any = None,
    verify: ssl.SSLContext | bool = True,
) -> Starlette:
    """A Starlette app forwarding everything to `target` and recording to `cassette`.

    `transport` (an httpx async transport) replaces the network, e.g. to proxy an ASGI app;
    `verify` is httpx's TLS verification for an https target.
    """
    base = target.rstrip("/")
    clients: dict[int, httpx.AsyncClient] = {}

    def client_for_loop() -> httpx.AsyncClient:
        # One client per event loop: the proxy may run under uvicorn or a test client.
        import asyncio

        key = id(asyncio.get_running_loop())
        client = clients.get(key)
        if client is None:
            client = clients[key] = httpx.AsyncClient(
                base_url=base,
                timeout=timeout,
                follow_redirects=False,
                transport=transport,
                verify=verify,
            )
        return client

    async def forward(request: Request) -> Response:
        content = await request.body()
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _HOP]
        target_path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        started = time.perf_counter_ns()
        try:
            answer = await client_for_loop().request(
                request.method, target_path, headers=headers, content=content
            )
        except httpx.HTTPError as exc:
            return problem_response(
                502,
                "/problems/bad-gateway",
                "Bad gateway",
                f"the recording proxy could not reach {base}: {type(exc).__name__}: {exc}",
                request.url.path,
            )
        duration = (time.perf_counter_ns() - started) / 1e6
        request_headers, auth = redact_headers(request.headers.items())
        response_headers, _ = redact_headers(answer.headers.items())
        record: dict[str, Any] = {
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "headers": request_headers,
        }
        if auth is not None:
            record["auth"] = auth.to_json()
        record.update(message_body(content, request.headers.get("content-type")))
        cassette.write(
            {
                "time": format_ms(time.time_ns() // 1_000_000),
                "durationMs": round(duration, 3),
                "request": record,
                "response": {
                    "status": answer.status_code,
                    "headers": response_headers,
                    **message_body(answer.content, answer.headers.get("content-type")),
                },
            }
        )
        here = str(request.base_url).rstrip("/")
        body = answer.content.replace(base.encode(), here.encode())
        out = [(k, v) for k, v in answer.headers.multi_items() if k.lower() not in _HOP]
        out = [(k, v.replace(base, here) if k.lower() == "location" else v) for k, v in out]
        response = Response(body, status_code=answer.status_code)  # sets content-length
        for name, value in out:
            response.headers.append(name, value)
        return response

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        yield
        for client in clients.values():
            await client.aclose()
        cassette.close()

    return Starlette(
        routes=[
            Route("/", forward, methods=_METHODS),
            Route("/{path:path}", forward, methods=_METHODS),
        ],
        lifespan=lifespan,
    )


# -- the shipped recordings ----------------------------------------------------------------

_START = "2025-01-01T00:00:00.000Z"
_CLIENT = "recorder-client"


def _create(device: str, ref: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "instruction": [{"bn": device, "n": "setpoint", "v": 21.5}],
        "method": {"protocol": "LORA", "fPort": 10},
        **extra,
    }
    if ref is not None:
        body["externalReference"] = ref
    return body


def _create_read_cancel(http: httpx.Client) -> None:
    device = "urn:dev:DEVEUI:00000000000000A1:"
    created = http.post("/downlinks", json=_create(device, "order-1"))
    location = created.headers["location"]
    http.get(location)
    http.get("/downlinks", params={"q": device})
    http.delete(location)
    http.get(location)
    http.delete(location)  # a second cancel: 409 (X2)


def _conflict(http: httpx.Client) -> None:
    device = "urn:dev:DEVEUI:00000000000000B1:"
    http.post("/downlinks", json=_create(device, "dup-ref"))
    http.post("/downlinks", json=_create(device, "dup-ref"))  # C6: 409
    http.post("/downlinks", json=_create(device, "dup-ref", dryRun=True))  # C8: 409 too


def _validation(http: httpx.Client) -> None:
    bad = {"instruction": [{"n": "x", "v": 1}], "method": {"protocol": "PIGEON"}}
    http.post("/downlinks", json=bad)  # C1, C2: 400 with every violation
    http.post(
        "/downlinks",
        json={**_create("urn:dev:DEVEUI:00000000000000C1:"), "feedbackTimeout": "PT5M"},
    )  # C4
    http.post(
        "/downlinks", content=b'{"instruction": [', headers={"content-type": "application/json"}
    )  # E3: malformed JSON
    http.get("/downlinks", params={"limit": "0"})  # L3
    http.get("/downlinks", params={"sort": "colour"})  # L4
    http.get("/downlinks/00000000-0000-4000-8000-000000000000")  # R1: 404


def _paging(http: httpx.Client) -> None:
    device = "urn:dev:DEVEUI:00000000000000D1:"
    for n in range(5):
        http.post("/downlinks", json=_create(device, f"page-{n}"))
    page = http.get(
        "/downlinks", params={"q": device, "limit": "2", "sort": "externalReference"}
    ).json()
    while "next" in page:  # L5, L6: forwards to the last page...
        page = http.get(page["next"]).json()
    while "prev" in page:  # ...and back to the first
        page = http.get(page["prev"]).json()
    http.get("/downlinks", params={"q": device, "limit": "10"})  # default sort, one page


_SESSIONS: dict[str, Callable[[httpx.Client], None]] = {
    "create-read-cancel": _create_read_cancel,
    "conflict": _conflict,
    "validation": _validation,
    "paging": _paging,
}


def make_fixtures(out: Path = FIXTURES_DIR) -> list[Path]:
    """Record each shipped session through the proxy against a fresh mock; the paths."""
    from mock_server.config import ClockMode, MockConfig
    from mock_server.domain.timefmt import parse_rfc3339
    from mock_server.http.auth import mint_token
    from mock_server.server import MockServer

    written = []
    config = MockConfig(clock_mode=ClockMode.MANUAL, clock_start=parse_rfc3339(_START))
    token = mint_token(_CLIENT)
    tls = httpx.create_ssl_context()  # shared: loading the CA bundle costs ~0.1 s a client
    with MockServer(config) as target, httpx.Client(verify=tls) as control:
        for name, session in _SESSIONS.items():
            path = out / f"{name}.jsonl"
            control.post(f"{target.base_url}/__mock/reset").raise_for_status()  # M2
            cassette = CassetteWriter(path)
            proxy_app = create_proxy(target.base_url, cassette, verify=tls)
            with MockServer(app=proxy_app) as proxy:
                with httpx.Client(
                    base_url=proxy.base_url,
                    headers={"authorization": f"Bearer {token}"},
                    verify=tls,
                ) as http:
                    session(http)
            cassette.close()
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m replay.recording")
    parser.add_argument(
        "--make-fixtures", action="store_true", help="record the shipped cassettes anew"
    )
    parser.add_argument("--out", type=Path, default=FIXTURES_DIR, help="where to write them")
    args = parser.parse_args(argv)
    if not args.make_fixtures:
        parser.print_help()
        return 2
    for path in make_fixtures(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
