"""Black-box reach (X3, X2): states a target reaches on its own, observed through reads.

Where the target moves downlinks by itself (a real service, or the mock on a running
clock), a check can see in-flight and terminal states without the M4 hook: it creates a
downlink, reads it until it is seen in flight (EXECUTING, SENT_TO_CARRIER) and then in a
terminal state, for at most `OBSERVE_SECONDS`, and cancels it at each. When nothing moves
in that time the check skips and says so (K2). In full mode a manual clock (M5) is known
to move nothing, so the check skips at once.
"""

from __future__ import annotations

import time
from typing import Any

from contract_tests.checks.cancel import read
from contract_tests.context import Context
from contract_tests.registry import Mode, Skip, Tag, check

__all__ = ["OBSERVE_SECONDS", "IN_FLIGHT", "TERMINAL"]

OBSERVE_SECONDS = 10.0  # how long to wait for the target to move a downlink on its own
_PAUSE = 0.02  # between reads: short enough to catch a state that lasts a moment
IN_FLIGHT = frozenset({"EXECUTING", "SENT_TO_CARRIER"})
TERMINAL = frozenset({"DELIVERED", "FAILED", "CANCELLED"})


def _moves_on_its_own(ctx: Context) -> None:
    if ctx.target.mode is Mode.FULL and ctx.clock().get("mode") == "manual":
        raise Skip("the target's clock is manual (M5): no downlink moves on its own")


def _await(ctx: Context, downlink_id: str, wanted: frozenset[str], deadline: float) -> str | None:
    """Read until the status is in `wanted` (returned), or None at the deadline."""
    while time.monotonic() < deadline:
        status = read(ctx, downlink_id)[1].get("status")
        if status in wanted:
            return str(status)
        time.sleep(_PAUSE)
    return None


def _refuses_unforced(ctx: Context, before: dict[str, Any], seen: str) -> None:
    exchange = ctx.request("DELETE", f"/downlinks/{before['id']}")
    after_exchange, after = read(ctx, str(before["id"]))
    if exchange.status == 202 or after.get("status") == "CANCELLED":
        ctx.fail(
            f"a downlink seen {seen} (moved there by the target itself) was cancelled "
            "without forced=true",
            exchange,
            expected="409, the downlink left as it was",
            actual=f"{exchange.status}, then status {after.get('status')}",
        )
    if exchange.status != 409:
        ctx.fail(
            f"an unforced cancel of a downlink seen {seen} answered {exchange.status}",
            exchange,
            expected="409",
            actual=str(exchange.status),
        )
    del after_exchange


@check(
    "X3",
    "a downlink seen in flight, then terminal, on its own refuses an unforced cancel",
    tag=Tag.MOCK,
)
def observed_moves_refuse_unforced(ctx: Context) -> None:
    _moves_on_its_own(ctx)
    deadline = time.monotonic() + OBSERVE_SECONDS
    created = ctx.create()
    seen = _await(ctx, created["id"], IN_FLIGHT | TERMINAL, deadline)
    if seen is None:
        raise Skip(
            f"the target moved no downlink on its own within {OBSERVE_SECONDS:g} s: "
            "in-flight and terminal states could not be observed"
        )
    if seen in IN_FLIGHT:
        _refuses_unforced(ctx, read(ctx, created["id"])[1], seen)
        seen = _await(ctx, created["id"], TERMINAL, deadline) or ""
    if seen in TERMINAL - {"CANCELLED"}:
        _refuses_unforced(ctx, read(ctx, created["id"])[1], seen)
