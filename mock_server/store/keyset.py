"""One client's sorted indexes, and the keyset walks that page through them (L2-L6).

Per client (tenant, A5) two sorted indexes of `(time, id)`, one by `createdAt` and one by
`modifiedAt`, answer the default sort and the time filters in O(log n + limit) (keyset
pages, L6). The same two indexes per device (`networkId`), and the devices each distinct
message belongs to, narrow a `q` (L1) to the devices that can match before a downlink is
looked at: every match has a tag value equal to `q` or contains `q` in its networkId or
its message, so its device is among those whose networkId contains `q`, whose tags hold
`q`, or who have a message containing `q` (store/qindex.py). Other sorts select the best
`limit + 1` from the candidates in one pass.

A page is built by a generator (`page_steps`) that yields after every `STEP` downlinks it
examines, so that a long scan can give the event loop back between steps (store/steps.py);
the one who drives it restarts it when the store changed in between.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from itertools import chain, islice
from typing import Any

from mock_server.domain.model import Downlink
from mock_server.store.base import Page
from mock_server.store.qindex import Index, Tenant
from mock_server.store.query import ListQuery
from mock_server.store.shards import ShardedDict

__all__ = ["Tenant", "Match", "Steps", "STEP", "page_steps"]

Match = Callable[[Downlink], bool]
"""A query's filter predicate (L1, L2)."""

Steps = Generator[None, None, Page]
"""A page being built: each `next()` does one step (under the store's lock); the page is
the value of the final StopIteration."""

STEP = 2048
"""Downlinks (or distinct values) examined between two yields of a page being built."""


class _Count:
    """How many downlinks a page examined, and when it is time to yield."""

    __slots__ = ("examined", "values")

    def __init__(self) -> None:
        self.examined = 0
        self.values = 0


def page_steps(
    tenant: Tenant,
    by_id: Mapping[str, Downlink],
    query: ListQuery,
    match: Match,
    *,
    tagged: Iterable[str] = (),
    use_index: bool = True,
) -> Steps:
    """Build one page of the tenant's downlinks that `match`, in `query`'s order from its
    cursor. `tagged`: the networkIds whose tags hold `q` (L1). With `use_index` False,
    `q` scans every downlink of the tenant (for a matcher that reads L1 otherwise)."""
    count = _Count()
    devices: list[str] | None = None
    if query.q is not None and use_index:
        devices = yield from tenant.devices_for(query.q, tagged, count, STEP)
    primary = query.sort[0]
    if (
        primary.field in ("createdAt", "modifiedAt")
        and len(query.sort) == 2
        and query.sort[1].field == "id"
        and not query.sort[1].desc
    ):
        page = yield from _index_page(tenant, by_id, query, match, devices, count)
    else:
        page = yield from _scan_page(tenant, by_id, query, match, devices, count)
    page.examined = count.examined
    return page


def _indexes(tenant: Tenant, devices: list[str] | None, by_created: bool) -> list[Index]:
    """The sorted `(time, id)` indexes to walk: the tenant's, or its devices'."""
    if devices is None:
        return [tenant.created if by_created else tenant.modified]
    postings = [tenant.devices[nid] for nid in devices]
    return [p.created if by_created else p.modified for p in postings]


