"""Walks of the sorted `(time, id)` indexes in a page's order (L4, L6).

A page sorted by `createdAt` or `modifiedAt` (ties by id ascending) is a walk of one
client's index (or of several device indexes merged), strictly after (or before) a keyset
cursor, within a time range: `walk_many` gives its entries lazily, so a page looks at what
it needs and no more. `Walk` collects a page's matches off such a walk, a bounded number
of entries a step, and follows the changes of the indexes between its steps: it has
covered the stretch from its start to its last entry, and a changed downlink is taken out
of what it collected and put back in order when it now lies in that stretch and matches
(one ahead is met by the walk later). An ascending walk is one bisected slice of the index; a descending
one turns each run of equal times around, so that ties stay in ascending id order.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Mapping
from itertools import islice
from typing import Any

from mock_server.domain.model import Downlink
from mock_server.store.qindex import Index
from mock_server.store.shards import ShardedDict

__all__ = ["Work", "Walk", "walk_many", "walk", "lookup"]

_CHUNK = 256  # ids looked up at once


class Work:
    """What a page being built has done: downlinks examined (in all) and distinct values
    scanned (`q`), and how many more downlinks the current step may examine."""

    __slots__ = ("examined", "values", "left")

    def __init__(self, left: int) -> None:
        self.examined = 0
        self.values = 0
        self.left = left

    def spend(self, n: int) -> None:
        """Count `n` downlinks examined in this step."""
        self.examined += n
        self.left -= n


def lookup(by_id: Mapping[str, Downlink], ids: list[str]) -> list[Downlink]:
    """The downlinks of `ids`, in one pass where the mapping allows it."""
    if isinstance(by_id, ShardedDict):
        return by_id.values_of(ids)
    return [by_id[i] for i in ids]


class Walk:
    """One walk of time indexes (`indexes()`, merged) in a page's order from `start`
    (exclusive), forward or backwards, collecting the first `need` downlinks that `test`
    accepts (every one in `bounds` when `test` is None); kept exact when downlinks change
    between steps (`changed`)."""

    def __init__(
        self,
        indexes: Callable[[], list[Index]],
        by_id: Mapping[str, Downlink],
        by_created: bool,
        desc: bool,
        start: tuple[int, str] | None,
        forward: bool,
        need: int,
        test: Callable[[Downlink], bool] | None,
        bounds: tuple[int | None, int | None],
    ) -> None:
        self.indexes, self.by_id = indexes, by_id
        self.by_created, self.desc = by_created, desc
        self.start, self.forward, self.need, self.test = start, forward, need, test
        self.lo, self.hi = bounds
        self.got: list[Downlink] = []  # in walk order
        self.last: tuple[int, str] | None = None  # the last entry examined
        self.exhausted = False
        self.entries: Iterator[tuple[int, str]] | None = None

    @property
    def done(self) -> bool:
        return self.exhausted or len(self.got) >= self.need

    def key(self, dl: Downlink) -> tuple[int, str]:
        """`dl`'s entry in the walked index."""
        return (dl.created_at if self.by_created else dl.modified_at, dl.id)

    def _rank(self, entry: tuple[int, str]) -> tuple[int, str]:
        """Ascending in the page's order (time descending for a descending sort)."""
        return (-entry[0], entry[1]) if self.desc else entry

    def _covered(self, entry: tuple[int, str]) -> bool:
        """Whether the walk has passed `entry`: in range, after `start`, up to `last`."""
        t = entry[0]
        if (self.lo is not None and t < self.lo) or (self.hi is not None and t >= self.hi):
            return False
        r = self._rank(entry)
        if self.start is not None:
            s = self._rank(self.start)
            if (r <= s) if self.forward else (r >= s):
                return False
        if self.exhausted:
            return True
        if self.last is None:
            return False
        end = self._rank(self.last)
        return r <= end if self.forward else r >= end

    def advance(self, work: Work) -> None:
        """Examine entries until `need` are collected, the walk ends, or the step's work
        is spent."""
        while not self.done and work.left > 0:
            if self.entries is None:
                self.entries = walk_many(
                    self.indexes(),
                    self.desc,
                    self.last if self.last is not None else self.start,
                    self.forward,
                    self.lo,
                    self.hi,
                )
            want = self.need - len(self.got)
            # Without a test every entry is taken: read no more than are wanted.
            size = min(work.left, want if self.test is None else max(want, 8), _CHUNK)
            chunk = list(islice(self.entries, size))
            if len(chunk) < size:
                self.exhausted = True
            if not chunk:
                self.entries = None
                return
            found = lookup(self.by_id, [did for _, did in chunk])
            test = self.test
            if test is None:
                self.got.extend(found)
                self.last = chunk[-1]
                work.spend(len(chunk))
                continue
            n = 0
            for dl in found:
                n += 1
                if test(dl):
                    self.got.append(dl)
                    if len(self.got) >= self.need:
                        break
            self.last = chunk[n - 1]
            work.spend(n)
            if n < len(chunk):
                # Entries past the last one examined were read off the walk: it goes on
                # from `last` next time.
                self.exhausted = False
                self.entries = None
        if self.exhausted:
            self.entries = None

    def changed(self, downlinks: list[Downlink]) -> None:
        """Judge again the downlinks added or re-stamped since the last step: out of what
        was collected, and back in order when the walk has passed where they now are."""
        ids = {dl.id for dl in downlinks}
        got = [dl for dl in self.got if dl.id not in ids]
        by_id, test = self.by_id, self.test
        for dl in downlinks:
            if by_id.get(dl.id) is dl and self._covered(self.key(dl)):
                if test is None or test(dl):
                    got.append(dl)
        rank, key = self._rank, self.key
        got.sort(key=lambda dl: rank(key(dl)), reverse=not self.forward)
        if len(got) > self.need:
            # The walk is done nearer to its start than it had gone: it has passed up to
            # the last one it keeps.
            del got[self.need :]
            self.last = key(got[-1])
            self.exhausted = False
        self.got = got
        self.entries = None  # the indexes moved: the walk goes on from `last`


