"""Keeping the cyclic garbage collector off the stored downlinks.

Every downlink is several objects the collector tracks (the downlink, its logs and their
entries, its method), and a full collection visits every tracked object: at a million
stored that is a pause of a second or more, at moments no request chooses. Stored
downlinks hold no reference cycles (reference counting frees them), so visiting them
finds nothing. Once the store is large, what is alive is moved out of the collector's
generations (`gc.freeze`) as the store grows, after a collection of the young
generations, so that new garbage is still collected; emptying the store (M2) gives every
frozen object back to the collector.

A serving process also collects its youngest generation less often (`tune_collector`):
a request that waits (on the shared store's round trips, on a slow client) keeps its
objects alive, and at CPython's default of a collection every 700 objects, 32 such
requests in flight had theirs promoted on nearly every young collection, until the full
collections this promotion brings on took a third of a Redis-store request's CPU.
"""

from __future__ import annotations

import gc

__all__ = ["Lifetime", "FREEZE_FROM", "FREEZE_EVERY", "YOUNG_THRESHOLD", "tune_collector"]

FREEZE_FROM = 50_000
"""Stored downlinks from which the live objects are frozen (below it a pause is short)."""

FREEZE_EVERY = 25_000
"""Downlinks stored between two freezes."""


YOUNG_THRESHOLD = 10_000
"""Objects allocated (net) between two collections of the youngest generation in a
serving process (CPython's default: 700): more than the requests in flight hold, so what
they hold is freed by reference counting before a collection can promote it."""


def tune_collector() -> None:
    """Set a serving process's collector (`downlinks-mock serve`, each of its workers);
    a mock run inside tests or another program leaves its host's setting alone."""
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)


class Lifetime:
    """Freezes the live objects as a store grows large; unfreezes when it is emptied."""

    __slots__ = ("frozen_at", "freezes")

    def __init__(self) -> None:
        self.frozen_at = 0  # the store's size at the last freeze
        self.freezes = 0

    def stored(self, size: int) -> None:
        """The store holds `size` downlinks now."""
        if size >= FREEZE_FROM and size - self.frozen_at >= FREEZE_EVERY:
            gc.collect(1)  # the young garbage is collected before the rest is frozen
            gc.freeze()
            self.frozen_at = size
            self.freezes += 1

    def emptied(self) -> None:
        """The store was emptied: what was frozen is the collector's again."""
        if self.freezes:
            gc.unfreeze()
        self.frozen_at = 0
        self.freezes = 0
