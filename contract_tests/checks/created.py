"""Group C, what a create stores and answers: unique references (C6), the answer (C7), dry
runs (C8) and read-only fields (C9). Validation (C1-C5) is `contract_tests.checks.create`.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NoReturn
from urllib.parse import urljoin, urlsplit

from contract_tests import oracle
from contract_tests.checks.create import (
    expect_refused,
    nothing_stored,
    post_create,
    valid_body,
)
from contract_tests.context import Context
from contract_tests.pages import compact_json, fetch_page, marker, pack_with
from contract_tests.registry import Mode, Skip, Tag, check

__all__: list[str] = []

_UNSET: Any = ...  # Context's "the target's token"


# -- C6: externalReference ----------------------------------------------------------------


def _reference(ctx: Context) -> str:
    return marker(ctx, "ref-")


def _conflict(ctx: Context, nid: str, reference: str, why: str, *, token: Any = _UNSET) -> None:
    exchange = post_create(ctx, valid_body(nid, externalReference=reference), token=token)
    if exchange.status != 409:
        ctx.fail(
            f"a second create with externalReference {reference!r} ({why}) was not refused",
            exchange,
            expected="409",
            actual=str(exchange.status),
        )
    ctx.expect_problem(exchange, 409)
    nothing_stored(ctx, nid, "its externalReference was taken", token=token)


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
        exchanges = list(pool.map(lambda body: post_create(ctx, body), bodies))
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
    exchange = post_create(
        ctx, valid_body(nid, instruction=instruction, externalReference=reference)
    )
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
        wrong("createdAt and modifiedAt differ", str(body.get("createdAt")), body.get("modifiedAt"))
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
    exchange = post_create(ctx, valid_body(nid, dryRun=True, externalReference=reference))
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
    nothing_stored(ctx, nid, "a dry run")
    # No uniqueness slot was taken: the reference is free for a real create.
    ctx.create(nid, externalReference=reference)
    second = ctx.network_id()
    expect_refused(
        ctx,
        valid_body(second, dryRun=True, externalReference=reference),
        "a dry run with a taken externalReference",
        scope=second,
        status=409,
    )
    third = ctx.network_id()
    expect_refused(
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
    exchange = post_create(ctx, body)
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
