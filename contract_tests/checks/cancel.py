"""Group X: which cancels `DELETE /downlinks/{id}` accepts, and what each answer does (X1-X5).

Full mode puts a downlink in each status through M4, following S1 (`oracle.path_to`).
Black-box mode can only cancel a fresh downlink; a real target may move it out of PENDING
before the cancel arrives, and then the check says so by skipping (K2).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from contract_tests import oracle
from contract_tests.context import Context, Exchange
from contract_tests.registry import Mode, Skip, Tag, check

__all__ = ["in_status", "read"]

_UNSET: Any = ...  # Context's "the target's token"
FORCINGS: tuple[str | None, ...] = (None, "false", "true")  # None: no forced parameter
_SETTLE_TRIES = 20  # X4: a 202 is "accepted and scheduled": give it a moment to show
_SETTLE_PAUSE = 0.05


def read(ctx: Context, downlink_id: str, *, token: Any = _UNSET) -> tuple[Exchange, dict[str, Any]]:
    """GET the downlink; fails unless 200 with an object."""
    exchange = ctx.request("GET", f"/downlinks/{downlink_id}", token=token)
    ctx.expect_status(exchange, 200)
    body = exchange.json()
    if not isinstance(body, dict):
        ctx.fail("the downlink is not a JSON object", exchange)
    return exchange, body


def in_status(ctx: Context, status: str) -> dict[str, Any]:
    """A downlink of this client in `status`: seeded PENDING (M3), then moved along S1 (M4)."""
    (seeded,) = ctx.seed([{"networkId": ctx.network_id()}])
    moved = seeded
    for step in oracle.path_to(status):
        moved = ctx.transition(seeded["id"], step)
    if moved.get("status") != status:
        ctx.fail(f"M4 did not bring the downlink to {status}", actual=repr(moved.get("status")))
    return read(ctx, seeded["id"])[1]


def _cancel(
    ctx: Context, downlink_id: str, forced: str | None = None, *, token: Any = _UNSET
) -> Exchange:
    params = {"forced": forced} if forced is not None else None
    return ctx.request("DELETE", f"/downlinks/{downlink_id}", params=params, token=token)


def _how(forced: str | None) -> str:
    return "without forced" if forced is None else f"with forced={forced}"


def _expect(ctx: Context, exchange: Exchange, status: int, what: str) -> None:
    if exchange.status != status:
        ctx.fail(what, exchange, expected=str(status), actual=str(exchange.status))


def _fresh(ctx: Context) -> dict[str, Any]:
    """A downlink created through POST, as read back just before it is cancelled."""
    created = ctx.create()
    return read(ctx, created["id"])[1]


def _cancel_fresh(ctx: Context, forced: str | None = None) -> tuple[dict[str, Any], Exchange]:
    """Cancel a fresh downlink, expecting 202 (X3). A 409 is taken only if the downlink has
    left PENDING meanwhile: the check then cannot judge, and skips."""
    before = _fresh(ctx)
    exchange = _cancel(ctx, before["id"], forced)
    if exchange.status == 409:
        _, now = read(ctx, before["id"])
        if now.get("status") != "PENDING":
            raise Skip(
                f"the target moved the fresh downlink to {now.get('status')} before the cancel "
                "arrived; a PENDING cancel could not be observed"
            )
    _expect(ctx, exchange, 202, f"cancelling a PENDING downlink {_how(forced)} was not accepted")
    return before, exchange


def _settled(ctx: Context, downlink_id: str) -> tuple[Exchange, dict[str, Any]]:
    """The downlink once it shows CANCELLED, or as it is after a short wait."""
    for attempt in range(_SETTLE_TRIES):
        exchange, body = read(ctx, downlink_id)
        if body.get("status") == "CANCELLED":
            break
        if attempt < _SETTLE_TRIES - 1:
            time.sleep(_SETTLE_PAUSE)
    return exchange, body


def _judge_accepted(ctx: Context, before: dict[str, Any], how: str) -> dict[str, Any]:
    """X4: after a 202 the downlink is CANCELLED, modifiedAt moved, a CANCELLED log added."""
    exchange, after = _settled(ctx, before["id"])
    if after.get("status") != "CANCELLED":
        ctx.fail(
            f"an accepted cancel ({how}) did not make the downlink CANCELLED",
            exchange,
            expected="status CANCELLED",
            actual=f"status {after.get('status')}",
        )
    try:
        moved = oracle.parse_time(after["modifiedAt"]) > oracle.parse_time(before["modifiedAt"])
    except (KeyError, ValueError):
        moved = False
    if not moved:
        ctx.fail(
            f"an accepted cancel ({how}) did not move modifiedAt",
            exchange,
            expected=f"later than {before.get('modifiedAt')}",
            actual=str(after.get("modifiedAt")),
        )
    old, new = before.get("logs") or [], after.get("logs") or []
    added = new[len(old) :]
    if new[: len(old)] != old or not any(
        isinstance(e, dict) and e.get("errorCode") == "CANCELLED" for e in added
    ):
        ctx.fail(
            f"an accepted cancel ({how}) did not append a log entry with errorCode CANCELLED "
            "to the logs there were",
            exchange,
            expected=f"{len(old)} entries as before, then one with errorCode CANCELLED",
            actual=repr(new)[:300],
        )
    return after


def _judge_refused(ctx: Context, before: dict[str, Any], exchange: Exchange, how: str) -> None:
    """X4: a 409 changes nothing (the whole downlink reads the same)."""
    after_exchange, after = read(ctx, before["id"])
    if after != before:
        changed = sorted(k for k in {*before, *after} if before.get(k) != after.get(k))
        ctx.fail(
            f"a refused cancel ({how}) changed the downlink: {', '.join(changed)}",
            after_exchange,
            expected=repr({k: before.get(k) for k in changed})[:300],
            actual=repr({k: after.get(k) for k in changed})[:300],
        )


# -- X1 -----------------------------------------------------------------------------------


@check("X1", "a refused cancel answers 409 problem+json", tag=Tag.SPEC)
def refused_is_problem(ctx: Context) -> None:
    before, _ = _cancel_fresh(ctx)
    _settled(ctx, before["id"])
    for forced in FORCINGS:
        ctx.expect_problem(_cancel(ctx, before["id"], forced), 409)


# -- X2 -----------------------------------------------------------------------------------


@check("X2", "cancelling twice: the second answer is 409", tag=Tag.CONVENTION)
def cancel_twice(ctx: Context) -> None:
    before, _ = _cancel_fresh(ctx)
    _settled(ctx, before["id"])
    for forced in FORCINGS:
        exchange = _cancel(ctx, before["id"], forced)
        _expect(
            ctx,
            exchange,
            409,
            f"cancelling a cancelled downlink again ({_how(forced)}) was not refused",
        )


@check(
    "X2",
    "DELIVERED, FAILED and CANCELLED refuse a cancel, forced or not",
    tag=Tag.CONVENTION,
    mode=Mode.FULL,
)
def terminal_refuses(ctx: Context) -> None:
    for status in sorted(oracle.TERMINAL):
        downlink = in_status(ctx, status)
        for forced in FORCINGS:
            exchange = _cancel(ctx, downlink["id"], forced)
            _expect(
                ctx, exchange, 409, f"cancelling a {status} downlink {_how(forced)} was not refused"
            )


# -- X3 -----------------------------------------------------------------------------------


@check("X3", "a PENDING downlink is cancelled (202), forced or not", tag=Tag.MOCK)
def pending_cancellable(ctx: Context) -> None:
    for forced in FORCINGS:
        _cancel_fresh(ctx, forced)


@check("X3", "a RETRY downlink is cancelled (202), forced or not", tag=Tag.MOCK, mode=Mode.FULL)
def retry_cancellable(ctx: Context) -> None:
    for forced in FORCINGS:
        downlink = in_status(ctx, "RETRY")
        exchange = _cancel(ctx, downlink["id"], forced)
        _expect(ctx, exchange, 202, f"cancelling a RETRY downlink {_how(forced)} was not accepted")


@check(
    "X3",
    "EXECUTING and SENT_TO_CARRIER refuse a cancel (409) unless forced=true (202)",
    tag=Tag.MOCK,
    mode=Mode.FULL,
)
def in_flight_needs_force(ctx: Context) -> None:
    for status in ("EXECUTING", "SENT_TO_CARRIER"):
        downlink = in_status(ctx, status)
        for forced in (None, "false"):
            exchange = _cancel(ctx, downlink["id"], forced)
            _expect(
                ctx, exchange, 409, f"cancelling a {status} downlink {_how(forced)} was not refused"
            )
        exchange = _cancel(ctx, downlink["id"], "true")
        _expect(ctx, exchange, 202, f"a forced cancel of a {status} downlink was not accepted")


# -- X4 -----------------------------------------------------------------------------------


@check(
    "X4",
    "an accepted cancel makes it CANCELLED, moves modifiedAt, appends a CANCELLED log",
    tag=Tag.CONVENTION,
)
def accepted_cancel_effects(ctx: Context) -> None:
    before, _ = _cancel_fresh(ctx)
    _judge_accepted(ctx, before, "of a fresh downlink")


@check(
    "X4",
    "an accepted cancel of each cancellable status has its effects",
    tag=Tag.CONVENTION,
    mode=Mode.FULL,
)
def accepted_cancel_effects_per_status(ctx: Context) -> None:
    # Which statuses are cancellable is X3's [mock] choice; the effects are X4's.
    judged = 0
    for status, forced in (("RETRY", None), ("EXECUTING", "true"), ("SENT_TO_CARRIER", "true")):
        before = in_status(ctx, status)
        exchange = _cancel(ctx, before["id"], forced)
        if exchange.status == 202:  # otherwise X3's to judge
            _judge_accepted(ctx, before, f"of a {status} downlink {_how(forced)}")
            judged += 1
    if not judged:
        raise Skip("no RETRY, EXECUTING or SENT_TO_CARRIER cancel was accepted (see X3)")


@check(
    "X4",
    "an accepted cancel shows at once, logged as DOWNLINK_FAILED",
    tag=Tag.MOCK,
)
def accepted_cancel_logged_as_failed(ctx: Context) -> None:
    before, _ = _cancel_fresh(ctx)
    exchange, after = read(ctx, before["id"])
    last = (after.get("logs") or [{}])[-1]
    if after.get("status") != "CANCELLED" or last.get("event") != "DOWNLINK_FAILED":
        ctx.fail(
            "right after an accepted cancel the downlink is not CANCELLED with a last log "
            "entry DOWNLINK_FAILED",
            exchange,
            expected='status CANCELLED, logs[-1] {"event": "DOWNLINK_FAILED", "errorCode": "CANCELLED"}',
            actual=f"status {after.get('status')}, logs[-1] {last}",
        )


@check("X4", "a refused cancel changes nothing", tag=Tag.CONVENTION)
def refused_changes_nothing(ctx: Context) -> None:
    before, _ = _cancel_fresh(ctx)
    _, before = _settled(ctx, before["id"])
    if before.get("status") != "CANCELLED":
        raise Skip("the cancelled downlink did not show CANCELLED (see the X4 effects check)")
    judged = 0
    for forced in FORCINGS:
        exchange = _cancel(ctx, before["id"], forced)
        if exchange.status == 409:  # otherwise X2's to judge
            _judge_refused(ctx, before, exchange, f"of a cancelled downlink {_how(forced)}")
            judged += 1
    if not judged:
        raise Skip("no cancel of a cancelled downlink was refused (see X2)")


@check(
    "X4",
    "a refused cancel of a terminal or in-flight downlink changes nothing",
    tag=Tag.CONVENTION,
    mode=Mode.FULL,
)
def refused_changes_nothing_per_status(ctx: Context) -> None:
    judged = 0
    for status, forcings in (
        ("DELIVERED", FORCINGS),
        ("FAILED", FORCINGS),
        ("EXECUTING", (None, "false")),
        ("SENT_TO_CARRIER", (None, "false")),
    ):
        before = in_status(ctx, status)
        for forced in forcings:
            exchange = _cancel(ctx, before["id"], forced)
            if exchange.status == 409:  # otherwise X2's or X3's to judge
                _judge_refused(ctx, before, exchange, f"of a {status} downlink {_how(forced)}")
                judged += 1
    if not judged:
        raise Skip("no cancel was refused (see X2, X3)")


# -- X5 -----------------------------------------------------------------------------------


@check("X5", "forced other than true/false is refused with 400 and cancels nothing", tag=Tag.SPEC)
def forced_must_be_boolean(ctx: Context) -> None:
    created = ctx.create()
    for value in ("maybe", "1", "TRUE", "yes", ""):
        exchange = _cancel(ctx, created["id"], value)
        _expect(ctx, exchange, 400, f"forced={value!r} is no boolean, yet was not refused")
        after_exchange, after = read(ctx, created["id"])
        if after.get("status") == "CANCELLED":
            ctx.fail(
                f"a cancel refused for forced={value!r} cancelled the downlink",
                after_exchange,
                expected="not CANCELLED",
                actual="CANCELLED",
            )


@check("X5", "cancelling an unknown id answers 404", tag=Tag.SPEC)
def unknown_id_404(ctx: Context) -> None:
    for downlink_id in (str(uuid.uuid4()), "no-such-downlink"):
        for forced in (None, "true"):
            exchange = _cancel(ctx, downlink_id, forced)
            _expect(ctx, exchange, 404, f"cancelling the unknown id {downlink_id} {_how(forced)}")


@check(
    "X5", "cancelling another client's downlink answers 404 as for an unknown id (A5)", tag=Tag.SPEC
)
def other_client_404(ctx: Context) -> None:
    other = ctx.target.other_tenant_token
    if other is None:
        raise Skip("needs a token of a second client (other tenant)")
    created = ctx.create()
    _, before = read(ctx, created["id"])
    unknown = _cancel(ctx, str(uuid.uuid4()), token=other)
    for forced in (None, "true"):
        exchange = _cancel(ctx, created["id"], forced, token=other)
        _expect(
            ctx, exchange, 404, f"another client cancelling this client's downlink {_how(forced)}"
        )
        leaks = [k for k in ("type", "title") if _member(exchange, k) != _member(unknown, k)]
        if leaks:
            ctx.fail(
                "the 404 for another client's downlink differs from the one for an unknown id, "
                "so existence leaks",
                exchange,
                expected=unknown.excerpt(),
                actual=f"differs in {', '.join(leaks)}",
            )
    # A real target may move the downlink on meanwhile; only a cancellation is wrong.
    read_exchange, after = read(ctx, created["id"])
    cancelled = [
        e
        for e in after.get("logs") or []
        if isinstance(e, dict) and e.get("errorCode") == "CANCELLED"
    ]
    if after.get("status") == "CANCELLED" or cancelled:
        ctx.fail(
            "another client's refused cancel cancelled the downlink",
            read_exchange,
            expected=f"not cancelled (was {before.get('status')})",
            actual=f"status {after.get('status')}, {len(cancelled)} CANCELLED log entries",
        )


def _member(exchange: Exchange, name: str) -> Any:
    try:
        body = exchange.response.json()
    except ValueError:
        return None
    return body.get(name) if isinstance(body, dict) else None
