"""Group S, the lifecycle as the M4 test hook shows it: which moves S1 allows, and what
each move logs (S2).

M4 moves a downlink "as S1 allows, logged as S2 says": a move S1 forbids is `409` and
changes nothing. Full mode only (the hook is M4). S3 and S4 (retry limits, scenarios,
feedback timeouts) are the timeline's: M4 is not limited by them, and the suite never
moves the target's clock or loads a scenario (K1: other runs may share the target), so
they stay out of the suite's reach.
"""

from __future__ import annotations

from typing import Any

from contract_tests.checks.cancel import read
from contract_tests.context import Context
from contract_tests.oracle import MOVES, STATUSES
from contract_tests.registry import Mode, Skip, Tag, check

__all__ = ["expected_logs"]

_PARTS = 2  # values in the pack every S2 downlink is created with: S2 logs some events per part


def _seed_in(ctx: Context, status: str, count: int) -> list[dict[str, Any]]:
    device = ctx.network_id()
    return ctx.seed([{"networkId": device, "status": status} for _ in range(count)])


def _move(ctx: Context, downlink_id: str, status: str, error_code: str | None = None) -> Any:
    """M4, its answer as it comes (a 409 is what S1 checks look for)."""
    if ctx.target.mode is not Mode.FULL:
        raise Skip("needs the M4 test hook (full mode)")
    body: dict[str, Any] = {"status": status}
    if error_code is not None:
        body["errorCode"] = error_code
    return ctx.request("POST", f"/__mock/downlinks/{downlink_id}/transition", token=None, json=body)


@check(
    "S1",
    "M4 makes every move S1 allows and refuses every other with 409",
    tag=Tag.CONVENTION,
    mode=Mode.FULL,
)
def moves_follow_the_table(ctx: Context) -> None:
    for start in STATUSES:
        seeded = _seed_in(ctx, start, len(STATUSES))
        for target, dl in zip(STATUSES, seeded, strict=True):
            allowed = target in MOVES[start]
            exchange = _move(ctx, str(dl["id"]), target)
            _, after = read(ctx, str(dl["id"]))
            if allowed and (exchange.status != 200 or after.get("status") != target):
                ctx.fail(
                    f"S1 allows {start} -> {target}, yet M4 did not make the move",
                    exchange,
                    expected=f"200, then status {target}",
                    actual=f"{exchange.status}, then status {after.get('status')}",
                )
            if not allowed and (
                exchange.status != 409
                or after.get("status") != start
                or after.get("modifiedAt") != dl.get("modifiedAt")
                or after.get("logs") != dl.get("logs")
            ):
                ctx.fail(
                    f"S1 forbids {start} -> {target}, yet M4 did not refuse it with 409 "
                    "leaving the downlink as it was",
                    exchange,
                    expected=f"409, the downlink still {start}, unchanged",
                    actual=f"{exchange.status}, then status {after.get('status')}",
                )


def expected_logs(
    start: str, target: str, parts: int, error_code: str | None
) -> list[tuple[str, str | None]]:
    """(event, errorCode) of the entries S2 (and X4) append to a move `start` -> `target`
    of a downlink of `parts` parts; None where S2 names no errorCode."""
    if target == "EXECUTING":
        return [("DOWNLINK_STARTED", None)]
    none: str | None = None  # S2 names no errorCode for this entry
    if target == "SENT_TO_CARRIER":
        return [("DOWNLINK_PART_SENT", none)] * parts
    if target == "RETRY":
        return [("DOWNLINK_PART_FAILED", error_code or "CARRIER_ERROR")]
    if target == "DELIVERED":
        return [("DOWNLINK_PART_DELIVERED", none)] * parts + [("DOWNLINK_DELIVERED", none)]
    if target == "CANCELLED":
        return [("DOWNLINK_FAILED", "CANCELLED")]
    if start == "PENDING":  # FAILED from PENDING: a rejection
        return [("DOWNLINK_REJECTED", error_code or "DOWNLINK_REJECTED")]
    return [("DOWNLINK_FAILED", error_code or "DOWNLINK_FAILED")]


# Walks through S1 by M4: (status, errorCode sent or None), one move after another.
_WALKS: tuple[tuple[tuple[str, str | None], ...], ...] = (
    (("EXECUTING", None), ("SENT_TO_CARRIER", None), ("DELIVERED", None)),
    (("EXECUTING", None), ("RETRY", None), ("EXECUTING", None), ("SENT_TO_CARRIER", None)),
    (("EXECUTING", None), ("SENT_TO_CARRIER", None), ("RETRY", "NO_ACK"), ("FAILED", None)),
    (("EXECUTING", None), ("FAILED", "DEVICE_GONE")),
    (("FAILED", None),),
    (("FAILED", "BAD_PAYLOAD"),),
    (("EXECUTING", None), ("CANCELLED", None)),
)


def _logged(logs: Any) -> list[tuple[str, str | None]]:
    if not isinstance(logs, list):
        return []
    return [(str(e.get("event")), e.get("errorCode")) for e in logs if isinstance(e, dict)]


@check(
    "S2", "each M4 move appends the log entries S2 names, per part", tag=Tag.MOCK, mode=Mode.FULL
)
def moves_logged(ctx: Context) -> None:
    values = [{"n": f"p{i}", "v": i} for i in range(_PARTS)]
    for walk in _WALKS:
        created = ctx.create(instruction=[{"bn": ctx.network_id()}, *values])
        status, logs = "PENDING", _logged(created.get("logs"))
        for target, error_code in walk:
            exchange = _move(ctx, str(created["id"]), target, error_code)
            ctx.expect_status(exchange, 200)
            now = _logged(exchange.json().get("logs"))
            wanted = expected_logs(status, target, _PARTS, error_code)
            if now[: len(logs)] != logs or now[len(logs) :] != wanted:
                ctx.fail(
                    f"the move {status} -> {target} (errorCode {error_code}) of a downlink of "
                    f"{_PARTS} parts is not logged as S2 says",
                    exchange,
                    expected=f"the earlier logs, then {wanted}",
                    actual=str(now),
                )
            status, logs = target, now