def _take(
    entries: Iterator[tuple[int, str]],
    by_id: Mapping[str, Downlink],
    match: Match | None,
    n: int,
    count: _Count,
) -> Generator[None, None, list[Downlink]]:
    """The first `n` downlinks of `entries` that `match` (all, when `match` is None)."""
    out: list[Downlink] = []
    if n <= 0:
        return out
    if match is None:
        # Every entry is taken: look the first `n` up in one pass, then yield as often as
        # the walk one by one would have.
        ids = [did for _, did in islice(entries, n)]
        out = by_id.values_of(ids) if isinstance(by_id, ShardedDict) else [by_id[i] for i in ids]
        before = count.examined
        count.examined = before + len(out)
        for _ in range(count.examined // STEP - before // STEP):
            yield
        return out
    # A filter tests each: the ids are looked up a chunk at a time (entries past the last
    # match may be looked up, never counted or taken).
    size = min(max(n, 8), 256)
    while True:
        chunk = [did for _, did in islice(entries, size)]
        if not chunk:
            return out
        found = (
            by_id.values_of(chunk) if isinstance(by_id, ShardedDict) else [by_id[i] for i in chunk]
        )
        for dl in found:
            count.examined += 1
            if count.examined % STEP == 0:
                yield
            if match(dl):
                out.append(dl)
                if len(out) >= n:
                    return out


def _index_page(
    tenant: Tenant,
    by_id: Mapping[str, Downlink],
    query: ListQuery,
    match: Match,
    devices: list[str] | None,
    count: _Count,
) -> Steps:
    if devices is not None and not devices:
        return Page([], False, False)
    by_created = query.sort[0].field == "createdAt"
    indexes = _indexes(tenant, devices, by_created)
    lo = query.created_since if by_created else query.modified_since
    hi = query.created_before if by_created else query.modified_before
    desc = query.sort[0].desc
    cursor = query.cursor
    backwards = cursor is not None and cursor.backwards
    start = (cursor.values[0], cursor.values[1]) if cursor is not None else None
    other_filters = query.q is not None or (
        (query.modified_since, query.modified_before)
        if by_created
        else (query.created_since, query.created_before)
    ) != (None, None)
    # The index range is the whole filter when there is no other: no per-item test.
    test = match if other_filters else None
    entries = _walk_many(indexes, desc, start, not backwards, lo, hi)
    items = yield from _take(entries, by_id, test, query.limit + 1, count)
    more = len(items) > query.limit
    del items[query.limit :]
    if not items:
        return Page([], False, False)

    def edge(dl: Downlink) -> tuple[int, str]:
        return (dl.created_at if by_created else dl.modified_at, dl.id)

    if backwards:
        items.reverse()
        after = _walk_many(indexes, desc, edge(items[-1]), True, lo, hi)
        has_next = bool((yield from _take(after, by_id, test, 1, count)))
        return Page(items, has_next, more)
    has_prev = False
    if cursor is not None:
        before = _walk_many(indexes, desc, edge(items[0]), False, lo, hi)
        has_prev = bool((yield from _take(before, by_id, test, 1, count)))
    return Page(items, more, has_prev)


def _scan_page(
    tenant: Tenant,
    by_id: Mapping[str, Downlink],
    query: ListQuery,
    match: Match,
    devices: list[str] | None,
    count: _Count,
) -> Steps:
    key = query.key()
    cursor = query.cursor
    keep = query.limit + 1
    bound = query.order_key(cursor.values) if cursor is not None else None
    backwards = cursor is not None and cursor.backwards
    # The best `keep` on the side the page is taken from, and whether the other side has
    # any match; both folded in at every step, so the memory stays O(limit).
    chosen: list[Downlink] = []
    other = False
    batch: list[Downlink] = []

    def fold() -> None:
        nonlocal chosen
        pick = heapq.nlargest if backwards else heapq.nsmallest
        chosen = pick(keep, chain(chosen, batch), key=key)
        batch.clear()

    for dl in _candidates(tenant, by_id, query, devices):
        count.examined += 1
        if count.examined % STEP == 0:
            fold()
            yield
        if not match(dl):
            continue
        if bound is None:
            batch.append(dl)
            continue
        k = key(dl)
        # The cursor's own item lies on the side the walk comes from.
        if k > bound or (backwards and not k < bound):
            if backwards:
                other = True
            else:
                batch.append(dl)
        elif backwards:
            batch.append(dl)
        else:
            other = True
    fold()
    items = chosen[: query.limit]
    more = bool(items) and len(chosen) > query.limit
    if backwards:
        items.reverse()
        return Page(items, has_next=bool(items) and other, has_prev=more)
    return Page(items, more, bool(items) and other)


def _candidates(
    tenant: Tenant, by_id: Mapping[str, Downlink], query: ListQuery, devices: list[str] | None
) -> Iterator[Downlink]:
    """The tenant's (or its `devices'`) downlinks, narrowed by a time range where an index
    allows it."""
    by_created = query.created_since is not None or query.created_before is not None
    if by_created:
        lo, hi = query.created_since, query.created_before
    else:
        lo, hi = query.modified_since, query.modified_before
    for index in _indexes(tenant, devices, by_created):
        start = index.bisect_left((lo,)) if lo is not None else 0
        stop = index.bisect_left((hi,)) if hi is not None else len(index)
        for _, did in index.islice(start, max(start, stop)):
            yield by_id[did]


def _walk_many(
    indexes: list[Index],
    desc: bool,
    start: tuple[int, str] | None,
    forward: bool,
    lo: int | None,
    hi: int | None,
) -> Iterator[tuple[int, str]]:
    """`_walk` over several disjoint indexes at once, merged into the one order."""
    walks = [_walk(index, desc, start, forward, lo, hi) for index in indexes]
    if len(walks) == 1:
        return walks[0]
    # Ascending: (t, id) ascending. Descending: t descending, id ascending. Backwards: the
    # reverse of either.
    key: Callable[[tuple[int, str]], Any] | None = (lambda e: (-e[0], e[1])) if desc else None
    return heapq.merge(*walks, key=key, reverse=not forward)


def _walk(
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
    """`_walk` in descending time."""
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
