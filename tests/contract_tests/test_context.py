"""The Context: requests and tokens, curl lines (K3), walks, problem shape (E1), tokens."""

from __future__ import annotations

import json
import shlex

import httpx
import jwt
import pytest

from contract_tests.context import Context, Exchange, Target, load_spec
from contract_tests.registry import ContractError, Finding, Mode, Skip

BASE = "http://target.test"


def _ctx(handler, mode: Mode = Mode.FULL, **target) -> Context:
    t = Target(BASE + "/", mode, "lenient", token="tok-a", **target)
    return Context(
        t, load_spec(), name="X1-test", client=httpx.Client(transport=httpx.MockTransport(handler))
    )


def test_request_token_default_none_and_explicit() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(204)

    ctx = _ctx(handler)
    ctx.request("GET", "/downlinks")
    ctx.request("GET", "/downlinks", token=None)
    ctx.request("GET", BASE + "/downlinks?cursor=x", token="tok-b")
    assert seen == ["Bearer tok-a", None, "Bearer tok-b"]
    assert len(ctx.exchanges) == 3


def test_k3_curl_line_reproduces_and_hides_user_secrets() -> None:
    ctx = _ctx(lambda r: httpx.Response(201, json={}))
    ctx.target.secrets = {"DOWNLINKS_TOKEN": "tok-a"}
    exchange = ctx.request("POST", "/downlinks", json={"a": "it's"}, params={"q": "x y"})
    words = shlex.split(exchange.curl)
    assert words[:5] == ["curl", "-i", "-X", "POST", BASE + "/downlinks?q=x+y"]
    assert "Authorization: Bearer $DOWNLINKS_TOKEN" in words  # double-quoted: the shell expands it
    assert "tok-a" not in exchange.curl
    assert json.loads(words[words.index("--data-raw") + 1]) == {"a": "it's"}


def test_excerpt_has_status_notable_headers_and_cut_body() -> None:
    body = "x" * 800
    ctx = _ctx(lambda r: httpx.Response(405, headers={"Allow": "GET", "X-Other": "1"}, text=body))
    excerpt = ctx.request("PUT", "/downlinks").excerpt()
    assert excerpt.startswith("HTTP 405 Method Not Allowed\n")
    assert "allow: GET" in excerpt and "x-other" not in excerpt
    assert excerpt.endswith("x" * 500 + " ...")


def test_json_of_a_non_json_body_is_a_finding() -> None:
    ctx = _ctx(lambda r: httpx.Response(200, text="<html>"))
    with pytest.raises(Finding, match="not JSON") as caught:
        ctx.request("GET", "/downlinks").json()
    assert caught.value.request.startswith("curl")


def test_transport_errors_become_findings() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(Finding, match="refused") as caught:
        _ctx(handler).request("GET", "/downlinks")
    assert caught.value.request.startswith("curl")


def test_create_posts_a_valid_body_and_fails_unless_201() -> None:
    bodies: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(201 if len(bodies) == 1 else 400, json={"id": "1"})

    ctx = _ctx(handler)
    assert ctx.create("urn:dev:DEVEUI:0000000000000001:", retryLimit=2) == {"id": "1"}
    assert bodies[0] == {
        "instruction": [{"bn": "urn:dev:DEVEUI:0000000000000001:"}, {"n": "x", "v": 1}],
        "method": {"protocol": "SMS"},
        "retryLimit": 2,
    }
    with pytest.raises(Finding, match="answered 400, not 201"):
        ctx.create()


def test_walk_follows_next_links_and_stops_on_a_loop() -> None:
    pages = {
        "": {"items": [{"id": "1"}], "next": BASE + "/downlinks?cursor=2"},
        "cursor=2": {"items": [{"id": "2"}], "next": "/downlinks?cursor=3"},
        "cursor=3": {"items": [{"id": "3"}]},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        query = request.url.query.decode()
        return httpx.Response(200, json=pages["" if "q=" in query else query])

    ctx = _ctx(handler)
    assert ctx.walk({"q": "x"}) == [[{"id": "1"}], [{"id": "2"}], [{"id": "3"}]]
    pages["cursor=3"]["next"] = BASE + "/downlinks?cursor=2"
    with pytest.raises(Finding, match="already visited"):
        ctx.walk({"q": "x"})


def test_hooks_skip_in_black_box_mode() -> None:
    ctx = _ctx(lambda r: httpx.Response(200, json={}), mode=Mode.BLACK_BOX)
    for call in (lambda: ctx.seed([]), ctx.clock, lambda: ctx.transition("1", "FAILED")):
        with pytest.raises(Skip, match="full mode"):
            call()
    assert ctx.exchanges == []


def test_e1_expect_problem_checks_media_type_members_and_status() -> None:
    good = {"type": "/problems/not-found", "title": "Not found", "status": 404, "detail": "no"}
    cases = [
        (404, "application/problem+json", good, None),
        (404, "application/json", good, "not problem\\+json"),
        (404, "application/problem+json", {**good, "detail": None}, "`detail`"),
        (404, "application/problem+json", {**good, "status": 400}, "differs"),
        (400, "application/problem+json", good, "answered 400"),
    ]
    for status, media, body, error in cases:
        ctx = _ctx(
            lambda r, s=status, m=media, b=body: httpx.Response(
                s, headers={"content-type": m}, content=json.dumps(b).encode()
            )
        )
        exchange = ctx.request("GET", "/downlinks/1")
        if error is None:
            assert ctx.expect_problem(exchange, 404) == body
        else:
            with pytest.raises(Finding, match=error):
                ctx.expect_problem(exchange, 404)


def test_expect_schema_uses_the_spec() -> None:
    ctx = _ctx(lambda r: httpx.Response(200, json={"networkId": 5, "status": "PENDING"}))
    with pytest.raises(Finding, match="Downlink schema") as caught:
        ctx.expect_schema(ctx.request("GET", "/downlinks/1"), "Downlink")
    assert "networkId" in caught.value.actual


def test_mint_only_for_lenient_or_off_auth() -> None:
    lenient = Target(BASE, Mode.FULL, "lenient", token="")
    token = lenient.mint("contract-x-a", ["downlink.read"], exp=946684800)
    assert token is not None
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims == {
        "client_id": "contract-x-a",
        "sub": "contract-x-a",
        "scope": "downlink.read",
        "exp": 946684800,
    }
    assert jwt.get_unverified_header(token)["alg"] == "none"
    assert Target(BASE, Mode.FULL, "hs256", token="").mint("c", []) is None
    assert Target(BASE, Mode.BLACK_BOX, None, token="").mint("c", []) is None


def test_load_spec_errors_are_contract_errors(tmp_path) -> None:
    with pytest.raises(ContractError, match="no OpenAPI document"):
        load_spec(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(ContractError, match="cannot read"):
        load_spec(broken)
    assert "paths" in load_spec()


def test_exchange_status_property() -> None:
    request = httpx.Request("GET", BASE)
    assert Exchange(request, httpx.Response(418, request=request)).status == 418