def walk_many(
    indexes: list[Index],
    desc: bool,
    start: tuple[int, str] | None,
    forward: bool,
    lo: int | None,
    hi: int | None,
) -> Iterator[tuple[int, str]]:
    """`walk` over several disjoint indexes at once, merged into the one order."""
    walks = [walk(index, desc, start, forward, lo, hi) for index in indexes]
    if len(walks) == 1:
        return walks[0]
    # Ascending: (t, id) ascending. Descending: t descending, id ascending. Backwards: the
    # reverse of either.
    key: Callable[[tuple[int, str]], Any] | None = (lambda e: (-e[0], e[1])) if desc else None
    return heapq.merge(*walks, key=key, reverse=not forward)


def walk(
    index: Index,
    desc: bool,
    start: tuple[int, str] | None,
    forward: bool,
    lo: int | None,
    hi: int | None,
) -> Iterator[tuple[int, str]]:
    """Entries of `index` (sorted `(t, id)` pairs) in the order t asc (or desc), id asc.

    Forward: strictly after `start` in that order (from the beginning when None).
    Backwards: strictly before `start`, nearest first. Only `lo <= t < hi`.
    """
    if desc:
        return _walk_desc(index, start, forward, lo, hi)
    # Ascending time: one slice of the index, its ends found by bisection (`(t,)` sorts
    # before every `(t, id)`), so no entry is looked at in Python.
    if forward:
        pos = index.bisect_right(start) if start is not None else 0
        if lo is not None:
            pos = max(pos, index.bisect_left((lo,)))
        stop = index.bisect_left((hi,)) if hi is not None else None
        if stop is not None and stop <= pos:
            return iter(())
        return index.islice(pos, stop)
    assert start is not None
    pos = index.bisect_left(start)
    if hi is not None:
        pos = min(pos, index.bisect_left((hi,)))
    first = index.bisect_left((lo,)) if lo is not None else 0
    if pos <= first:
        return iter(())
    return index.islice(first, pos, reverse=True)


def _walk_desc(
    index: Index,
    start: tuple[int, str] | None,
    forward: bool,
    lo: int | None,
    hi: int | None,
) -> Iterator[tuple[int, str]]:
    """`walk` in descending time."""
    # Descending time, but ties stay in ascending id order (L4): scan the other way and
    # turn each run of equal times around.
    in_range = (
        start is not None and (lo is None or start[0] >= lo) and (hi is None or start[0] < hi)
    )
    if forward:
        if start is not None:
            t0 = start[0]
            if in_range:
                yield from index.islice(index.bisect_right(start), index.bisect_left((t0 + 1,)))
            p = index.bisect_left((t0,))
        else:
            p = len(index)
        if hi is not None:
            p = min(p, index.bisect_left((hi,)))
        yield from _runs_down(index, p, lo)
    else:
        assert start is not None
        t0 = start[0]
        if in_range:
            yield from index.islice(
                index.bisect_left((t0,)), index.bisect_left(start), reverse=True
            )
        p = index.bisect_left((t0 + 1,))
        if lo is not None:
            p = max(p, index.bisect_left((lo,)))
        yield from _runs_up(index, p, hi)


# A run of equal times longer than this is found by bisection instead of being collected,
# so that a huge tie (a manual clock that never moved) costs O(log n), not its length.
_LONG_RUN = 32


def _runs_down(index: Index, p: int, lo: int | None) -> Iterator[tuple[int, str]]:
    """Entries at positions < p, times descending, ids ascending within a time; t >= lo."""
    while p > 0:
        run: list[tuple[int, str]] = []
        pos = p
        for entry in index.islice(0, p, reverse=True):
            pos -= 1
            t = entry[0]
            if lo is not None and t < lo:
                yield from reversed(run)
                return
            if run and t != run[0][0]:
                yield from reversed(run)
                run = []
            run.append(entry)
            if len(run) > _LONG_RUN:
                first = index.bisect_left((t,))
                yield from index.islice(first, pos + len(run))
                p = first
                break
        else:
            yield from reversed(run)
            return


def _runs_up(index: Index, p: int, hi: int | None) -> Iterator[tuple[int, str]]:
    """Entries at positions >= p, times ascending, ids descending within a time; t < hi."""
    n = len(index)
    while p < n:
        run: list[tuple[int, str]] = []
        pos = p - 1
        for entry in index.islice(p):
            pos += 1
            t = entry[0]
            if hi is not None and t >= hi:
                yield from reversed(run)
                return
            if run and t != run[0][0]:
                yield from reversed(run)
                run = []
            run.append(entry)
            if len(run) > _LONG_RUN:
                after = index.bisect_left((t + 1,))
                yield from index.islice(pos - len(run) + 1, after, reverse=True)
                p = after
                break
        else:
            yield from reversed(run)
            return
