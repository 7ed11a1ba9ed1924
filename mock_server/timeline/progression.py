"""The progression engine: plays each new downlink's timeline on the mock's clock (S3, S4).

A timeline keeps one timer on the clock (its next step) and, while SENT_TO_CARRIER, one
for the feedback timeout. A step fires at its due instant (T3), takes the store lock and
first checks that the downlink is still where the timeline left it: a cancel, an M4 move
or an M2 reset in between ends the timeline instead (so nothing is ever logged after a
terminal state, and no move races another). Nothing is polled: the request path pays the
clock's one heap peek, however many timelines are live.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from mock_server.domain.errors import IllegalMove
from mock_server.domain.model import Downlink, Event, LogEntry, Status
from mock_server.store.base import Store
from mock_server.timeline.clock import Clock, Timer
from mock_server.timeline.scenarios import Delay, Progression, Scenario, Step

__all__ = ["Progressions", "Upcoming", "RETRY_LIMIT_EXCEEDED", "FEEDBACK_TIMEOUT", "CARRIER_ERROR"]

RETRY_LIMIT_EXCEEDED = "RETRY_LIMIT_EXCEEDED"  # S3: a failed try with no retry left
FEEDBACK_TIMEOUT = "FEEDBACK_TIMEOUT"  # S4: too long in SENT_TO_CARRIER
CARRIER_ERROR = "CARRIER_ERROR"  # a failed try's errorCode when the step names none
_TWO_64 = float(1 << 64)


@dataclass(frozen=True, slots=True)
class Upcoming:
    """A move a timeline still has scheduled: due between `earliest` and `latest` (equal
    when known exactly), to `target` (None: `parts_delivered` more parts delivered)."""

    earliest: int
    latest: int
    target: Status | None
    parts_delivered: int = 0
    error_code: str | None = None
    chance: float = 1.0
    timeout: bool = False  # the feedback timeout (S4), not a step


class _Timeline:
    """One downlink's place in its progression."""

    __slots__ = (
        "dl",
        "progression",
        "steps",
        "index",
        "seen",
        "delivered",
        "key",
        "draws",
        "timer",
        "deadline",
        "done",
    )

    def __init__(self, dl: Downlink, progression: Progression, key: bytes | None) -> None:
        self.dl = dl
        self.progression = progression
        self.steps = progression.steps  # this try's steps
        self.index = 0  # the next step
        self.seen = len(dl.logs)  # log length after the timeline's own last change
        self.delivered = 0  # parts delivered so far (S2 per-part events)
        self.key = key  # seed and creation ordinal; None: unseeded draws
        self.draws = 0
        self.timer: Timer | None = None
        self.deadline: Timer | None = None  # the feedback timeout (S4)
        self.done = False


