"""Group C, validation: what `POST /downlinks` accepts and refuses (C1-C5).

Each bound is checked from both sides. A refused create must leave no trace: after each
refusal the check lists the body's own device id (K1) and expects nothing. What a create
stores and answers (C6-C9) is `contract_tests.checks.created`.
"""

from __future__ import annotations

from typing import Any

from contract_tests.context import Context, Exchange
from contract_tests.pages import fetch_page
from contract_tests.registry import Tag, check

__all__ = [
    "valid_body",
    "post_create",
    "nothing_stored",
    "expect_refused",
    "expect_accepted",
    "PROTOCOLS",
]

_UNSET: Any = ...  # Context's "the target's token"
PROTOCOLS = ("HTTP", "LORA", "MQTT", "SMS")


def valid_body(network_id: str, **fields: Any) -> dict[str, Any]:
    """A create body every rule accepts, for `network_id`, overridden by `fields`."""
    body: dict[str, Any] = {
        "instruction": [{"bn": network_id}, {"n": "x", "v": 1}],
        "method": {"protocol": "SMS"},
    }
    body.update(fields)
    return body


def post_create(ctx: Context, body: Any, *, token: Any = _UNSET) -> Exchange:
    return ctx.request("POST", "/downlinks", json=body, token=token)


def nothing_stored(ctx: Context, q: str, why: str, *, token: Any = _UNSET) -> None:
    """Fail if a list narrowed to `q` shows anything: a refused create stored a downlink."""
    exchange, page = fetch_page(ctx, {"q": q}, token=token)
    if page["items"]:
        ctx.fail(
            f"a refused create ({why}) stored a downlink anyway",
            exchange,
            expected=f"no downlink listed for q={q}",
            actual=", ".join(str(i.get("id")) for i in page["items"]),
        )


def expect_refused(
    ctx: Context, body: Any, why: str, *, scope: str | None, status: int = 400
) -> Exchange:
    """POST `body`; fail unless `status`; then, if `scope` is given (a q that would find
    the downlink the body describes), fail if one was stored."""
    exchange = post_create(ctx, body)
    if exchange.status != status:
        ctx.fail(
            f"{why}, yet the create was not refused",
            exchange,
            expected=str(status),
            actual=str(exchange.status),
        )
    if scope is not None:
        nothing_stored(ctx, scope, why)
    return exchange


def expect_accepted(ctx: Context, body: Any, why: str) -> dict[str, Any]:
    """POST `body`; fail unless 201; the created downlink."""
    exchange = post_create(ctx, body)
    if exchange.status != 201:
        ctx.fail(
            f"{why}, yet the create answered {exchange.status}",
            exchange,
            expected="201",
            actual=str(exchange.status),
        )
    created = exchange.json()
    if not isinstance(created, dict):
        ctx.fail("the created downlink is not a JSON object", exchange)
    return created


# -- C1: the request schema ---------------------------------------------------------------


@check("C1", "instruction and method are required", tag=Tag.SPEC)
def instruction_and_method_required(ctx: Context) -> None:
    nid = ctx.network_id()
    expect_refused(ctx, {"method": {"protocol": "SMS"}}, "the body has no instruction", scope=None)
    expect_refused(ctx, valid_body(nid, instruction=None), "instruction is null", scope=nid)
    expect_refused(
        ctx, valid_body(nid, instruction={"bn": nid}), "instruction is no array", scope=nid
    )
    body = valid_body(nid)
    del body["method"]
    expect_refused(ctx, body, "the body has no method", scope=nid)
    expect_refused(ctx, valid_body(nid, method=None), "method is null", scope=nid)
    expect_refused(ctx, valid_body(nid, method="SMS"), "method is no object", scope=nid)


@check("C1", "method.protocol is one of HTTP, LORA, MQTT, SMS", tag=Tag.SPEC)
def protocol_one_of_four(ctx: Context) -> None:
    for protocol in PROTOCOLS:
        method: dict[str, Any] = {"protocol": protocol}
        if protocol == "LORA":
            method["fPort"] = 3  # the spec's example port
        expect_accepted(ctx, valid_body(ctx.network_id(), method=method), f"protocol {protocol}")
    for method in ({"protocol": "COAP"}, {"protocol": "sms"}, {"protocol": ""}, {}):
        nid = ctx.network_id()
        expect_refused(
            ctx, valid_body(nid, method=method), f"method {method} names no protocol", scope=nid
        )


@check("C1", "an unknown protocol's 400 names the four protocols", tag=Tag.MOCK)
def unknown_protocol_names_the_four(ctx: Context) -> None:
    nid = ctx.network_id()
    exchange = expect_refused(
        ctx, valid_body(nid, method={"protocol": "COAP"}), "protocol COAP", scope=nid
    )
    missing = [p for p in PROTOCOLS if p not in exchange.response.text]
    if missing:
        ctx.fail(
            "the 400 for an unknown protocol does not name the allowed ones",
            exchange,
            expected=", ".join(PROTOCOLS),
            actual=f"missing {', '.join(missing)}",
        )


