"""The mock's only source of "now" (T3, M5), and the scheduler of due moves.

Moves that fall due are fired lazily: before every request is handled, and inside every
clock change, `Clock.run_due()` fires each due move in time order *at its due instant*
(the clock reads that instant while the move runs). So a downlink's history is the same
whether someone looked at it the moment a move fell due or an hour later, and a request
pays one heap peek when nothing is due.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mock_server.config import ClockMode
from mock_server.domain.errors import ClockBackwards
from mock_server.domain.timefmt import MAX_MS, format_ms

__all__ = ["Clock", "Timer"]


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(order=True, slots=True)
class Timer:
    """A move scheduled for `due` (epoch ms). Cancel it by setting `cancelled`."""

    due: int
    seq: int
    action: Callable[[int], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class Clock:
    """Real, scaled or manual time in epoch milliseconds, with a queue of due moves."""

    def __init__(
        self,
        mode: ClockMode = ClockMode.REAL,
        start: int | None = None,
        speed: float = 1.0,
        *,
        lock: threading.RLock | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError("the clock speed must be positive")
        self.mode = mode
        self.speed = speed if mode is ClockMode.SCALED else 1.0
        self._lock = lock or threading.RLock()
        # (due, seq, timer): the heap orders plain tuples in C, never calling Timer's
        # generated comparisons (seq is unique, so the timer itself is never compared).
        self._timers: list[tuple[int, int, Timer]] = []
        self._seq = itertools.count()
        self._firing_at: int | None = None
        self._configured_start = start
        self._reset_time()

    def _reset_time(self) -> None:
        self._anchor_wall = _wall_ms()
        self._anchor = (
            self._configured_start if self._configured_start is not None else self._anchor_wall
        )
        self.start = self._anchor

    # -- reading -----------------------------------------------------------------

    def now(self) -> int:
        """The current instant in epoch ms; while a due move fires, its due instant."""
        if self._firing_at is not None:
            return self._firing_at
        if self.mode is ClockMode.MANUAL:
            return self._anchor
        elapsed = _wall_ms() - self._anchor_wall
        return min(self._anchor + int(elapsed * self.speed), MAX_MS)

    @property
    def pending(self) -> int:
        """How many scheduled moves are still waiting (cancelled ones included until popped)."""
        return len(self._timers)

    # -- scheduling --------------------------------------------------------------

    def schedule(self, due: int, action: Callable[[int], None]) -> Timer:
        """Run `action(due)` once the clock reaches `due`."""
        with self._lock:
            timer = Timer(due, next(self._seq), action)
            heapq.heappush(self._timers, (due, timer.seq, timer))
            return timer

    def state(self) -> dict[str, int | float | str | None]:
        """What another process needs to read the same time (the shared clock, M5)."""
        return {
            "mode": self.mode.value,
            "speed": self.speed,
            "anchor": self._anchor,
            "anchorWall": self._anchor_wall,
            "start": self.start,
        }

    def adopt(self, state: dict[str, int | float | str | None]) -> None:
        """Read time as `state` (from `state()` of this or another process) says."""
        with self._lock:
            self.mode = ClockMode(str(state["mode"]))
            self.speed = float(state["speed"] or 1.0)
            self._anchor = int(state["anchor"] or 0)
            self._anchor_wall = int(state["anchorWall"] or 0)
            self.start = int(state["start"] or 0)

    def run_due(self) -> int:
        """Fire every move due by now, in time order, each at its own instant. Returns count."""
        timers = self._timers
        if not timers or timers[0][0] > self.now():
            return 0  # the request path's whole cost when nothing is due
        with self._lock:
            return self._fire_until(self.now())

    def _fire_until(self, limit: int) -> int:
        fired = 0
        while self._timers and self._timers[0][0] <= limit:
            timer = heapq.heappop(self._timers)[2]
            if timer.cancelled:
                continue
            self._firing_at = timer.due
            try:
                timer.action(timer.due)
            finally:
                self._firing_at = None
            fired += 1
        return fired

    # -- moving (M5) ---------------------------------------------------------------

    def set(self, instant: int) -> int:
        """Move the clock to `instant`, firing what falls due on the way; ClockBackwards
        (409) for an instant before now."""
        with self._lock:
            current = self.now()
            if instant > MAX_MS:
                raise ValueError(f"the clock cannot go past {format_ms(MAX_MS)}")
            if instant < current:
                raise ClockBackwards(
                    "the clock cannot go backwards: it reads a later instant already",
                )
            fired = self._fire_until(instant)
            # Re-anchor so that a real or scaled clock goes on from the new instant.
            self._anchor_wall = _wall_ms()
            self._anchor = instant
            return fired

    def rewind(self, instant: int) -> None:
        """Set the clock back to `instant` (an admin's way back from a clock set too far,
        M5). Nothing fires and nothing already stamped changes: moves scheduled after
        `instant` wait until the clock reaches them again, and a change stamped while the
        clock reads earlier than a downlink's `modifiedAt` is stamped after it (T2)."""
        with self._lock:
            if instant > self.now():
                raise ValueError("a rewind goes back: use set to go forward")
            self._anchor_wall = _wall_ms()
            self._anchor = instant

    def advance(self, millis: int) -> int:
        """Move the clock forward by `millis`, firing what falls due on the way."""
        if millis < 0:
            raise ClockBackwards("the clock cannot go backwards")
        with self._lock:
            return self.set(self.now() + millis)

    def reset(self) -> None:
        """Back to the configured start (M2), with nothing scheduled."""
        with self._lock:
            self._timers.clear()
            self._reset_time()
