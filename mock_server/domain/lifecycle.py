"""A downlink's life in one place: the allowed moves (S1), what each move logs (S2), the
cancel rule (X1-X3), how a change is stamped (T2), and the 409 each refusal gives.

The store applies what this module judges (`plan_move`, `plan_append`, `check_cancel`);
the cancel handler, the control plane's M4 and the progressions reach it through the
store, so no other module decides whether a move is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass

from mock_server.domain.errors import IllegalMove, LogFull, NotCancellable
from mock_server.domain.model import TERMINAL, Downlink, Event, LogEntry, Status
from mock_server.domain.timefmt import MAX_MS

__all__ = [
    "TERMINAL",
    "MAX_LOGS",
    "MOVES",
    "can_move",
    "cancellable",
    "check_move",
    "check_cancel",
    "check_log_room",
    "move_logs",
    "stamp",
    "Change",
    "plan_move",
    "plan_append",
    "apply",
]

# S1: the one table of allowed moves. Terminal states have no way out.
MOVES: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.EXECUTING, Status.FAILED, Status.CANCELLED}),
    Status.EXECUTING: frozenset(
        {Status.SENT_TO_CARRIER, Status.RETRY, Status.FAILED, Status.CANCELLED}
    ),
    Status.SENT_TO_CARRIER: frozenset(
        {Status.DELIVERED, Status.RETRY, Status.FAILED, Status.CANCELLED}
    ),
    Status.RETRY: frozenset({Status.EXECUTING, Status.FAILED, Status.CANCELLED}),
    Status.DELIVERED: frozenset(),
    Status.FAILED: frozenset(),
    Status.CANCELLED: frozenset(),
}


MAX_LOGS = 1000
"""S2: the log entries a downlink may gather before the lifecycle refuses to grow them.

A downlink whose logs hold this many entries takes only a move that ends it (DELIVERED,
FAILED, CANCELLED): any other move, and any log event that changes no status, is a 409
(`LogFull`). A move that ends the downlink adds at most its parts and one entry more, so
no downlink's logs grow without bound (a scenario retrying forever, M4 moves in a loop)."""


def check_log_room(dl: Downlink, target: Status) -> None:
    """Raise LogFull (409) when `dl`'s logs are full and the move to `target` (or a log
    event, when `target` is its status) would not end the downlink."""
    if len(dl.logs) >= MAX_LOGS and not target.terminal:
        raise LogFull(
            f"the downlink's logs hold {len(dl.logs)} entries, the most a downlink keeps "
            f"({MAX_LOGS}): only a move that ends it (DELIVERED, FAILED, CANCELLED) is taken"
        )


def can_move(current: Status, target: Status) -> bool:
    """Whether S1 allows the move from `current` to `target`."""
    return target in MOVES[current]


def check_move(current: Status, target: Status) -> None:
    """Raise IllegalMove (409) unless S1 allows `current` -> `target`."""
    if not can_move(current, target):
        raise IllegalMove(
            f"a {current.value} downlink cannot move to {target.value}"
            + (" (terminal states never change)" if current.terminal else "")
        )


def cancellable(status: Status, forced: bool) -> bool:
    """X2, X3: PENDING and RETRY may be cancelled; EXECUTING and SENT_TO_CARRIER are in
    flight and need `forced=true`; terminal states never."""
    if status in (Status.PENDING, Status.RETRY):
        return True
    if status in (Status.EXECUTING, Status.SENT_TO_CARRIER):
        return forced
    return False


def check_cancel(status: Status, forced: bool) -> None:
    """Raise NotCancellable (409, X1) unless a cancel of a `status` downlink is allowed."""
    if not cancellable(status, forced):
        hint = " without forced=true: it is in flight" if cancellable(status, True) else ""
        raise NotCancellable(f"a {status.value} downlink cannot be cancelled{hint}")


