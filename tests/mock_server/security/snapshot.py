"""What a refused request must leave as it was: the state a test compares before and after."""

from __future__ import annotations

from typing import Any

from mock_server.mock import Mock

__all__ = ["snapshot"]


def snapshot(mock: Mock) -> dict[str, Any]:
    """The mock's observable state: store version and size, clock, scenario (the object
    and its summary), faults with their counts, and the journal's last seq (a public
    request adds one entry even when refused; a control request none)."""
    return {
        "version": mock.store.version,
        "stored": len(mock.store),
        "now": mock.clock.now(),
        "scenario": (id(mock.progressions.scenario), mock.progressions.describe()),
        "faults": [fault.to_json() for fault in mock.faults.list()],
        "journal": mock.journal.seq,
    }
