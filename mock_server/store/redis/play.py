"""One downlink's change worked out off-line, on a copy: what the shared store commits.

Processes sharing a store never make a request's change to their own copy of the state
directly: each works out a create, a cancel or an M4 move on a private copy of the one
downlink it touches (with the same lifecycle and progression engine as the memory store),
then commits the result only if nobody changed that downlink meanwhile
(mock_server/store/redis/state.py). Every process then applies the committed change to its
copy, so all of them hold the same state. (The moves of a timeline are not committed:
each process plays them on its copy, alike; store/redis/replica.py.)
"""

from __future__ import annotations

import os
import threading
from typing import Any, cast

from mock_server.config import ClockMode
from mock_server.domain import lifecycle
from mock_server.domain.model import Downlink, Status
from mock_server.store.base import Store
from mock_server.store.redis.codec import dump_downlink, load_downlink
from mock_server.timeline.clock import Clock
from mock_server.timeline.progression import Progressions
from mock_server.timeline.scenarios import Scenario

__all__ = ["copy_downlink", "play_start", "play_cancel", "play_move"]


class _Unwritten:
    """The store the progression engine holds while it starts a timeline here: starting
    only chooses the progression and schedules its first step (the engine's clock is
    never run), so nothing is ever written to it; the engine takes its lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()


def copy_downlink(dl: Downlink) -> Downlink:
    """A deep copy that shares nothing with `dl`."""
    return load_downlink(dump_downlink(dl))


def _engine(now: int, scenario: Scenario) -> Progressions:
    clock = Clock(ClockMode.MANUAL, now)
    return Progressions(clock, cast(Store, _Unwritten()), scenario)


def play_start(dl: Downlink, scenario: Scenario, ordinal: int | None) -> dict[str, Any] | None:
    """Give the new downlink `dl` its progression (S4); its timeline, or None when it
    has none (a still progression). Every draw the timeline will make is a function of
    its key (the seed and `ordinal` under a seeded scenario, else a random one made
    here), so every process that plays it moves the downlink alike."""
    engine = _engine(dl.created_at, scenario)
    key = None if scenario.seed is not None else os.urandom(12).hex().encode()
    engine.start(dl, ordinal=0 if ordinal is None else ordinal, key=key)
    return engine.export(dl.id)


def _moved(dl: Downlink, target: Status, at: int, error_code: str | None = None) -> Downlink:
    """A copy of `dl` moved to `target` as the lifecycle allows (S1, S2, T2)."""
    copy = copy_downlink(dl)
    lifecycle.apply(copy, lifecycle.plan_move(copy, target, at, error_code=error_code))
    return copy


def play_cancel(dl: Downlink, forced: bool, at: int) -> Downlink:
    """X1-X4 on a copy: NotCancellable (409) when the rule refuses."""
    lifecycle.check_cancel(dl.status, forced)
    return _moved(dl, Status.CANCELLED, at)


def play_move(dl: Downlink, target: Status, at: int, error_code: str | None) -> Downlink:
    """M4 on a copy: IllegalMove (409) when S1 forbids it."""
    return _moved(dl, target, at, error_code)
