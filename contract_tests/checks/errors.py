"""Group E: the shape of errors (E1), their `errors` arrays (E2), and HTTP-level refusals
(E3: malformed JSON, wrong content type, unknown path, wrong method, oversized body).

Every refused create here is for a device of this run, so a check can list it afterwards
and see that nothing was stored (E3: none of these changes any state).
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlsplit

from contract_tests.context import Context, Exchange
from contract_tests.registry import Skip, Tag, check

__all__ = ["expect_full_problem", "valid_body", "LARGE_BODY_BYTES"]

LARGE_BODY_BYTES = 2 * 1024 * 1024  # twice the 1 MiB default limit (E3)


def valid_body(network_id: str) -> dict[str, Any]:
    """A create body every rule accepts."""
    return {"instruction": [{"bn": network_id}, {"n": "x", "v": 1}], "method": {"protocol": "SMS"}}


def expect_full_problem(ctx: Context, exchange: Exchange, status: int) -> dict[str, Any]:
    """E1 in full: the problem+json members, `type` a relative URI reference, `instance`
    the request path."""
    problem = ctx.expect_problem(exchange, status)
    kind = problem["type"]
    parts = urlsplit(kind)
    if not kind or parts.scheme or parts.netloc:
        ctx.fail(
            "the problem `type` is not a relative URI reference naming the problem",
            exchange,
            expected='a relative reference such as "/problems/not-found"',
            actual=repr(kind),
        )
    path = exchange.request.url.path
    if problem.get("instance") != path:
        ctx.fail(
            "the problem `instance` is not the request path",
            exchange,
            expected=repr(path),
            actual=repr(problem.get("instance")),
        )
    return problem


def _nothing_stored(ctx: Context, network_id: str, what: str) -> None:
    listed = ctx.request("GET", "/downlinks", params={"q": network_id})
    ctx.expect_status(listed, 200)
    items = listed.json().get("items", [])
    if items:
        ctx.fail(
            f"{what} was refused but stored a downlink",
            listed,
            expected="no downlink of this device",
            actual=f"{len(items)} listed",
        )


# -- E1: one check per kind of error --------------------------------------------------------


@check("E1", "a 400 is problem+json with type, title, status, detail, instance", tag=Tag.CONVENTION)
def problem_on_400(ctx: Context) -> None:
    bad = {"instruction": [{"bn": ctx.network_id()}]}  # `method` is required (C1)
    expect_full_problem(ctx, ctx.request("POST", "/downlinks", json=bad), 400)
    expect_full_problem(ctx, ctx.request("GET", "/downlinks", params={"q": ""}), 400)


@check("E1", "a 401 is problem+json", tag=Tag.CONVENTION)
def problem_on_401(ctx: Context) -> None:
    if ctx.target.auth == "off":
        raise Skip("the target runs without authentication (M1 auth: off)")
    expect_full_problem(ctx, ctx.request("GET", "/downlinks", token=None), 401)


@check("E1", "a 403 is problem+json", tag=Tag.CONVENTION)
def problem_on_403(ctx: Context) -> None:
    token = ctx.target.read_only_token
    if ctx.target.auth == "off" or not token:
        raise Skip("needs a read-only token (--read-only-token, or lenient auth)")
    network_id = ctx.network_id()
    exchange = ctx.request("POST", "/downlinks", token=token, json=valid_body(network_id))
    expect_full_problem(ctx, exchange, 403)


@check("E1", "a 404 is problem+json", tag=Tag.CONVENTION)
def problem_on_404(ctx: Context) -> None:
    expect_full_problem(ctx, ctx.request("GET", f"/downlinks/{uuid.uuid4()}"), 404)
    expect_full_problem(ctx, ctx.request("DELETE", f"/downlinks/{uuid.uuid4()}"), 404)


@check("E1", "a 405 is problem+json", tag=Tag.CONVENTION)
def problem_on_405(ctx: Context) -> None:
    expect_full_problem(ctx, ctx.request("PUT", "/downlinks", json={}), 405)


@check("E1", "a 409 (cancelling twice) is problem+json", tag=Tag.CONVENTION)
def problem_on_409(ctx: Context) -> None:
    created = ctx.create()
    path = f"/downlinks/{created['id']}"
    first = ctx.request("DELETE", path, params={"forced": "true"})
    if first.status == 409:
        expect_full_problem(ctx, first, 409)  # it had already ended: a 409 all the same
        return
    ctx.expect_status(first, 202)
    expect_full_problem(ctx, ctx.request("DELETE", path, params={"forced": "true"}), 409)


@check("E1", "a 415 is problem+json", tag=Tag.CONVENTION)
def problem_on_415(ctx: Context) -> None:
    body = json.dumps(valid_body(ctx.network_id())).encode()
    exchange = ctx.request(
        "POST", "/downlinks", content=body, headers={"Content-Type": "text/plain"}
    )
    expect_full_problem(ctx, exchange, 415)


# -- E2 ------------------------------------------------------------------------------------


def _errors(ctx: Context, exchange: Exchange) -> list[dict[str, Any]]:
    problem = expect_full_problem(ctx, exchange, 400)
    errors = problem.get("errors")
    if not isinstance(errors, list) or not errors:
        ctx.fail(
            "a 400 carries no `errors` array",
            exchange,
            expected='"errors": [{"pointer" or "parameter": ..., "detail": ...}, ...]',
            actual=repr(errors),
        )
    for entry in errors:
        ok = isinstance(entry, dict) and isinstance(entry.get("detail"), str)
        where = [k for k in ("pointer", "parameter") if isinstance(entry, dict) and k in entry]
        if not ok or len(where) != 1:
            ctx.fail(
                "an `errors` entry is not one pointer or parameter with a detail",
                exchange,
                expected='{"pointer": "#/...", "detail": "..."} or {"parameter": ..., "detail": ...}',
                actual=json.dumps(entry),
            )
        pointer = entry.get("pointer")
        if pointer is not None and not (isinstance(pointer, str) and pointer.startswith("#/")):
            ctx.fail(
                "an `errors` pointer is not a JSON Pointer as a URI fragment",
                exchange,
                expected='"#/retryLimit" style',
                actual=repr(pointer),
            )
    return errors


def _expect_all(
    ctx: Context, exchange: Exchange, errors: list[dict[str, Any]], key: str, wanted: list[str]
) -> None:
    named = [str(e.get(key)) for e in errors if key in e]
    for want in wanted:
        if not any(n == want or n.startswith(want + "/") for n in named):
            ctx.fail(
                f"not every violation is reported: nothing names {want}",
                exchange,
                expected=f"{key}s {', '.join(wanted)}",
                actual=", ".join(named) or "(none)",
            )


@check("E2", "a body with several violations reports each with a pointer", tag=Tag.CONVENTION)
def body_violations_all_reported(ctx: Context) -> None:
    network_id = ctx.network_id()
    body = valid_body(network_id)
    body.update({"method": {"protocol": "CARRIER_PIGEON"}, "retryLimit": -1, "dryRun": "yes"})
    exchange = ctx.request("POST", "/downlinks", json=body)
    errors = _errors(ctx, exchange)
    _expect_all(ctx, exchange, errors, "pointer", ["#/method", "#/retryLimit", "#/dryRun"])
    _nothing_stored(ctx, network_id, "an invalid create")


@check("E2", "query parameter violations are reported each by parameter", tag=Tag.CONVENTION)
def query_violations_all_reported(ctx: Context) -> None:
    params = {"q": "", "createdSince": "yesterday", "modifiedBefore": "2025-13-45"}
    exchange = ctx.request("GET", "/downlinks", params=params)
    errors = _errors(ctx, exchange)
    _expect_all(ctx, exchange, errors, "parameter", ["q", "createdSince", "modifiedBefore"])


@check("E2", "a bad `forced` value is reported by parameter", tag=Tag.CONVENTION)
def forced_violation_reported(ctx: Context) -> None:
    created = ctx.create()
    exchange = ctx.request("DELETE", f"/downlinks/{created['id']}", params={"forced": "maybe"})
    _expect_all(ctx, exchange, _errors(ctx, exchange), "parameter", ["forced"])


# -- E3 ------------------------------------------------------------------------------------


@check("E3", "malformed JSON is 400 and stores nothing", tag=Tag.CONVENTION)
def malformed_json_is_400(ctx: Context) -> None:
    network_id = ctx.network_id()
    text = json.dumps(valid_body(network_id))[:-1]  # the closing brace cut off
    exchange = ctx.request(
        "POST", "/downlinks", content=text.encode(), headers={"Content-Type": "application/json"}
    )
    ctx.expect_problem(exchange, 400)
    _nothing_stored(ctx, network_id, "a malformed body")


@check("E3", "a body that is not application/json is 415 and stores nothing", tag=Tag.CONVENTION)
def wrong_content_type_is_415(ctx: Context) -> None:
    network_id = ctx.network_id()
    body = json.dumps(valid_body(network_id)).encode()
    for media in ("text/plain", "application/x-www-form-urlencoded"):
        exchange = ctx.request("POST", "/downlinks", content=body, headers={"Content-Type": media})
        ctx.expect_problem(exchange, 415)
    _nothing_stored(ctx, network_id, "a non-JSON body")


@check("E3", "an unknown path is 404 with or without a token", tag=Tag.CONVENTION)
def unknown_path_is_404(ctx: Context) -> None:
    for path in (f"/contract-{ctx.run_id}-nowhere", "/downlinks/x/y", "/downlink"):
        tokens: tuple[Any, ...] = (..., None)  # ...: the target's token; None: no token
        for token in tokens:
            ctx.expect_problem(ctx.request("GET", path, token=token), 404)


@check("E3", "a known path with another method is 405 with Allow", tag=Tag.CONVENTION)
def wrong_method_is_405_with_allow(ctx: Context) -> None:
    created = ctx.create()
    for method, path, allowed in (
        ("PUT", "/downlinks", {"GET", "POST"}),
        ("PATCH", f"/downlinks/{created['id']}", {"GET", "DELETE"}),
        ("POST", f"/downlinks/{created['id']}", {"GET", "DELETE"}),
    ):
        exchange = ctx.request(method, path, json={})
        ctx.expect_problem(exchange, 405)
        header = exchange.response.headers.get("allow")
        given = {m.strip().upper() for m in (header or "").split(",") if m.strip()}
        if not allowed <= given or method in given:
            ctx.fail(
                f"{method} {path} answers 405 without a fitting Allow header",
                exchange,
                expected=f"Allow listing {', '.join(sorted(allowed))}",
                actual=f"Allow: {header}" if header is not None else "no Allow header",
            )


@check("E3", "a body over 1 MiB is 413 and stores nothing", tag=Tag.MOCK)
def oversized_body_is_413(ctx: Context) -> None:
    network_id = ctx.network_id()
    body = valid_body(network_id)
    body["instruction"].append({"n": "y", "vs": "x" * LARGE_BODY_BYTES})
    exchange = ctx.request("POST", "/downlinks", json=body)
    ctx.expect_problem(exchange, 413)
    _nothing_stored(ctx, network_id, "an oversized body")