@check("C1", "retryLimit is an integer >= 0", tag=Tag.SPEC)
def retry_limit_bounds(ctx: Context) -> None:
    for count in (0, 1, 7):
        expect_accepted(ctx, valid_body(ctx.network_id(), retryLimit=count), f"retryLimit {count}")
    wrong: tuple[object, ...] = (-1, 1.5, "1", True, None)
    for value in wrong:
        nid = ctx.network_id()
        expect_refused(
            ctx,
            valid_body(nid, retryLimit=value),
            f"retryLimit {value!r} is no integer >= 0",
            scope=nid,
        )


@check("C1", "dryRun is a boolean", tag=Tag.SPEC)
def dry_run_boolean(ctx: Context) -> None:
    expect_accepted(ctx, valid_body(ctx.network_id(), dryRun=False), "dryRun false")
    for value in ("true", 1, None):
        nid = ctx.network_id()
        expect_refused(
            ctx, valid_body(nid, dryRun=value), f"dryRun {value!r} is no boolean", scope=nid
        )


# -- C2: the device -----------------------------------------------------------------------


@check("C2", "the pack must hold a bn naming the device; an empty pack is refused", tag=Tag.SPEC)
def pack_needs_bn(ctx: Context) -> None:
    nid = ctx.network_id()
    # The device id rides in a value, so a wrongly stored downlink still shows under q.
    expect_refused(
        ctx, valid_body(nid, instruction=[{"n": "x", "vs": nid}]), "the pack has no bn", scope=nid
    )
    expect_refused(
        ctx,
        valid_body(nid, instruction=[{"bn": ""}, {"n": "x", "vs": nid}]),
        "the pack's bn is empty",
        scope=nid,
    )
    expect_refused(ctx, valid_body(nid, instruction=[]), "the pack is empty", scope=None)


@check("C2", "several bn must name one device", tag=Tag.MOCK)
def one_device_per_pack(ctx: Context) -> None:
    a, b = ctx.network_id(), ctx.network_id()
    pack = [{"bn": a}, {"n": "x", "v": 1}, {"bn": b}, {"n": "y", "v": 2}]
    expect_refused(ctx, valid_body(a, instruction=pack), "the pack names two devices", scope=a)
    nothing_stored(ctx, b, "the pack names two devices")
    same = [{"bn": a}, {"n": "x", "v": 1}, {"bn": a}, {"n": "y", "v": 2}]
    created = expect_accepted(ctx, valid_body(a, instruction=same), "two records with the same bn")
    if created.get("networkId") != a:
        ctx.fail(
            "a pack naming its device twice was stored under another networkId",
            expected=a,
            actual=repr(created.get("networkId")),
        )


# -- C3: SenML records --------------------------------------------------------------------


def _records(nid: str, *records: dict[str, Any]) -> dict[str, Any]:
    return valid_body(nid, instruction=[{"bn": nid}, *records])


@check(
    "C3",
    "full names use A-Z a-z 0-9 - : . / _ and start with a letter or digit",
    tag=Tag.CONVENTION,
)
def name_charset(ctx: Context) -> None:
    for name in ("Az09-:./_", "temperature", "a"):
        expect_accepted(ctx, _records(ctx.network_id(), {"n": name, "v": 1}), f"the name {name!r}")
    for name in ("a b", "x!", "t\u00e9", "x#1", "x?"):
        nid = ctx.network_id()
        expect_refused(
            ctx,
            _records(nid, {"n": name, "v": 1}),
            f"the name {name!r} has a forbidden character",
            scope=nid,
        )
    nid = ctx.network_id()
    # bn + n = "-urn:...x": the full name starts with "-".
    body = valid_body(nid, instruction=[{"bn": "-" + nid}, {"n": "x", "v": 1}])
    expect_refused(ctx, body, "the full name starts with '-'", scope=nid)


@check("C3", "a named record carries one value at most, and a value or a sum", tag=Tag.CONVENTION)
def value_rules(ctx: Context) -> None:
    accepted: list[tuple[str, list[dict[str, Any]]]] = [
        ("a sum alone", [{"n": "x", "s": 2}]),
        ("a value beside a sum", [{"n": "x", "v": 1, "s": 2}]),
        ("a string value", [{"n": "x", "vs": "on"}]),
        ("a boolean value", [{"n": "x", "vb": False}]),
        ("base fields alone", []),
    ]
    for why, records in accepted:
        expect_accepted(ctx, _records(ctx.network_id(), *records), why)
    refused: list[tuple[str, dict[str, Any]]] = [
        ("v and vs", {"n": "x", "v": 1, "vs": "a"}),
        ("v and vb", {"n": "x", "v": 1, "vb": True}),
        ("vs and vd", {"n": "x", "vs": "a", "vd": "aGk"}),
        ("no value and no sum", {"n": "x"}),
        ("no value and no sum, a unit only", {"n": "x", "u": "Cel"}),
    ]
    for why, record in refused:
        nid = ctx.network_id()
        expect_refused(ctx, _records(nid, record), f"a named record with {why}", scope=nid)