def move_logs(
    current: Status, target: Status, at: int, *, parts: int = 1, error_code: str | None = None
) -> list[LogEntry]:
    """The log entries that S2 appends for the move `current` -> `target` at `at`.

    EXECUTING logs DOWNLINK_STARTED; SENT_TO_CARRIER one DOWNLINK_PART_SENT per part; a
    failed try (RETRY) DOWNLINK_PART_FAILED with an errorCode; DELIVERED one
    DOWNLINK_PART_DELIVERED per part then DOWNLINK_DELIVERED; FAILED DOWNLINK_FAILED, or
    DOWNLINK_REJECTED from PENDING, with an errorCode; CANCELLED DOWNLINK_FAILED with
    errorCode CANCELLED (X4).
    """
    E = Event
    if target is Status.EXECUTING:
        return [LogEntry(at, E.DOWNLINK_STARTED.value)]
    if target is Status.SENT_TO_CARRIER:
        return [LogEntry(at, E.DOWNLINK_PART_SENT.value) for _ in range(parts)]
    if target is Status.RETRY:
        return [LogEntry(at, E.DOWNLINK_PART_FAILED.value, error_code or "CARRIER_ERROR")]
    if target is Status.DELIVERED:
        entries = [LogEntry(at, E.DOWNLINK_PART_DELIVERED.value) for _ in range(parts)]
        return [*entries, LogEntry(at, E.DOWNLINK_DELIVERED.value)]
    if target is Status.FAILED:
        if current is Status.PENDING:
            return [LogEntry(at, E.DOWNLINK_REJECTED.value, error_code or "DOWNLINK_REJECTED")]
        return [LogEntry(at, E.DOWNLINK_FAILED.value, error_code or "DOWNLINK_FAILED")]
    if target is Status.CANCELLED:
        return [LogEntry(at, E.DOWNLINK_FAILED.value, error_code or "CANCELLED")]
    return []


def stamp(modified_at: int, at: int) -> int:
    """T2: the instant a change made at `at` is stamped with, given the downlink's current
    `modified_at`: never earlier, and a change always shows (1 ms later at least), except
    at the end of time (MAX_MS), where it can only stand still."""
    return at if at > modified_at else min(modified_at + 1, MAX_MS)


@dataclass(frozen=True, slots=True)
class Change:
    """A judged change of one downlink: its new status, its stamp and the entries it logs
    (each already stamped)."""

    status: Status
    at: int
    entries: list[LogEntry]


def plan_move(
    dl: Downlink,
    target: Status,
    at: int,
    *,
    error_code: str | None = None,
    parts: int | None = None,
    entries: list[LogEntry] | None = None,
) -> Change:
    """The move of `dl` to `target` at `at` as S1, S2 and T2 say; IllegalMove otherwise.

    `parts` is how many parts the move concerns (default: all of the downlink's);
    `entries` replaces S2's default entries (a progression's per-part accounts).
    """
    check_move(dl.status, target)
    check_log_room(dl, target)
    at = stamp(dl.modified_at, at)
    if entries is None:
        entries = move_logs(dl.status, target, at, parts=parts or dl.parts, error_code=error_code)
    for entry in entries:
        entry.created_at = at
    return Change(target, at, entries)


def plan_append(dl: Downlink, entries: list[LogEntry], at: int) -> Change:
    """Log events that change no status (a part delivered, S2); a terminal downlink never
    changes (IllegalMove)."""
    if dl.status.terminal:
        raise IllegalMove(f"a {dl.status.value} downlink never changes")
    check_log_room(dl, dl.status)
    at = stamp(dl.modified_at, at)
    for entry in entries:
        entry.created_at = at
    return Change(dl.status, at, entries)


def apply(dl: Downlink, change: Change) -> None:
    """Write a judged change into `dl` (S3: a move into RETRY counts one retry)."""
    if change.status is Status.RETRY and dl.status is not Status.RETRY:
        dl.retries += 1
    dl.status = change.status
    dl.modified_at = change.at
    dl.logs.extend(change.entries)
    dl.encoded = None
