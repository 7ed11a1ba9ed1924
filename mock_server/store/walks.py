"""Walks of the sorted `(time, id)` indexes in a page's order (L4, L6).

A page sorted by `createdAt` or `modifiedAt` (ties by id ascending) is a walk of one
client's index (or of several device indexes merged), strictly after (or before) a keyset
cursor, within a time range: `walk_many` gives its entries lazily, so a page looks at what
it needs and no more. An ascending walk is one bisected slice of the index; a descending
one turns each run of equal times around, so that ties stay in ascending id order.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from mock_server.domain.model import Downlink
from mock_server.store.qindex import Index
from mock_server.store.shards import ShardedDict

__all__ = ["Work", "walk_many", "walk", "lookup"]


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