@check("C3", "bver, where given, is one positive integer", tag=Tag.CONVENTION)
def bver_rules(ctx: Context) -> None:
    nid = ctx.network_id()
    expect_accepted(
        ctx,
        valid_body(nid, instruction=[{"bn": nid, "bver": 10}, {"n": "x", "v": 1, "bver": 10}]),
        "bver 10 in every record",
    )
    nid = ctx.network_id()
    expect_accepted(
        ctx,
        valid_body(nid, instruction=[{"bn": nid, "bver": 10}, {"n": "x", "v": 1}]),
        "bver 10 in the first record only",
    )
    for why, versions in (("two bver values", (10, 11)), ("bver 0", (0, 0)), ("bver -1", (-1, -1))):
        nid = ctx.network_id()
        pack = [{"bn": nid, "bver": versions[0]}, {"n": "x", "v": 1, "bver": versions[1]}]
        expect_refused(ctx, valid_body(nid, instruction=pack), why, scope=nid)


@check(
    "C3",
    "an unknown label ending in _ is refused (must-understand); i_ is understood",
    tag=Tag.CONVENTION,
)
def must_understand_labels(ctx: Context) -> None:
    expect_accepted(ctx, _records(ctx.network_id(), {"n": "x", "v": 1, "i_": 5}), "the label i_")
    expect_accepted(
        ctx, _records(ctx.network_id(), {"n": "x", "v": 1, "foo": 1}), "an unknown label foo"
    )
    for label in ("foo_", "x_"):
        nid = ctx.network_id()
        expect_refused(
            ctx,
            _records(nid, {"n": "x", "v": 1, label: 1}),
            f"the must-understand label {label} is not understood",
            scope=nid,
        )


@check("C3", "vd is taken as base64url without padding and as padded base64", tag=Tag.MOCK)
def data_value_encodings(ctx: Context) -> None:
    for value in ("aGVsbG8", "aGVsbG8=", "aGk", "aGk="):
        expect_accepted(ctx, _records(ctx.network_id(), {"n": "x", "vd": value}), f"vd {value!r}")


# -- C4: feedbackTimeout ------------------------------------------------------------------


@check(
    "C4", "feedbackTimeout follows the SimpleDuration pattern and is >= 10 minutes", tag=Tag.SPEC
)
def feedback_timeout_bounds(ctx: Context) -> None:
    for value in ("PT10M", "PT600S", "P1DT", "PT24H", "P3DT4H5M6.5S", "PT10M0.001S"):
        expect_accepted(
            ctx, valid_body(ctx.network_id(), feedbackTimeout=value), f"feedbackTimeout {value}"
        )
    for value, why in (
        ("PT9M59S", "under 10 minutes"),
        ("PT599S", "under 10 minutes"),
        ("PT599.999S", "under 10 minutes"),
        ("PT0S", "zero"),
        ("P1D", "a day count without the T the pattern demands"),
        ("PT10m", "a lower-case unit"),
        ("10 minutes", "no duration"),
        ("", "empty"),
    ):
        nid = ctx.network_id()
        expect_refused(
            ctx,
            valid_body(nid, feedbackTimeout=value),
            f"feedbackTimeout {value!r} is {why}",
            scope=nid,
        )


@check("C4", "the 400 for P1D says to write P1DT or PT24H", tag=Tag.MOCK)
def day_duration_hint(ctx: Context) -> None:
    nid = ctx.network_id()
    exchange = expect_refused(
        ctx, valid_body(nid, feedbackTimeout="P1D"), "feedbackTimeout P1D", scope=nid
    )
    missing = [hint for hint in ("P1DT", "PT24H") if hint not in exchange.response.text]
    if missing:
        ctx.fail(
            "the 400 for P1D does not say how to write a day",
            exchange,
            expected="the text names P1DT and PT24H",
            actual=f"missing {', '.join(missing)}",
        )


# -- C5: LoRa ports -----------------------------------------------------------------------


@check("C5", "LORA takes fPort 1..223", tag=Tag.MOCK)
def lora_port_bounds(ctx: Context) -> None:
    for port in (1, 223):
        method = {"protocol": "LORA", "fPort": port}
        expect_accepted(ctx, valid_body(ctx.network_id(), method=method), f"fPort {port}")
    for port in (0, 224, -1):
        nid = ctx.network_id()
        method = {"protocol": "LORA", "fPort": port}
        expect_refused(
            ctx, valid_body(nid, method=method), f"fPort {port} is outside 1..223", scope=nid
        )
    expect_accepted(
        ctx, valid_body(ctx.network_id(), method={"protocol": "MQTT"}), "MQTT without a topic"
    )
