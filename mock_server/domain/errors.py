"""What the domain refuses: one exception family, free of HTTP.

The store, the clock and the lifecycle raise these; the HTTP edge turns each into its
problem+json answer in one place (`mock_server.http.problems.problem_for`), so the
domain never names a status code.
"""

from __future__ import annotations

__all__ = [
    "Violation",
    "DomainError",
    "NotFound",
    "Conflict",
    "IllegalMove",
    "LogFull",
    "NotCancellable",
    "ReferenceTaken",
    "IdTaken",
    "ClockBackwards",
    "InvalidQuery",
]

Violation = dict[str, str]
"""One E2 entry: {"pointer": "#/retryLimit", "detail": ...} or {"parameter": "limit", ...}."""


class DomainError(Exception):
    """Root of every error the domain raises; `detail` says what and why, for people."""

    def __init__(self, detail: str, *, errors: list[Violation] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class NotFound(DomainError):
    """No such thing: a downlink unknown or not the caller's (A5), a fault id, ..."""


class Conflict(DomainError):
    """The current state does not permit it (C6, X1, M3, M4, M5)."""


class IllegalMove(Conflict):
    """A status move the S1 table forbids, or a change to a terminal downlink."""


class LogFull(IllegalMove):
    """A move or log event that would grow a downlink's logs past the cap (S2)."""


class NotCancellable(Conflict):
    """A cancel the downlink's status refuses (X1-X3)."""


class ReferenceTaken(Conflict):
    """The client already holds this externalReference (C6, M3)."""


class IdTaken(Conflict):
    """A downlink with this id is already stored (M3)."""


class ClockBackwards(Conflict):
    """The clock only goes forward (M5)."""


class InvalidQuery(DomainError):
    """A list request the list rules refuse (L2-L7); `errors` names every violation (E2)."""
