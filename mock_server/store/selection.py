"""A page selected from candidates that are not in its order, in steps (L4, L6).

A sort the indexes do not serve (networkId, status, externalReference), or a `createdAt`
range sorted by `modifiedAt` (and the reverse) when the range is the smaller side, walks
the candidates in the order of one time index and keeps the best `limit + 1` matches on
the page's side of the cursor, and whether any match lies on the other side.

The store may change between two steps. The walk has covered a prefix of the candidate
index (every entry up to `last`); a downlink added or re-stamped meanwhile is judged again
where it now is: taken out of what was kept, and kept again when it lies in the covered
prefix and qualifies (one ahead is met by the walk later). What was kept stays exact as
long as what was dropped for being worse is not needed: the selection keeps a margin
beyond `limit + 1`, and remembers the best key it ever dropped (`bar`); when changes took
so many kept ones that fewer than `limit + 1` better than `bar` remain, the covered part
is walked again (`restart`). Each step's work stays bounded either way.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Mapping
from itertools import islice
from typing import Any

from mock_server.domain.model import Downlink
from mock_server.store.qindex import Index
from mock_server.store.walks import Work, lookup, walk_many

__all__ = ["Selection", "WITNESSES"]

WITNESSES = 8
"""How many matches on the other side of the cursor are remembered (by id)."""

_CHUNK = 256  # ids looked up at once


class Selection:
    """The best `keep` matches of a candidate walk by `key`, kept exact across changes.

    `indexes()`: the time indexes to walk (by `createdAt` when `by_created`, else by
    `modifiedAt`), merged; only times in `[lo, hi)`. `match`: the filter, None when the
    candidates' range is the whole of it. `bound`: the cursor's key (None on a
    first page); the page's side is after it, or before it when `backwards`, and "best"
    means nearest to it.
    """

    def __init__(
        self,
        indexes: Callable[[], list[Index]],
        by_created: bool,
        lo: int | None,
        hi: int | None,
        by_id: Mapping[str, Downlink],
        match: Callable[[Downlink], bool] | None,
        key: Callable[[Downlink], Any],
        bound: Any,
        backwards: bool,
        keep: int,
        *,
        by_time: tuple[bool, int] | None = None,
        newest_first: bool = False,
    ) -> None:
        self.indexes, self.by_created, self.lo, self.hi = indexes, by_created, lo, hi
        self.by_id, self.match, self.key = by_id, match, key
        self.bound, self.backwards, self.keep = bound, backwards, keep
        # When `key` is (sign x createdAt or modifiedAt, id): which time, and the sign.
        self.by_time = by_time
        # The candidates' order: newest first (the exact reverse of the index) finds the
        # best of a sort by descending time early, and `bar` then turns the rest away
        # cheaply.
        self.newest_first = newest_first
        # Room beyond `keep`, so that a few kept ones changing costs no second walk.
        self.room = 2 * keep + 64
        self.restart()

    def restart(self) -> None:
        """Forget everything: walk the candidates again from the first."""
        self.last: tuple[int, str] | None = None  # the last candidate examined
        self.exhausted = False
        self.entries: Iterator[tuple[int, str]] | None = None
        self.chosen: list[tuple[Any, Downlink]] = []
        self.batch: list[tuple[Any, Downlink]] = []
        self.bar: Any = None  # the best key dropped; every match not kept is no better
        self.witnesses: set[str] = set()  # matches on the other side of the cursor
        self.more_witnesses = False  # some were not remembered

    # -- walking --------------------------------------------------------------------

    def _better(self, a: Any, b: Any) -> bool:
        return bool(a > b) if self.backwards else bool(a < b)

    def _judge(self, dl: Downlink) -> None:
        """Keep `dl` if it matches and is on the page's side; remember it as a witness if
        it matches on the other side."""
        if self.match is not None and not self.match(dl):
            return
        k = self.key(dl)
        bound = self.bound
        # The cursor's own item lies on the side the walk comes from.
        if bound is None or (k < bound if self.backwards else k > bound):
            if self.bar is None or self._better(k, self.bar):
                self.batch.append((k, dl))
        elif len(self.witnesses) < WITNESSES:
            self.witnesses.add(dl.id)
        else:
            self.more_witnesses = True

    def fold(self) -> None:
        """Fold what this step kept into the best `room` (memory stays O(limit))."""
        if not self.batch:
            return
        merged = self.chosen + self.batch
        self.batch = []
        if len(merged) <= self.room:
            self.chosen = merged
            return
        pick = heapq.nlargest if self.backwards else heapq.nsmallest
        best = pick(self.room + 1, merged)
        dropped = best[self.room][0]
        if self.bar is None or self._better(dropped, self.bar):
            self.bar = dropped
        self.chosen = best[: self.room]

    @property
    def done(self) -> bool:
        """Whether every candidate was examined."""
        return self.exhausted

    def advance(self, work: Work) -> None:
        """Examine candidates until they run out or the step's work is spent."""
        while not self.exhausted and work.left > 0:
            if self.entries is None:
                self.entries = self._walk()
            size = min(work.left, _CHUNK)
            chunk = list(islice(self.entries, size))
            if len(chunk) < size:
                self.exhausted = True
                self.entries = None
            if not chunk:
                return
            found = lookup(self.by_id, [did for _, did in chunk])
            if self.bar is not None and self.by_time is not None:
                found = self._near(found)
            for dl in found:
                self._judge(dl)
            self.last = chunk[-1]
            work.spend(len(chunk))
        self.fold()

    def _walk(self) -> Iterator[tuple[int, str]]:
        """The candidates after `last`: ascending, or the exact reverse (newest first)."""
        if not self.newest_first:
            return walk_many(self.indexes(), False, self.last, True, self.lo, self.hi)
        walks = []
        for index in self.indexes():
            first = index.bisect_left((self.lo,)) if self.lo is not None else 0
            stop = index.bisect_left((self.hi,)) if self.hi is not None else len(index)
            if self.last is not None:
                stop = min(stop, index.bisect_left(self.last))
            walks.append(index.islice(first, max(first, stop), reverse=True))
        return walks[0] if len(walks) == 1 else heapq.merge(*walks, reverse=True)

    def _near(self, found: list[Downlink]) -> list[Downlink]:
        """Those of `found` that can be better than `bar`, by their time alone (one
        comparison each, no key built): the others are on the page's side and worse than
        what is kept, so neither kept nor a witness."""
        assert self.by_time is not None
        by_created, sign = self.by_time
        edge = self.bar[0]
        if self.backwards:
            if by_created:
                return [dl for dl in found if sign * dl.created_at >= edge]
            return [dl for dl in found if sign * dl.modified_at >= edge]
        if by_created:
            return [dl for dl in found if sign * dl.created_at <= edge]
        return [dl for dl in found if sign * dl.modified_at <= edge]

    # -- changes between steps -----------------------------------------------------

    def _covered(self, dl: Downlink) -> bool:
        t = dl.created_at if self.by_created else dl.modified_at
        if (self.lo is not None and t < self.lo) or (self.hi is not None and t >= self.hi):
            return False
        if self.exhausted:
            return True
        if self.last is None:
            return False
        if self.newest_first:
            return (t, dl.id) >= self.last
        return (t, dl.id) <= self.last

    def changed(self, downlinks: list[Downlink]) -> None:
        """Judge again the downlinks added or re-stamped since the last step."""
        self.fold()
        ids = {dl.id for dl in downlinks}
        self.chosen = [c for c in self.chosen if c[1].id not in ids]
        self.witnesses -= ids
        for dl in downlinks:
            if self.by_id.get(dl.id) is dl and self._covered(dl):
                self._judge(dl)
        self.fold()
        self.entries = None  # the indexes moved: the walk goes on from `last`

    # -- the page ------------------------------------------------------------------

    def outcome(self, limit: int) -> tuple[list[Downlink], bool, bool] | None:
        """(items, more on the page's side, any on the other side), best first; None
        when changes took what is needed and the candidates must be walked again."""
        self.fold()
        if len(self.chosen) < self.keep and self.bar is not None:
            return None
        if not self.witnesses and self.more_witnesses:
            return None
        ranked = sorted(self.chosen, key=lambda c: c[0], reverse=self.backwards)
        items = [dl for _, dl in ranked[:limit]]
        return items, len(ranked) > limit, bool(self.witnesses)
