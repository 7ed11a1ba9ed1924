"""Groups R and T: reading one downlink (R1, R2) and the shape and order of time (T1, T2).

T2 is judged by the target's own timestamps only (K4): never by the suite's clock.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from contract_tests import oracle
from contract_tests.context import Context, Exchange
from contract_tests.registry import Mode, Skip, Tag, check

__all__ = ["TIMESTAMP", "timestamps", "expect_timestamps", "parse"]

# T1: RFC 3339, UTC with Z, exactly three fractional digits.
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
# Fields that may change when a downlink progresses; the rest must read back as created (R2).
_PROGRESSING = {"status", "modifiedAt", "logs"}


def parse(value: str) -> datetime:
    """A T1 timestamp as an aware datetime (millisecond precision)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def timestamps(downlink: dict[str, Any]) -> list[tuple[str, Any]]:
    """Every timestamp of a downlink with where it sits: ("logs/0/createdAt", value)."""
    found = [(name, downlink.get(name)) for name in ("createdAt", "modifiedAt")]
    for i, entry in enumerate(downlink.get("logs") or []):
        if isinstance(entry, dict):
            found.append((f"logs/{i}/createdAt", entry.get("createdAt")))
    return found


def expect_timestamps(
    ctx: Context, exchange: Exchange, downlink: dict[str, Any], where: str
) -> None:
    """T1 for every timestamp of `downlink`, as `where` (created, read, listed) showed it."""
    for name, value in timestamps(downlink):
        ok = isinstance(value, str) and TIMESTAMP.match(value) is not None
        if ok:
            try:
                parse(value)
            except ValueError:
                ok = False
        if not ok:
            ctx.fail(
                f"`{name}` of a {where} downlink is not RFC 3339 UTC with milliseconds",
                exchange,
                expected="like 2025-01-11T09:27:26.272Z",
                actual=repr(value),
            )


def _read(ctx: Context, downlink_id: str) -> tuple[Exchange, dict[str, Any]]:
    exchange = ctx.request("GET", f"/downlinks/{downlink_id}")
    ctx.expect_status(exchange, 200)
    body = exchange.json()
    if not isinstance(body, dict):
        ctx.fail("the downlink read is not a JSON object", exchange)
    return exchange, body


# -- R1 ------------------------------------------------------------------------------------


@check("R1", "a created downlink reads as 200 with a Downlink", tag=Tag.SPEC)
def read_created(ctx: Context) -> None:
    created = ctx.create(externalReference=f"contract-{ctx.run_id}-{uuid.uuid4().hex[:8]}")
    exchange, body = _read(ctx, created["id"])
    ctx.expect_schema(exchange, "Downlink")
    if body.get("id") != created["id"]:
        ctx.fail(
            "GET answered another downlink",
            exchange,
            expected=str(created["id"]),
            actual=str(body.get("id")),
        )


@check("R1", "an unknown id reads as 404 problem+json", tag=Tag.SPEC)
def read_unknown_is_404(ctx: Context) -> None:
    for unknown in (str(uuid.uuid4()), f"contract-{ctx.run_id}-no-such-downlink"):
        ctx.expect_problem(ctx.request("GET", f"/downlinks/{unknown}"), 404)


# -- R2 ------------------------------------------------------------------------------------


@check(
    "R2", "a downlink read right after its create equals the create's answer", tag=Tag.CONVENTION
)
def read_equals_create(ctx: Context) -> None:
    created = ctx.create(
        externalReference=f"contract-{ctx.run_id}-{uuid.uuid4().hex[:8]}", retryLimit=2
    )
    exchange, read = _read(ctx, created["id"])
    same_status = read.get("status") == created.get("status")
    keys = set(created) | set(read)
    if not same_status:
        keys -= _PROGRESSING  # it moved on: only what never changes must match
    for key in sorted(keys):
        if created.get(key) != read.get(key):
            ctx.fail(
                f"`{key}` reads back unlike the create's answer",
                exchange,
                expected=f"{key}: {created.get(key)!r}",
                actual=f"{key}: {read.get(key)!r}",
            )
    if not same_status:
        _progression(ctx, exchange, created, read)


