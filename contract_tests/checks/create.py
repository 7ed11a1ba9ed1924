"""Group C: what `POST /downlinks` accepts, refuses, stores and answers (C1-C9).

Each bound is checked from both sides. A refused create must leave no trace: after each
refusal the check lists the body's own device id (K1) and expects nothing.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NoReturn
from urllib.parse import urljoin, urlsplit

from contract_tests import oracle
from contract_tests.context import Context, Exchange
from contract_tests.pages import compact_json, fetch_page, marker, pack_with
from contract_tests.registry import Mode, Skip, Tag, check

__all__ = ["valid_body"]

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


def _post(ctx: Context, body: Any, *, token: Any = _UNSET) -> Exchange:
    return ctx.request("POST", "/downlinks", json=body, token=token)


def _nothing_stored(ctx: Context, q: str, why: str, *, token: Any = _UNSET) -> None:
    """Fail if a list narrowed to `q` shows anything: a refused create stored a downlink."""
    exchange, page = fetch_page(ctx, {"q": q}, token=token)
    if page["items"]:
        ctx.fail(
            f"a refused create ({why}) stored a downlink anyway",
            exchange,
            expected=f"no downlink listed for q={q}",
            actual=", ".join(str(i.get("id")) for i in page["items"]),
        )


def _refused(
    ctx: Context, body: Any, why: str, *, scope: str | None, status: int = 400
) -> Exchange:
    """POST `body`; fail unless `status`; then, if `scope` is given (a q that would find
    the downlink the body describes), fail if one was stored."""
    exchange = _post(ctx, body)
    if exchange.status != status:
        ctx.fail(
            f"{why}, yet the create was not refused",
            exchange,
            expected=str(status),
            actual=str(exchange.status),
        )
    if scope is not None:
        _nothing_stored(ctx, scope, why)
    return exchange


def _accepted(ctx: Context, body: Any, why: str) -> dict[str, Any]:
    """POST `body`; fail unless 201; the created downlink."""
    exchange = _post(ctx, body)
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
    _refused(ctx, {"method": {"protocol": "SMS"}}, "the body has no instruction", scope=None)
    _refused(ctx, valid_body(nid, instruction=None), "instruction is null", scope=nid)
    _refused(ctx, valid_body(nid, instruction={"bn": nid}), "instruction is no array", scope=nid)
    body = valid_body(nid)
    del body["method"]
    _refused(ctx, body, "the body has no method", scope=nid)
    _refused(ctx, valid_body(nid, method=None), "method is null", scope=nid)
    _refused(ctx, valid_body(nid, method="SMS"), "method is no object", scope=nid)


@check("C1", "method.protocol is one of HTTP, LORA, MQTT, SMS", tag=Tag.SPEC)
def protocol_one_of_four(ctx: Context) -> None:
    for protocol in PROTOCOLS:
        method: dict[str, Any] = {"protocol": protocol}
        if protocol == "LORA":
            method["fPort"] = 3  # the spec's example port
        _accepted(ctx, valid_body(ctx.network_id(), method=method), f"protocol {protocol}")
    for method in ({"protocol": "COAP"}, {"protocol": "sms"}, {"protocol": ""}, {}):
        nid = ctx.network_id()
        _refused(
            ctx, valid_body(nid, method=method), f"method {method} names no protocol", scope=nid
        )


@check("C1", "an unknown protocol's 400 names the four protocols", tag=Tag.MOCK)
def unknown_protocol_names_the_four(ctx: Context) -> None:
    nid = ctx.network_id()
    exchange = _refused(
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
    for value in (0, 1, 7):
        _accepted(ctx, valid_body(ctx.network_id(), retryLimit=value), f"retryLimit {value}")
    for value in (-1, 1.5, "1", True, None):
        nid = ctx.network_id()
        _refused(
            ctx,
            valid_body(nid, retryLimit=value),
            f"retryLimit {value!r} is no integer >= 0",
            scope=nid,
        )


@check("C1", "dryRun is a boolean", tag=Tag.SPEC)
def dry_run_boolean(ctx: Context) -> None:
    _accepted(ctx, valid_body(ctx.network_id(), dryRun=False), "dryRun false")
    for value in ("true", 1, None):
        nid = ctx.network_id()
        _refused(ctx, valid_body(nid, dryRun=value), f"dryRun {value!r} is no boolean", scope=nid)


# -- C2: the device -----------------------------------------------------------------------


@check("C2", "the pack must hold a bn naming the device; an empty pack is refused", tag=Tag.SPEC)
def pack_needs_bn(ctx: Context) -> None:
    nid = ctx.network_id()
    # The device id rides in a value, so a wrongly stored downlink still shows under q.
    _refused(
        ctx, valid_body(nid, instruction=[{"n": "x", "vs": nid}]), "the pack has no bn", scope=nid
    )
    _refused(
        ctx,
        valid_body(nid, instruction=[{"bn": ""}, {"n": "x", "vs": nid}]),
        "the pack's bn is empty",
        scope=nid,
    )
    _refused(ctx, valid_body(nid, instruction=[]), "the pack is empty", scope=None)


@check("C2", "several bn must name one device", tag=Tag.MOCK)
def one_device_per_pack(ctx: Context) -> None:
    a, b = ctx.network_id(), ctx.network_id()
    pack = [{"bn": a}, {"n": "x", "v": 1}, {"bn": b}, {"n": "y", "v": 2}]
    _refused(ctx, valid_body(a, instruction=pack), "the pack names two devices", scope=a)
    _nothing_stored(ctx, b, "the pack names two devices")
    same = [{"bn": a}, {"n": "x", "v": 1}, {"bn": a}, {"n": "y", "v": 2}]
    created = _accepted(ctx, valid_body(a, instruction=same), "two records with the same bn")
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
        _accepted(ctx, _records(ctx.network_id(), {"n": name, "v": 1}), f"the name {name!r}")
    for name in ("a b", "x!", "t\u00e9", "x#1", "x?"):
        nid = ctx.network_id()
        _refused(
            ctx,
            _records(nid, {"n": name, "v": 1}),
            f"the name {name!r} has a forbidden character",
            scope=nid,
        )
    nid = ctx.network_id()
    # bn + n = "-urn:...x": the full name starts with "-".
    body = valid_body(nid, instruction=[{"bn": "-" + nid}, {"n": "x", "v": 1}])
    _refused(ctx, body, "the full name starts with '-'", scope=nid)


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
        _accepted(ctx, _records(ctx.network_id(), *records), why)
    refused: list[tuple[str, dict[str, Any]]] = [
        ("v and vs", {"n": "x", "v": 1, "vs": "a"}),
        ("v and vb", {"n": "x", "v": 1, "vb": True}),
        ("vs and vd", {"n": "x", "vs": "a", "vd": "aGk"}),
        ("no value and no sum", {"n": "x"}),
        ("no value and no sum, a unit only", {"n": "x", "u": "Cel"}),
    ]
    for why, record in refused:
        nid = ctx.network_id()
        _refused(ctx, _records(nid, record), f"a named record with {why}", scope=nid)


@check("C3", "bver, where given, is one positive integer", tag=Tag.CONVENTION)
def bver_rules(ctx: Context) -> None:
    nid = ctx.network_id()
    _accepted(
        ctx,
        valid_body(nid, instruction=[{"bn": nid, "bver": 10}, {"n": "x", "v": 1, "bver": 10}]),
        "bver 10 in every record",
    )
    nid = ctx.network_id()
    _accepted(
        ctx,
        valid_body(nid, instruction=[{"bn": nid, "bver": 10}, {"n": "x", "v": 1}]),
        "bver 10 in the first record only",
    )
    for why, versions in (("two bver values", (10, 11)), ("bver 0", (0, 0)), ("bver -1", (-1, -1))):
        nid = ctx.network_id()
        pack = [{"bn": nid, "bver": versions[0]}, {"n": "x", "v": 1, "bver": versions[1]}]
        _refused(ctx, valid_body(nid, instruction=pack), why, scope=nid)


@check(
    "C3",
    "an unknown label ending in _ is refused (must-understand); i_ is understood",
    tag=Tag.CONVENTION,
)
def must_understand_labels(ctx: Context) -> None:
    _accepted(ctx, _records(ctx.network_id(), {"n": "x", "v": 1, "i_": 5}), "the label i_")
    _accepted(ctx, _records(ctx.network_id(), {"n": "x", "v": 1, "foo": 1}), "an unknown label foo")
    for label in ("foo_", "x_"):
        nid = ctx.network_id()
        _refused(
            ctx,
            _records(nid, {"n": "x", "v": 1, label: 1}),
            f"the must-understand label {label} is not understood",
            scope=nid,
        )


@check("C3", "vd is taken as base64url without padding and as padded base64", tag=Tag.MOCK)
def data_value_encodings(ctx: Context) -> None:
    for value in ("aGVsbG8", "aGVsbG8=", "aGk", "aGk="):
        _accepted(ctx, _records(ctx.network_id(), {"n": "x", "vd": value}), f"vd {value!r}")


# -- C4: feedbackTimeout ------------------------------------------------------------------


@check(
    "C4", "feedbackTimeout follows the SimpleDuration pattern and is >= 10 minutes", tag=Tag.SPEC
)
def feedback_timeout_bounds(ctx: Context) -> None:
    for value in ("PT10M", "PT600S", "P1DT", "PT24H", "P3DT4H5M6.5S", "PT10M0.001S"):
        _accepted(
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
        _refused(
            ctx,
            valid_body(nid, feedbackTimeout=value),
            f"feedbackTimeout {value!r} is {why}",
            scope=nid,
        )


@check("C4", "the 400 for P1D says to write P1DT or PT24H", tag=Tag.MOCK)
def day_duration_hint(ctx: Context) -> None:
    nid = ctx.network_id()
    exchange = _refused(
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
        _accepted(ctx, valid_body(ctx.network_id(), method=method), f"fPort {port}")
    for port in (0, 224, -1):
        nid = ctx.network_id()
        method = {"protocol": "LORA", "fPort": port}
        _refused(ctx, valid_body(nid, method=method), f"fPort {port} is outside 1..223", scope=nid)
    _accepted(
        ctx, valid_body(ctx.network_id(), method={"protocol": "MQTT"}), "MQTT without a topic"
    )


# -- C6: externalReference ----------------------------------------------------------------


def _reference(ctx: Context) -> str:
    return marker(ctx, "ref-")


def _conflict(ctx: Context, nid: str, reference: str, why: str, *, token: Any = _UNSET) -> None:
    exchange = _post(ctx, valid_body(nid, externalReference=reference), token=token)
    if exchange.status != 409:
        ctx.fail(
            f"a second create with externalReference {reference!r} ({why}) was not refused",
            exchange,
            expected="409",
            actual=str(exchange.status),
        )
    ctx.expect_problem(exchange, 409)
    _nothing_stored(ctx, nid, "its externalReference was taken", token=token)


@check("C6", "externalReference is unique per client, whatever the holder's status", tag=Tag.SPEC)
def reference_unique(ctx: Context) -> None:
    reference = _reference(ctx)
    held = ctx.create(externalReference=reference)
    _conflict(ctx, ctx.network_id(), reference, "held by a PENDING downlink")
    # Cancelled (or moved on by the target): the reference stays taken.
    ctx.request("DELETE", f"/downlinks/{held['id']}")
    _conflict(ctx, ctx.network_id(), reference, "held by a cancelled downlink")


@check(
    "C6",
    "externalReference stays taken by a FAILED or DELIVERED downlink",
    tag=Tag.SPEC,
    mode=Mode.FULL,
)
def reference_unique_in_terminal_states(ctx: Context) -> None:
    for status in ("FAILED", "DELIVERED"):
        reference = _reference(ctx)
        held = ctx.create(externalReference=reference)
        for step in oracle.path_to(status):
            ctx.transition(held["id"], step)
        _conflict(ctx, ctx.network_id(), reference, f"held by a {status} downlink")


@check("C6", "another client may reuse an externalReference", tag=Tag.SPEC)
def reference_per_client(ctx: Context) -> None:
    other = ctx.target.other_tenant_token
    if other is None:
        raise Skip("needs a token of a second client (other tenant)")
    reference = _reference(ctx)
    ctx.create(externalReference=reference)
    ctx.create(externalReference=reference, token=other)
    _conflict(ctx, ctx.network_id(), reference, "the second client's own", token=other)


@check("C6", "of concurrent creates with one externalReference exactly one succeeds", tag=Tag.SPEC)
def reference_under_concurrency(ctx: Context) -> None:
    reference, common = _reference(ctx), marker(ctx)
    bodies = []
    for _ in range(8):
        nid = ctx.network_id()
        bodies.append(
            valid_body(nid, externalReference=reference, instruction=pack_with(nid, common))
        )
    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        exchanges = list(pool.map(lambda body: _post(ctx, body), bodies))
    statuses = [e.status for e in exchanges]
    created = [e for e in exchanges if e.status == 201]
    if len(created) != 1 or sorted(statuses) != [201] + [409] * (len(bodies) - 1):
        ctx.fail(
            f"{len(bodies)} concurrent creates with one externalReference did not give one 201 "
            "and 409 for the rest",
            (created or exchanges)[-1],
            expected=f"one 201, {len(bodies) - 1} x 409",
            actual=", ".join(str(s) for s in statuses),
        )
    winner = created[0].json()
    exchange, page = fetch_page(ctx, {"q": common})
    stored = [i.get("id") for i in page["items"]]
    if stored != [winner.get("id")]:
        ctx.fail(
            "concurrent creates with one externalReference stored other than the one that "
            "answered 201",
            exchange,
            expected=str(winner.get("id")),
            actual=", ".join(map(str, stored)) or "none",
        )


# -- C7: the answer -----------------------------------------------------------------------


def _is_uuid(value: Any) -> bool:
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


@check("C7", "201 with Location /downlinks/{id} and the new downlink", tag=Tag.CONVENTION)
def created_answer(ctx: Context) -> None:
    nid = ctx.network_id()
    reference = _reference(ctx)
    instruction = [
        {"bn": nid, "bu": "Cel"},
        {"n": "temperature", "v": 23.1},
        {"n": "label", "vs": 'a b, "c"'},
        {"n": "on", "vb": True},
    ]
    exchange = _post(ctx, valid_body(nid, instruction=instruction, externalReference=reference))
    if exchange.status != 201:
        ctx.fail(
            "a valid create did not answer 201",
            exchange,
            expected="201",
            actual=str(exchange.status),
        )
    body = exchange.json()
    if not isinstance(body, dict):
        ctx.fail("the created downlink is not a JSON object", exchange)

    def wrong(what: str, expected: str, actual: Any) -> NoReturn:
        ctx.fail(f"the created downlink's {what}", exchange, expected=expected, actual=repr(actual))

    if not _is_uuid(body.get("id")):
        wrong(
            "id is not a UUID", "a UUID like 12345678-1234-1234-1234-123456789012", body.get("id")
        )
    location = exchange.response.headers.get("location")
    wanted = urlsplit(ctx.target.base_url).path + f"/downlinks/{body['id']}"
    if location is None or urlsplit(urljoin(str(exchange.request.url), location)).path != wanted:
        ctx.fail(
            "the create's Location does not name the new downlink",
            exchange,
            expected=f"Location: {wanted}",
            actual=f"Location: {location}",
        )
    if body.get("networkId") != nid:
        wrong("networkId is not the pack's bn", nid, body.get("networkId"))
    if body.get("externalReference") != reference:
        wrong("externalReference is not the one sent", reference, body.get("externalReference"))
    if body.get("status") != "PENDING":
        wrong("status is not PENDING", "PENDING", body.get("status"))
    message = body.get("message")
    try:
        parsed = json.loads(message) if isinstance(message, str) else None
    except ValueError:
        parsed = None
    if parsed != instruction or message != compact_json(parsed):
        wrong("message is not the instruction as compact JSON", compact_json(instruction), message)
    try:
        created, modified = (
            oracle.parse_time(body["createdAt"]),
            oracle.parse_time(body["modifiedAt"]),
        )
    except (KeyError, ValueError):
        wrong("createdAt/modifiedAt are missing or unreadable", "RFC 3339 date-times", body)
    if created != modified:
        wrong("createdAt and modifiedAt differ", body.get("createdAt"), body.get("modifiedAt"))
    logs = body.get("logs")
    if (
        not isinstance(logs, list)
        or len(logs) != 1
        or not isinstance(logs[0], dict)
        or logs[0].get("event") != "DOWNLINK_ACCEPTED"
    ):
        wrong(
            "logs are not one DOWNLINK_ACCEPTED entry",
            '[{"createdAt": ..., "event": "DOWNLINK_ACCEPTED"}]',
            logs,
        )
    try:
        logged = oracle.parse_time(logs[0].get("createdAt"))
    except ValueError:
        logged = None
    if logged != created:
        wrong(
            "DOWNLINK_ACCEPTED entry is not at createdAt",
            body["createdAt"],
            logs[0].get("createdAt"),
        )
    read = ctx.request("GET", urljoin(str(exchange.request.url), location))
    ctx.expect_status(read, 200)
    if read.json().get("id") != body["id"]:
        ctx.fail("GET of the Location is another downlink", read, expected=body["id"])
    second = ctx.create(nid)
    if second.get("id") == body["id"]:
        ctx.fail("two creates got one id", expected="a new UUID each time", actual=body["id"])


@check("C7", "createdAt is the target's now (M5)", tag=Tag.CONVENTION, mode=Mode.FULL)
def created_at_is_now(ctx: Context) -> None:
    before = oracle.parse_time(ctx.clock()["now"])
    created = ctx.create()
    after = oracle.parse_time(ctx.clock()["now"])
    at = oracle.parse_time(created["createdAt"])
    if not before <= at <= after:
        ctx.fail(
            "createdAt is not the target's clock at the create",
            expected=f"between {oracle.format_time(before)} and {oracle.format_time(after)}",
            actual=created["createdAt"],
        )


# -- C8: dry runs -------------------------------------------------------------------------


@check("C8", "dryRun validates and answers 201 without storing or taking a reference", tag=Tag.MOCK)
def dry_run(ctx: Context) -> None:
    nid, reference = ctx.network_id(), _reference(ctx)
    exchange = _post(ctx, valid_body(nid, dryRun=True, externalReference=reference))
    if exchange.status != 201:
        ctx.fail(
            "a valid dry run did not answer 201",
            exchange,
            expected="201",
            actual=str(exchange.status),
        )
    if "location" in exchange.response.headers:
        ctx.fail("a dry run answered a Location", exchange, expected="no Location header")
    body = exchange.json()
    if (
        not isinstance(body, dict)
        or body.get("status") != "PENDING"
        or body.get("networkId") != nid
    ):
        ctx.fail(
            "a dry run's answer is not the downlink as it would be",
            exchange,
            expected=f"status PENDING, networkId {nid}",
            actual=repr(body)[:200],
        )
    got = ctx.request("GET", f"/downlinks/{body.get('id')}")
    if got.status != 404:
        ctx.fail("a dry run's downlink can be read", got, expected="404", actual=str(got.status))
    _nothing_stored(ctx, nid, "a dry run")
    # No uniqueness slot was taken: the reference is free for a real create.
    ctx.create(nid, externalReference=reference)
    second = ctx.network_id()
    _refused(
        ctx,
        valid_body(second, dryRun=True, externalReference=reference),
        "a dry run with a taken externalReference",
        scope=second,
        status=409,
    )
    third = ctx.network_id()
    _refused(
        ctx,
        valid_body(third, dryRun=True, retryLimit=-1),
        "a dry run with retryLimit -1",
        scope=third,
    )


# -- C9: read-only fields -----------------------------------------------------------------


@check("C9", "read-only fields sent by the client are ignored", tag=Tag.CONVENTION)
def read_only_ignored(ctx: Context) -> None:
    nid, sent_id = ctx.network_id(), str(uuid.uuid4())
    long_ago = "2001-02-03T04:05:06.007Z"
    body = valid_body(
        nid,
        id=sent_id,
        status="DELIVERED",
        createdAt=long_ago,
        modifiedAt=long_ago,
        logs=[{"createdAt": long_ago, "event": "DOWNLINK_DELIVERED"}],
    )
    exchange = _post(ctx, body)
    if exchange.status != 201:
        ctx.fail(
            "a create carrying read-only fields was not accepted (they are to be ignored)",
            exchange,
            expected="201",
            actual=str(exchange.status),
        )
    created = exchange.json()
    stored = ctx.request("GET", f"/downlinks/{created.get('id')}")
    ctx.expect_status(stored, 200)
    # The stored downlink may have progressed on a real target: its status and log count
    # are judged on the create's answer only.
    for name, shown, shown_by, fresh in (
        ("the answer", created, exchange, True),
        ("the stored downlink", stored.json(), stored, False),
    ):
        sent = {"id": sent_id, "createdAt": long_ago, "modifiedAt": long_ago}
        if fresh:
            sent["status"] = "DELIVERED"
        taken = [f"{k}={shown.get(k)!r}" for k, v in sent.items() if shown.get(k) == v]
        logs = shown.get("logs") or []
        if any(isinstance(e, dict) and e.get("createdAt") == long_ago for e in logs) or (
            fresh and len(logs) != 1
        ):
            taken.append(f"logs={logs!r}")
        if taken:
            ctx.fail(
                f"{name} took read-only fields from the request: {', '.join(taken)}",
                shown_by,
                expected="id, status, createdAt, modifiedAt and logs set by the target",
                actual=", ".join(taken),
            )
    other = ctx.request("GET", f"/downlinks/{sent_id}")
    if other.status != 404:
        ctx.fail(
            "a downlink was stored under the id the client sent",
            other,
            expected="404",
            actual=str(other.status),
        )
