"""One client's sorted indexes, and the keyset walks that page through them (L2-L6).

Per client (tenant, A5) two sorted indexes of `(time, id)`, one by `createdAt` and one by
`modifiedAt`, answer the default sort and the time filters in O(log n + limit) (keyset
pages, L6). Other sorts select the best `limit + 1` from the candidates in one pass.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Mapping
from itertools import islice

from sortedcontainers import SortedList

from mock_server.domain.model import Downlink
from mock_server.store.base import Page
from mock_server.store.query import ListQuery

__all__ = ["Tenant", "Match", "page"]

Match = Callable[[Downlink], bool]
"""A query's filter predicate (L1, L2)."""


class Tenant:
    """One client's indexes: `(createdAt, id)` and `(modifiedAt, id)`, sorted."""

    __slots__ = ("created", "modified")

    def __init__(self) -> None:
        self.created: SortedList = SortedList()
        self.modified: SortedList = SortedList()

    def add(self, dl: Downlink) -> None:
        """Index a new downlink."""
        self.created.add((dl.created_at, dl.id))
        self.modified.add((dl.modified_at, dl.id))

    def restamp(self, dl: Downlink, modified_at: int) -> None:
        """Re-index a downlink whose `modifiedAt` becomes `modified_at` (before it does)."""
        self.modified.remove((dl.modified_at, dl.id))
        self.modified.add((modified_at, dl.id))


def page(tenant: Tenant, by_id: Mapping[str, Downlink], query: ListQuery, match: Match) -> Page:
    """One page of the tenant's downlinks that `match`, in `query`'s order from its cursor."""
    primary = query.sort[0]
    if (
        primary.field in ("createdAt", "modifiedAt")
        and len(query.sort) == 2
        and query.sort[1].field == "id"
        and not query.sort[1].desc
    ):
        return _index_page(tenant, by_id, query, match)
    return _scan_page(tenant, by_id, query, match)


def _index_page(
    tenant: Tenant, by_id: Mapping[str, Downlink], query: ListQuery, match: Match
) -> Page:
    by_created = query.sort[0].field == "createdAt"
    index = tenant.created if by_created else tenant.modified
    lo = query.created_since if by_created else query.modified_since
    hi = query.created_before if by_created else query.modified_before
    desc = query.sort[0].desc
    cursor = query.cursor
    backwards = cursor is not None and cursor.backwards
    start = (cursor.values[0], cursor.values[1]) if cursor is not None else None
    entries = _walk(index, desc, start, not backwards, lo, hi)
    other_filters = query.q is not None or (
        (query.modified_since, query.modified_before)
        if by_created
        else (query.created_since, query.created_before)
    ) != (None, None)
    if other_filters:
        found: Iterator[Downlink] = filter(match, (by_id[did] for _, did in entries))
    else:  # the index range is the whole filter: no per-item test
        found = (by_id[did] for _, did in entries)
    items = list(islice(found, query.limit + 1))
    more = len(items) > query.limit
    del items[query.limit :]
    if not items:
        return Page([], False, False)
    if backwards:
        items.reverse()
        has_prev, has_next = (
            more,
            _any(by_id, index, desc, items[-1], True, lo, hi, match, by_created),
        )
    else:
        has_next = more
        has_prev = cursor is not None and _any(
            by_id, index, desc, items[0], False, lo, hi, match, by_created
        )
    return Page(items, has_next, has_prev)


def _any(
    by_id: Mapping[str, Downlink],
    index: SortedList,
    desc: bool,
    edge: Downlink,
    forward: bool,
    lo: int | None,
    hi: int | None,
    match: Match,
    by_created: bool,
) -> bool:
    start = (edge.created_at if by_created else edge.modified_at, edge.id)
    return any(match(by_id[did]) for _, did in _walk(index, desc, start, forward, lo, hi))


def _scan_page(
    tenant: Tenant, by_id: Mapping[str, Downlink], query: ListQuery, match: Match
) -> Page:
    candidates = _candidates(tenant, by_id, query)
    key = query.key()
    cursor = query.cursor
    limit = query.limit
    if cursor is None:
        chosen = heapq.nsmallest(limit + 1, filter(match, candidates), key=key)
        return Page(chosen[:limit], len(chosen) > limit, False)
    bound = query.order_key(cursor.values)
    after: list[Downlink] = []
    before: list[Downlink] = []
    backwards = cursor.backwards
    for dl in candidates:
        if match(dl):
            k = key(dl)
            # The cursor's own item lies on the side the walk comes from.
            if k > bound or (backwards and not k < bound):
                after.append(dl)
            else:
                before.append(dl)
    if backwards:
        chosen = heapq.nlargest(limit + 1, before, key=key)
        items = chosen[:limit]
        items.reverse()
        return Page(
            items,
            has_next=bool(items) and bool(after),
            has_prev=bool(items) and len(chosen) > limit,
        )
    chosen = heapq.nsmallest(limit + 1, after, key=key)
    items = chosen[:limit]
    return Page(items, bool(items) and len(chosen) > limit, bool(items) and bool(before))


def _candidates(
    tenant: Tenant, by_id: Mapping[str, Downlink], query: ListQuery
) -> Iterator[Downlink]:
    """The tenant's downlinks, narrowed by a time range where an index allows it."""
    if query.created_since is not None or query.created_before is not None:
        index, lo, hi = tenant.created, query.created_since, query.created_before
    else:
        index, lo, hi = tenant.modified, query.modified_since, query.modified_before
    start = index.bisect_left((lo,)) if lo is not None else 0
    stop = index.bisect_left((hi,)) if hi is not None else len(index)
    return (by_id[did] for _, did in index.islice(start, max(start, stop)))


def _walk(
    index: SortedList,
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
    if not desc:
        if forward:
            pos = index.bisect_right(start) if start is not None else 0
            if lo is not None:
                pos = max(pos, index.bisect_left((lo,)))
            for entry in index.islice(pos):
                if hi is not None and entry[0] >= hi:
                    return
                yield entry
        else:
            pos = index.bisect_left(start)
            if hi is not None:
                pos = min(pos, index.bisect_left((hi,)))
            for entry in index.islice(0, pos, reverse=True):
                if lo is not None and entry[0] < lo:
                    return
                yield entry
        return
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


def _runs_down(index: SortedList, p: int, lo: int | None) -> Iterator[tuple[int, str]]:
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


def _runs_up(index: SortedList, p: int, hi: int | None) -> Iterator[tuple[int, str]]:
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