def _progression(
    ctx: Context, exchange: Exchange, created: dict[str, Any], read: dict[str, Any]
) -> None:
    """A status read back unlike the create's answer must be one S1 reaches from it, with
    `modifiedAt` not before the create's and the created logs kept at the start."""
    before, after = created.get("status"), read.get("status")
    try:
        reachable = bool(oracle.path_to(str(after), str(before)))
    except ValueError:
        reachable = False
    if not reachable:
        ctx.fail(
            f"the status reads back as {after!r}, which S1 does not reach from {before!r}",
            exchange,
            expected=f"{before} or a status S1 reaches from it",
            actual=f"status: {after!r}",
        )
    try:
        moved_back = parse(read["modifiedAt"]) < parse(created["modifiedAt"])
    except (KeyError, TypeError, ValueError):
        moved_back = True
    if moved_back:
        ctx.fail(
            "the downlink read back was modified before its create's modifiedAt",
            exchange,
            expected=f"modifiedAt >= {created.get('modifiedAt')}",
            actual=f"modifiedAt: {read.get('modifiedAt')!r}",
        )
    logs = created.get("logs") or []
    if (read.get("logs") or [])[: len(logs)] != logs:
        ctx.fail(
            "the logs read back do not start with the logs the create answered",
            exchange,
            expected=repr(logs),
            actual=repr(read.get("logs")),
        )


# -- T1 ------------------------------------------------------------------------------------


@check(
    "T1", "timestamps of a created downlink are RFC 3339 UTC with milliseconds", tag=Tag.CONVENTION
)
def created_timestamps(ctx: Context) -> None:
    body: dict[str, Any] = {"instruction": [{"bn": ctx.network_id()}, {"n": "x", "v": 1}]}
    body["method"] = {"protocol": "SMS"}
    exchange = ctx.request("POST", "/downlinks", json=body)
    ctx.expect_status(exchange, 201)
    expect_timestamps(ctx, exchange, exchange.json(), "created")


@check("T1", "timestamps of a read downlink are RFC 3339 UTC with milliseconds", tag=Tag.CONVENTION)
def read_timestamps(ctx: Context) -> None:
    created = ctx.create()
    exchange, body = _read(ctx, created["id"])
    expect_timestamps(ctx, exchange, body, "read")


@check(
    "T1", "timestamps of listed downlinks are RFC 3339 UTC with milliseconds", tag=Tag.CONVENTION
)
def listed_timestamps(ctx: Context) -> None:
    network_id = ctx.network_id()
    ids = {ctx.create(network_id)["id"] for _ in range(2)}
    exchange = ctx.request("GET", "/downlinks", params={"q": network_id})
    ctx.expect_status(exchange, 200)
    items = exchange.json().get("items", [])
    if {item.get("id") for item in items} != ids:
        ctx.fail(
            "the list narrowed to this run's device does not hold exactly its downlinks",
            exchange,
            expected=", ".join(sorted(ids)),
            actual=", ".join(str(item.get("id")) for item in items) or "(empty)",
        )
    for item in items:
        expect_timestamps(ctx, exchange, item, "listed")


