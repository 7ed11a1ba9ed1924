"""The round-robin proxy (tests/support/alternate.py) against two trivial apps."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mock_server.server import MockServer, free_port
from tests.support.alternate import Alternate


def _echo_app(name: str) -> Starlette:
    async def echo(request: Request) -> Response:
        body = await request.body()
        return JSONResponse(
            {
                "upstream": name,
                "method": request.method,
                "raw_path": request.scope["raw_path"].decode(),
                "query": request.scope["query_string"].decode(),
                "headers": [[k.decode(), v.decode()] for k, v in request.scope["headers"]],
                "body": body.decode("latin-1"),
            }
        )

    async def teapot(request: Request) -> Response:
        response = Response(
            gzip.compress(b"short and stout"),
            status_code=418,
            headers={"x-custom": "kept", "content-encoding": "gzip", "content-type": "x/y"},
        )
        response.raw_headers.append((b"set-cookie", b"a=1"))
        response.raw_headers.append((b"set-cookie", b"b=2"))
        return response

    return Starlette(
        routes=[
            Route("/teapot", teapot),
            Route("/{rest:path}", echo, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
        ]
    )


@pytest.fixture(scope="module")
def upstreams() -> Iterator[tuple[MockServer, MockServer]]:
    with MockServer(app=_echo_app("a")) as a, MockServer(app=_echo_app("b")) as b:
        yield a, b


def test_requests_alternate_between_the_upstreams_in_turn(
    upstreams: tuple[MockServer, MockServer],
) -> None:
    a, b = upstreams
    with Alternate([a.base_url, b.base_url]) as proxy:
        names = []
        for _ in range(6):  # fresh connections and one kept-alive client alike
            names.append(httpx.get(f"{proxy.base_url}/x").json()["upstream"])
        with httpx.Client(base_url=proxy.base_url) as client:
            names += [client.get("/x").json()["upstream"] for _ in range(4)]
        assert names == ["a", "b"] * 5
        assert proxy.sent == [5, 5]


def test_method_raw_path_query_headers_and_body_pass_unchanged(
    upstreams: tuple[MockServer, MockServer],
) -> None:
    a, b = upstreams
    with Alternate([a.base_url, b.base_url]) as proxy:
        sent_body = b'{"k": "v\\u00e9"}\x00\xff'
        response = httpx.request(
            "PATCH",
            f"{proxy.base_url}/a%2Fb/c%20d",
            headers={"X-Thing": "one", "Authorization": "Bearer t", "Content-Type": "x/y"},
            content=sent_body,
        )
        # the query string exactly as sent, odd encodings included
        query_response = httpx.get(f"{proxy.base_url}/q?x=1&y=%20&z=a+b&w")
    seen = response.json()
    assert seen["method"] == "PATCH"
    assert seen["raw_path"] == "/a%2Fb/c%20d"
    assert seen["body"].encode("latin-1") == sent_body
    headers = dict(seen["headers"])
    assert headers["x-thing"] == "one" and headers["authorization"] == "Bearer t"
    assert headers["content-type"] == "x/y"
    assert headers["content-length"] == str(len(sent_body))
    # The client's Host by default: links built from it point back at the proxy.
    assert headers["host"] == f"127.0.0.1:{proxy.port}"
    assert query_response.json()["query"] == "x=1&y=%20&z=a+b&w"
    assert query_response.json()["upstream"] != seen["upstream"]


def test_host_is_rewritten_on_request(upstreams: tuple[MockServer, MockServer]) -> None:
    a, b = upstreams
    with Alternate([a.base_url, b.base_url], rewrite_host=True) as proxy:
        hosts = [dict(httpx.get(f"{proxy.base_url}/").json()["headers"])["host"] for _ in "ab"]
    assert hosts == [f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"]


def test_status_headers_and_body_come_back_unchanged(
    upstreams: tuple[MockServer, MockServer],
) -> None:
    a, b = upstreams
    with Alternate([a.base_url, b.base_url]) as proxy:
        response = httpx.get(f"{proxy.base_url}/teapot", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 418
    assert response.headers["x-custom"] == "kept"
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    # The compressed bytes pass as they came: the client, not the proxy, decodes them.
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == b"short and stout"
    assert int(response.headers["content-length"]) == len(gzip.compress(b"short and stout"))


def test_an_unreachable_upstream_is_a_502_naming_it(
    upstreams: tuple[MockServer, MockServer],
) -> None:
    a, _ = upstreams
    dead = f"http://127.0.0.1:{free_port()}"
    with Alternate([a.base_url, dead]) as proxy:
        assert httpx.get(f"{proxy.base_url}/x").status_code == 200
        response = httpx.get(f"{proxy.base_url}/x")
    assert response.status_code == 502 and dead in response.text


def test_it_needs_an_upstream() -> None:
    with pytest.raises(ValueError):
        Alternate([])


def test_the_contract_suite_sees_no_difference_through_the_proxy(tmp_path) -> None:
    """The proxy is transparent: the whole contract suite (profile mock, every rule) passes
    against one mock reached through it, each request taking the other of two routes."""
    from click.testing import CliRunner

    from contract_tests.cli.main import cli
    from mock_server.config import ClockMode, MockConfig

    with MockServer(MockConfig(clock_mode=ClockMode.MANUAL)) as mock:
        with Alternate([mock.base_url, f"http://localhost:{mock.port}"]) as proxy:
            result = CliRunner().invoke(
                cli, ["run", "--base-url", proxy.base_url, "--profile", "mock", "--no-schemathesis"]
            )
            sent = proxy.sent
    assert result.exit_code == 0, result.output
    assert "PASSED:" in result.output and "in full mode" in result.output
    assert min(sent) > 10 and abs(sent[0] - sent[1]) <= 1
