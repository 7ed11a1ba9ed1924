"""Both sides of a bound, and the near misses of an exact rule (E3, C6, X5).

A number, size or duration in behaviour.md is probed at the value, one step inside and one
step outside; a rule that says "exactly" or "unique" is tried with the values a careless
implementation would let through or refuse: another case, one character more or less,
surrounding white space. The older checks probe the far sides (a 2 MiB body, `forced=yes`);
these probe the edge itself.
"""

from __future__ import annotations

import json

from contract_tests.checks.cancel import read
from contract_tests.checks.create import valid_body
from contract_tests.context import Context, Exchange
from contract_tests.pages import fetch_page, marker
from contract_tests.registry import Tag, check

__all__ = ["BODY_LIMIT", "padded_body"]

BODY_LIMIT = 1024 * 1024  # E3: 1 MiB, in bytes; a body of this size is taken, one more is 413


def padded_body(network_id: str, size: int) -> bytes:
    """A valid create body for `network_id`, padded with trailing white space (which JSON
    ignores) to exactly `size` bytes."""
    text = json.dumps(valid_body(network_id)).encode()
    if len(text) > size:
        raise ValueError(f"a create body needs {len(text)} bytes, more than {size}")
    return text + b" " * (size - len(text))


def _post_raw(ctx: Context, body: bytes) -> Exchange:
    return ctx.request(
        "POST", "/downlinks", content=body, headers={"Content-Type": "application/json"}
    )


@check("E3", "a body of 1 MiB and one byte under is taken; one byte over is 413", tag=Tag.MOCK)
def body_size_boundary(ctx: Context) -> None:
    for size in (BODY_LIMIT - 1, BODY_LIMIT):
        exchange = _post_raw(ctx, padded_body(ctx.network_id(), size))
        if exchange.status != 201:
            ctx.fail(
                f"a valid create of {size} bytes (1 MiB is {BODY_LIMIT}) was not taken",
                exchange,
                expected="201: the limit refuses only bodies over 1 MiB",
                actual=str(exchange.status),
            )
    network_id = ctx.network_id()
    exchange = _post_raw(ctx, padded_body(network_id, BODY_LIMIT + 1))
    ctx.expect_problem(exchange, 413)
    listed, page = fetch_page(ctx, {"q": network_id})
    if page["items"]:
        ctx.fail(
            "a body one byte over 1 MiB was refused, yet a downlink was stored",
            listed,
            expected=f"nothing listed for q={network_id}",
            actual=f"{len(page['items'])} listed",
        )


def _near_references(reference: str) -> list[tuple[str, str]]:
    """References that differ from `reference` in ways an inexact comparison would miss."""
    return [
        (reference.upper(), "upper case"),
        (reference.lower(), "lower case"),
        (reference.swapcase(), "every letter's case swapped"),
        (reference[:-1], "one character shorter"),
        (reference + "0", "one character longer"),
        (reference.replace("-", "_"), "_ for -"),
    ]


@check("C6", "externalReference is compared exactly: its near misses are free", tag=Tag.SPEC)
def reference_near_misses(ctx: Context) -> None:
    reference = f"Ref-{marker(ctx)}"
    ctx.create(externalReference=reference)
    for near, how in _near_references(reference):
        body = valid_body(ctx.network_id(), externalReference=near)
        exchange = ctx.request("POST", "/downlinks", json=body)
        if exchange.status != 201:
            ctx.fail(
                f"externalReference {near!r} ({how}) was refused as if {reference!r} held it",
                exchange,
                expected="201: uniqueness compares references exactly",
                actual=str(exchange.status),
            )
    exchange = ctx.request(
        "POST", "/downlinks", json=valid_body(ctx.network_id(), externalReference=reference)
    )
    ctx.expect_problem(exchange, 409)


# The near misses of `true` and `false`: white space, one letter less or more, other case.
FORCED_NEAR_MISSES = (" true", "true ", "true\t", "\ntrue", "tru", "truee", "True", "false ")


@check("X5", "forced's near misses (white space, a letter off, case) are refused", tag=Tag.SPEC)
def forced_near_misses(ctx: Context) -> None:
    created = ctx.create()
    for value in FORCED_NEAR_MISSES:
        exchange = ctx.request("DELETE", f"/downlinks/{created['id']}", params={"forced": value})
        if exchange.status != 400:
            ctx.fail(
                f"forced={value!r} is not exactly true or false, yet was not refused",
                exchange,
                expected="400",
                actual=str(exchange.status),
            )
        after_exchange, after = read(ctx, created["id"])
        if after.get("status") == "CANCELLED":
            ctx.fail(
                f"a cancel refused for forced={value!r} cancelled the downlink",
                after_exchange,
                expected="not CANCELLED",
                actual="CANCELLED",
            )
    # One step back inside: the exact values still work.
    exchange = ctx.request("DELETE", f"/downlinks/{created['id']}", params={"forced": "false"})
    if exchange.status not in (202, 409):
        ctx.fail(
            "forced=false was not taken", exchange, expected="202", actual=str(exchange.status)
        )


# Parameter names one step off a declared one, as a typing slip would send them.
_UNDECLARED = {
    "/downlinks": ("createdAfter", "Limit", "q "),
    "/downlinks/{id}": ("forced", "expand"),
}


@check("E2", "a query parameter the operation does not declare is 400 naming it", tag=Tag.MOCK)
def undeclared_parameters_refused(ctx: Context) -> None:
    created = ctx.create()
    asks: list[tuple[str, str, str]] = [
        ("GET", "/downlinks", name) for name in _UNDECLARED["/downlinks"]
    ]
    asks += [("GET", f"/downlinks/{created['id']}", n) for n in _UNDECLARED["/downlinks/{id}"]]
    asks.append(("DELETE", f"/downlinks/{created['id']}", "force"))
    for method, path, name in asks:
        exchange = ctx.request(method, path, params={name: "1"})
        if exchange.status != 400:
            ctx.fail(
                f"{method} {path} took the undeclared query parameter {name!r}",
                exchange,
                expected="400 naming the parameter (a typo must not pass unseen)",
                actual=str(exchange.status),
            )
        problem = ctx.expect_problem(exchange, 400)
        named = [e.get("parameter") for e in problem.get("errors", []) if isinstance(e, dict)]
        if name not in named:
            ctx.fail(
                f"the 400 for the undeclared parameter {name!r} does not name it",
                exchange,
                expected=f"errors[].parameter = {name!r}",
                actual=repr(named),
            )
    _, after = read(ctx, created["id"])
    if after.get("status") == "CANCELLED":
        ctx.fail(
            "a refused cancel (undeclared parameter) cancelled the downlink", actual="CANCELLED"
        )