@check(
    "T1",
    "timestamps seeded with more digits read back truncated to ms",
    tag=Tag.CONVENTION,
    mode=Mode.FULL,
)
def seeded_timestamps_truncated(ctx: Context) -> None:
    now = ctx.clock()["now"]
    base = parse(now)
    created = base.replace(microsecond=(base.microsecond // 1000) * 1000)
    precise = created.strftime("%Y-%m-%dT%H:%M:%S.%f") + "999Z"  # nanoseconds
    [seeded] = ctx.seed([{"networkId": ctx.network_id(), "createdAt": precise}])
    exchange, body = _read(ctx, seeded["id"])
    expect_timestamps(ctx, exchange, body, "seeded")
    want = created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created.microsecond // 1000:03d}Z"
    if body.get("createdAt") != want:
        ctx.fail(
            "a seeded createdAt is not truncated to the millisecond",
            exchange,
            expected=want,
            actual=repr(body.get("createdAt")),
        )


# -- T2 ------------------------------------------------------------------------------------


def _order(ctx: Context, exchange: Exchange, body: dict[str, Any]) -> None:
    """modifiedAt >= createdAt, and the logs in createdAt order."""
    expect_timestamps(ctx, exchange, body, "read")
    if parse(body["modifiedAt"]) < parse(body["createdAt"]):
        ctx.fail(
            "modifiedAt is before createdAt",
            exchange,
            expected=f"modifiedAt >= {body['createdAt']}",
            actual=body["modifiedAt"],
        )
    times = [parse(entry["createdAt"]) for entry in body.get("logs") or []]
    if times != sorted(times):
        ctx.fail(
            "the logs are not in createdAt order",
            exchange,
            expected="ascending log createdAt",
            actual=", ".join(entry["createdAt"] for entry in body["logs"]),
        )


def _progressed(
    ctx: Context, exchange: Exchange, before: dict[str, Any], after: dict[str, Any], change: str
) -> None:
    """After a status change: modifiedAt moved forward, the logs grew and kept their past."""
    _order(ctx, exchange, after)
    if parse(after["modifiedAt"]) <= parse(before["modifiedAt"]):
        ctx.fail(
            f"modifiedAt did not move forward at {change}",
            exchange,
            expected=f"modifiedAt > {before['modifiedAt']}",
            actual=after["modifiedAt"],
        )
    old, new = before.get("logs") or [], after.get("logs") or []
    if len(new) <= len(old) or new[: len(old)] != old:
        ctx.fail(
            f"the logs did not grow at {change}, keeping the earlier entries",
            exchange,
            expected=f"the {len(old)} earlier entries, then at least one more",
            actual=repr(new),
        )


@check("T2", "modifiedAt >= createdAt and logs in order, as created and read", tag=Tag.CONVENTION)
def modified_not_before_created(ctx: Context) -> None:
    body: dict[str, Any] = {"instruction": [{"bn": ctx.network_id()}, {"n": "x", "v": 1}]}
    body["method"] = {"protocol": "SMS"}
    exchange = ctx.request("POST", "/downlinks", json=body)
    ctx.expect_status(exchange, 201)
    created = exchange.json()
    _order(ctx, exchange, created)
    _order(ctx, *_read(ctx, created["id"]))


@check("T2", "a cancellation moves modifiedAt forward and appends to the logs", tag=Tag.CONVENTION)
def cancel_moves_modified_at(ctx: Context) -> None:
    for _ in range(3):  # a fast target may finish a downlink before it can be cancelled
        created = ctx.create()
        cancel = ctx.request("DELETE", f"/downlinks/{created['id']}", params={"forced": "true"})
        if cancel.status == 409:
            continue
        ctx.expect_status(cancel, 202)
        exchange, after = _read(ctx, created["id"])
        if after.get("status") == created.get("status"):
            raise Skip("the cancellation was accepted but had not shown by the next read")
        _progressed(ctx, exchange, created, after, "cancellation")
        again = ctx.request("GET", f"/downlinks/{created['id']}")
        ctx.expect_status(again, 200)
        if parse(again.json()["modifiedAt"]) < parse(after["modifiedAt"]):
            ctx.fail(
                "modifiedAt moved backwards between two reads",
                again,
                expected=f">= {after['modifiedAt']}",
                actual=again.json()["modifiedAt"],
            )
        return
    raise Skip("every downlink ended before it could be cancelled")


@check(
    "T2",
    "each status change moves modifiedAt forward; logs only grow",
    tag=Tag.CONVENTION,
    mode=Mode.FULL,
)
def transitions_move_modified_at(ctx: Context) -> None:
    [seeded] = ctx.seed([{"networkId": ctx.network_id()}])
    before = seeded
    for status in ("EXECUTING", "SENT_TO_CARRIER", "RETRY", "EXECUTING", "FAILED"):
        error = "CONTRACT_TEST" if status in ("RETRY", "FAILED") else None
        moved = ctx.transition(seeded["id"], status, error)
        exchange, after = _read(ctx, seeded["id"])
        for key in ("status", "modifiedAt", "logs"):
            if after.get(key) != moved.get(key):
                ctx.fail(
                    f"after the M4 move to {status}, `{key}` reads unlike M4's answer",
                    exchange,
                    expected=f"{key}: {moved.get(key)!r}",
                    actual=f"{key}: {after.get(key)!r}",
                )
        _progressed(ctx, exchange, before, after, f"the move to {status}")
        before = after