class Progressions:
    """Chooses and plays progressions. Hook `start` on `Store.on_create`, `reset` on M2."""

    def __init__(self, clock: Clock, store: Store, scenario: Scenario) -> None:
        self.clock = clock
        self.store = store
        self.configured = scenario  # what M2 returns to
        self.scenario = scenario  # what new downlinks get (M6 swaps it)
        # Timelines with a move or a timeout still to come (one ended by a cancel or M4
        # counts until its next timer notices).
        self.live = 0
        self._ordinal = 0
        self._timelines: dict[str, _Timeline] = {}  # live ones by downlink id (upcoming)

    # -- the scenario ------------------------------------------------------------------

    def use(self, scenario: Scenario) -> None:
        """New downlinks get `scenario` (M6); timelines already running go on as they were."""
        with self.store.lock:
            self.scenario = scenario
            self._ordinal = 0

    def reset(self) -> None:
        """M2: back to the configured scenario (the reset clock dropped every timer)."""
        with self.store.lock:
            self.scenario = self.configured
            self._ordinal = 0
            self.live = 0
            self._timelines.clear()

    def describe(self) -> dict[str, Any]:
        """The current scenario's summary, with the count of live timelines."""
        return {**self.scenario.summary(), "liveTimelines": self.live}

    # -- timelines ---------------------------------------------------------------------

    def start(self, dl: Downlink, *, ordinal: int | None = None, key: bytes | None = None) -> None:
        """Give a new downlink its progression and schedule its first step. `ordinal` is
        its creation ordinal under a seeded scenario when another counter keeps it (the
        shared store's); this engine counts them itself otherwise. `key`, under an
        unseeded scenario, makes the timeline's draws a function of it (the shared store's
        processes each play the timeline and must draw alike)."""
        scenario = self.scenario
        progression = scenario.choose(dl)
        dl.progression = progression.name
        if ordinal is None:
            ordinal = self._ordinal
            self._ordinal += 1
        if progression.still:
            return
        if scenario.seed is not None:
            key = f"{scenario.seed}:{ordinal}".encode()
        timeline = _Timeline(dl, progression, key)
        self.live += 1
        self._timelines[dl.id] = timeline
        self._schedule_next(timeline, dl.created_at)

    def _schedule_next(self, tl: _Timeline, base: int) -> None:
        if tl.index < len(tl.steps):
            due = base + self._delay(tl, tl.steps[tl.index].delay)
            tl.timer = self.clock.schedule(due, partial(self._fire, tl))
        else:
            tl.timer = None
            if tl.deadline is None:
                self._end(tl)

    def _fire(self, tl: _Timeline, due: int) -> None:
        with self.store.lock:
            if tl.done:
                return
            tl.timer = None
            if self._interfered(tl):
                return
            step = tl.steps[tl.index]
            tl.index += 1
            if step.chance >= 1 or self._draw(tl) < step.chance:
                try:
                    self._apply(tl, step, due)
                except IllegalMove:  # a move S1 forbids: checked at load, so never expected
                    self._end(tl)
                    return
                tl.seen = len(tl.dl.logs)
                if tl.dl.status.terminal:
                    self._end(tl)
                    return
            self._schedule_next(tl, due)

    def _apply(self, tl: _Timeline, step: Step, at: int) -> None:
        dl, store = tl.dl, self.store
        if step.target is None:
            # Parts reach the device; one is always left for the DELIVERED move.
            count = min(step.parts_delivered, dl.parts - 1 - tl.delivered)
            if count > 0:
                event = Event.DOWNLINK_PART_DELIVERED.value
                store.append_logs(dl, [LogEntry(at, event) for _ in range(count)], at)
                tl.delivered += count
            return
        target = step.target
        if target is not Status.SENT_TO_CARRIER:
            self._disarm(tl)
        if target is Status.RETRY:
            code = step.error_code or CARRIER_ERROR
            if dl.retries < dl.retry_limit:
                store.transition(dl, Status.RETRY, at, error_code=code)
                tl.steps, tl.index = tl.progression.retry_steps, 0
            else:
                # S3: the try failed and no retry is left.
                entries = [
                    LogEntry(at, Event.DOWNLINK_PART_FAILED.value, code),
                    LogEntry(at, Event.DOWNLINK_FAILED.value, RETRY_LIMIT_EXCEEDED),
                ]
                store.transition(dl, Status.FAILED, at, entries=entries)
            return
        # Parts delivered on an earlier try are neither sent nor delivered again.
        remaining = dl.parts - tl.delivered
        store.transition(dl, target, at, error_code=step.error_code, parts=remaining)
        if target is Status.SENT_TO_CARRIER:
            self._arm(tl)

    # -- the feedback timeout (S4) -----------------------------------------------------

    def _arm(self, tl: _Timeline) -> None:
        timeout = tl.dl.feedback_timeout_ms or tl.progression.feedback_timeout_ms
        if timeout and tl.deadline is None:
            due = tl.dl.modified_at + timeout
            tl.deadline = self.clock.schedule(due, partial(self._expire, tl))

    def _disarm(self, tl: _Timeline) -> None:
        if tl.deadline is not None:
            tl.deadline.cancelled = True
            tl.deadline = None

    def _expire(self, tl: _Timeline, due: int) -> None:
        with self.store.lock:
            if tl.done:
                return
            tl.deadline = None
            if self._interfered(tl):
                return
            if tl.dl.status is Status.SENT_TO_CARRIER:
                self.store.transition(tl.dl, Status.FAILED, due, error_code=FEEDBACK_TIMEOUT)
            self._end(tl)

    def upcoming(self, downlink_id: str) -> list[Upcoming]:
        """What the downlink's timeline still has scheduled, soonest first: the next step
        at its due instant, the later steps of this try as ranges (their delays may be
        drawn), and the feedback timeout while armed. Empty when no timeline runs, or a
        cancel or M4 move has ended it."""
        with self.store.lock:
            tl = self._timelines.get(downlink_id)
            if tl is None or tl.done:
                return []
            dl = tl.dl
            if len(dl.logs) != tl.seen or dl.status.terminal:
                return []  # interfered with: the timeline ends at its next timer
            out: list[Upcoming] = []
            if tl.timer is not None and not tl.timer.cancelled:
                low = high = tl.timer.due
                retries = dl.retries
                for i, step in enumerate(tl.steps[tl.index :]):
                    if i:
                        low, high = low + step.delay.low, high + step.delay.high
                    target, code = step.target, step.error_code
                    if target is Status.RETRY:
                        if retries >= dl.retry_limit:  # S3: no retry left
                            target, code = Status.FAILED, RETRY_LIMIT_EXCEEDED
                        retries += 1
                    out.append(Upcoming(low, high, target, step.parts_delivered, code, step.chance))
            if tl.deadline is not None and not tl.deadline.cancelled:
                due = tl.deadline.due
                out.append(Upcoming(due, due, Status.FAILED, 0, FEEDBACK_TIMEOUT, timeout=True))
            out.sort(key=lambda u: (u.earliest, u.latest))
            return out

    # -- timelines as data (the shared store keeps them between processes) -------------

    def export(self, downlink_id: str) -> dict[str, Any] | None:
        """The downlink's live timeline as plain data (`adopt` plays it on), or None."""
        tl = self._timelines.get(downlink_id)
        if tl is None or tl.done:
            return None
        timer = tl.timer.due if tl.timer is not None and not tl.timer.cancelled else None
        deadline = tl.deadline
        return {
            "progression": tl.progression.name,
            "retrying": tl.steps is not tl.progression.steps,
            "index": tl.index,
            "seen": tl.seen,
            "delivered": tl.delivered,
            "key": None if tl.key is None else tl.key.decode(),
            "draws": tl.draws,
            "timer": timer,
            "deadline": None if deadline is None or deadline.cancelled else deadline.due,
        }

    def adopt(self, dl: Downlink, state: Mapping[str, Any] | None, scenario: Scenario) -> None:
        """Make `state` (from `export`, under `scenario`) the downlink's timeline here,
        replacing any it had; None: it has none. Timers are scheduled at the due instants
        the state holds, so nothing is drawn again."""
        self.forget(dl.id)
        if state is None:
            return
        progression = scenario.progressions.get(state["progression"])
        if progression is None:
            return  # a scenario without it (never for a state this engine exported)
        key = state["key"]
        tl = _Timeline(dl, progression, None if key is None else str(key).encode())
        if state["retrying"]:
            tl.steps = progression.retry_steps
        tl.index = int(state["index"])
        tl.seen = int(state["seen"])
        tl.delivered = int(state["delivered"])
        tl.draws = int(state["draws"])
        self.live += 1
        self._timelines[dl.id] = tl
        if state["timer"] is not None:
            tl.timer = self.clock.schedule(int(state["timer"]), partial(self._fire, tl))
        if state["deadline"] is not None:
            due = int(state["deadline"])
            tl.deadline = self.clock.schedule(due, partial(self._expire, tl))

    def forget(self, downlink_id: str) -> None:
        """End the downlink's timeline here, if it has one, changing nothing stored."""
        tl = self._timelines.get(downlink_id)
        if tl is not None:
            self._end(tl)

    # -- helpers -----------------------------------------------------------------------

    def _interfered(self, tl: _Timeline) -> bool:
        """Whether something else changed the downlink (cancel, M4): then the timeline ends."""
        dl = tl.dl
        if len(dl.logs) != tl.seen or dl.status.terminal:
            self._end(tl)
            return True
        return False

    def _end(self, tl: _Timeline) -> None:
        if tl.done:
            return
        tl.done = True
        self._timelines.pop(tl.dl.id, None)
        if tl.timer is not None:
            tl.timer.cancelled = True
            tl.timer = None
        self._disarm(tl)
        self.live -= 1

    def _draw(self, tl: _Timeline) -> float:
        """A number in [0, 1): from the seed and the downlink's creation ordinal, so one
        downlink's luck does not depend on how others' timelines interleave."""
        if tl.key is None:
            return random.random()
        tl.draws += 1
        digest = hashlib.blake2b(tl.key + b":%d" % tl.draws, digest_size=8).digest()
        return int.from_bytes(digest, "big") / _TWO_64

    def _delay(self, tl: _Timeline, delay: Delay) -> int:
        if not delay.random:
            return delay.low
        return min(delay.high, delay.low + int(self._draw(tl) * (delay.high - delay.low + 1)))
