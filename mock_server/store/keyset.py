"""One client's keyset pages, built in steps that follow the store's changes (L2-L6).

Per client (tenant, A5) two sorted indexes of `(time, id)`, one by `createdAt` and one by
`modifiedAt`, answer the default sort and the time filters in O(log n + limit) (keyset
pages, L6); the same two per device narrow a `q` (L1, store/qindex.py). Other sorts select
the best `limit + 1` from the candidates (store/selection.py).

A page is built by a generator (`page_steps`) whose every step examines at most `STEP`
downlinks, so that a long walk gives the event loop back between steps (store/steps.py).
The store may change between two steps; the page is not started again. The client's
indexes feed each change to the pages being built (`Tenant.watch`), and each walk judges
the changed downlinks again at its next step: a walk has covered a stretch of its index
from the cursor to its last key, and a changed downlink is taken out of what was collected
and put back in order when it now lies in that stretch and matches (one ahead is met by
the walk). So a page is exact for the store as it is when its last step runs, the instant
it is answered: no duplicate, no match missed, `has_next` and `has_prev` right then.

A `createdAt` range sorted by `modifiedAt` (or the reverse) walks the sort's index from
where the range's downlinks can be (none is modified before it was created, T2, but for
a `skew` the client's indexes keep track of), while that costs less than the range
holds; past that, or at once when two bisections show the walk would pass more, it
selects from the range instead: a page costs at most about twice the smaller side.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from mock_server.domain.model import Downlink
from mock_server.store.base import Page
from mock_server.store.qindex import MERGE_LIMIT, Feed, Index, Tenant
from mock_server.store.query import ListQuery
from mock_server.store.selection import Selection
from mock_server.store.walks import Walk, Work

__all__ = ["Tenant", "Match", "Source", "Steps", "STEP", "page_steps"]

Match = Callable[[Downlink], bool]
"""A query's filter predicate (L1, L2)."""

Steps = Generator[None, None, Page]
"""A page being built: each `next()` does one step (under the store's lock); the page is
the value of the final StopIteration."""

STEP = 2048
"""Downlinks (or distinct values) examined between two yields of a page being built."""


@dataclass(frozen=True, slots=True)
class Source:
    """What a page is built from. `current()` says whether it still is the store's: a
    reset replaces the client's indexes, and registering devices changes what `q` matches
    (`tagged`: the networkIds whose tags hold `q`); either starts the page again."""

    owner: str
    tenant: Tenant
    match: Match
    tagged: frozenset[str]
    current: Callable[[], bool]


class _Outcome(enum.Enum):
    STALE = "stale"  # the source is no longer the store's: start again
    SELECT = "select"  # the index walk cost more than the range holds: select instead


def page_steps(
    source: Callable[[], Source | None],
    by_id: Mapping[str, Downlink],
    query: ListQuery,
    *,
    use_index: bool = True,
) -> Steps:
    """Build one page of a client's downlinks that match, in `query`'s order from its
    cursor. `source()` gives the client's indexes and filter (None: no downlinks). With
    `use_index` False, `q` walks every downlink of the client (for a matcher that reads L1
    otherwise)."""
    work = Work(STEP)
    while True:
        src = source()
        if src is None:
            return Page([], False, False, work.examined)
        feed: Feed = []
        src.tenant.watch(feed)
        try:
            built = yield from _build(_Context(src, by_id, query, feed, work), use_index)
        finally:
            src.tenant.unwatch(feed)
        if isinstance(built, Page):
            built.examined = work.examined
            return built


class _Context:
    """What the walks of one page share: the source, the devices a `q` narrows to, the
    changes fed since the last step, the work done."""

    def __init__(
        self,
        src: Source,
        by_id: Mapping[str, Downlink],
        query: ListQuery,
        feed: Feed,
        work: Work,
    ) -> None:
        self.src, self.by_id, self.query, self.feed, self.work = src, by_id, query, feed, work
        self.devices: set[str] | None = None  # None: the client's own indexes
        # A page may bound one time index by the other's range, trusting the skew.
        self.skew = src.tenant.skew

    def indexes(self, by_created: bool) -> list[Index]:
        """The sorted `(time, id)` indexes to walk: the client's, or its devices'."""
        tenant = self.src.tenant
        if self.devices is None:
            return [tenant.created if by_created else tenant.modified]
        postings = [tenant.devices[nid] for nid in sorted(self.devices)]
        return [p.created if by_created else p.modified for p in postings]

    def pause(self) -> Generator[None, None, list[Downlink] | None]:
        """Give the loop back; then the downlinks changed meanwhile (each once), or None
        when the source is no longer the store's."""
        yield
        self.work.left = STEP
        return self.absorb()

    def absorb(self) -> list[Downlink] | None:
        """The downlinks changed since the last look (each once), or None when the source
        is no longer the store's."""
        if not self.src.current() or self.src.tenant.skew != self.skew:
            return None
        if not self.feed:
            return []
        changed = list({dl.id: dl for dl in self.feed}.values())
        self.feed.clear()
        self.work.spend(len(changed))
        q = self.query.q
        if self.devices is not None and q is not None:
            # A create can make a device relevant to `q` (a new device or message): its
            # downlinks ahead of the walk must be walked too.
            tagged = self.src.tagged
            for dl in changed:
                nid = dl.network_id
                if nid not in self.devices and (q in nid or q in dl.message or nid in tagged):
                    self.devices.add(nid)
            if len(self.devices) > MERGE_LIMIT:
                self.devices = None
        return changed


def _build(ctx: _Context, use_index: bool) -> Generator[None, None, Page | _Outcome]:
    query = ctx.query
    if query.q is not None and use_index:
        devices = yield from ctx.src.tenant.devices_for(query.q, ctx.src.tagged, ctx.work, STEP)
        ctx.devices = set(devices) if devices is not None else None
        # Creates during that scan may have made more devices relevant; no walk has
        # started, so nothing else needs judging again.
        if ctx.absorb() is None:
            return _Outcome.STALE
    primary = query.sort[0]
    if not (
        primary.field in ("createdAt", "modifiedAt")
        and len(query.sort) == 2
        and query.sort[1].field == "id"
        and not query.sort[1].desc
    ):
        by_created = query.created_since is not None or query.created_before is not None
        by_created = by_created or (query.modified_since, query.modified_before) == (None, None)
        return (yield from _select(ctx, by_created, query.key(), None))
    by_created = primary.field == "createdAt"
    # The other time field's range, when there is one: the side to select from when it
    # is the smaller.
    lo, hi = _range(query, not by_created)
    budget = None
    if (lo, hi) != (None, None):
        in_range = sum(_count(i, lo, hi) for i in ctx.indexes(not by_created))
        budget = query.limit + in_range
        cursor = query.cursor
        if not by_created and primary.desc and hi is not None:
            # Newest modified first, created within [lo, hi): the walk passes everything
            # modified since `hi` (created later, mostly) before the range's bulk. When
            # that is more than the range holds, select from the range straight away.
            top = _range(query, False)[1]
            if cursor is not None and not cursor.backwards:
                top = cursor.values[0] + 1 if top is None else min(top, cursor.values[0] + 1)
            if cursor is None or not cursor.backwards:
                ahead = sum(_count(i, hi, top) for i in ctx.indexes(False))
                if ahead > in_range:
                    return (yield from _select(ctx, True, *_time_key(query)))
    page = yield from _index_page(ctx, budget)
    if page is _Outcome.SELECT:
        return (yield from _select(ctx, not by_created, *_time_key(query)))
    return page


def _range(query: ListQuery, by_created: bool) -> tuple[int | None, int | None]:
    if by_created:
        return query.created_since, query.created_before
    return query.modified_since, query.modified_before


def _count(index: Index, lo: int | None, hi: int | None) -> int:
    start = index.bisect_left((lo,)) if lo is not None else 0
    stop = index.bisect_left((hi,)) if hi is not None else len(index)
    return max(0, stop - start)


def _time_key(
    query: ListQuery,
) -> tuple[Callable[[Downlink], Any], Any, tuple[bool, int]]:
    """A plain-tuple key for a sort by one time field then id (faster than `query.key`),
    the cursor's key in it, and (by createdAt, the sign) that describe it."""
    by_created = query.sort[0].field == "createdAt"
    sign = -1 if query.sort[0].desc else 1

    def key(dl: Downlink) -> tuple[int, str]:
        return (sign * (dl.created_at if by_created else dl.modified_at), dl.id)

    cursor = query.cursor
    bound = (sign * cursor.values[0], cursor.values[1]) if cursor is not None else None
    return key, bound, (by_created, sign)


def _select(
    ctx: _Context,
    by_created: bool,
    key: Callable[[Downlink], Any],
    bound: Any,
    by_time: tuple[bool, int] | None = None,
) -> Generator[None, None, Page | _Outcome]:
    """The page selected from the candidates of one time index (store/selection.py)."""
    query = ctx.query
    cursor = query.cursor
    backwards = cursor is not None and cursor.backwards
    if cursor is not None and bound is None:
        bound = query.order_key(cursor.values)
    lo, hi = _range(query, by_created)
    # The candidates' range is the whole filter when there is no other: no per-item test.
    filtered = query.q is not None or _range(query, not by_created) != (None, None)
    selection = Selection(
        lambda: ctx.indexes(by_created),
        by_created,
        lo,
        hi,
        ctx.by_id,
        ctx.src.match if filtered else None,
        key,
        bound,
        backwards,
        query.limit + 1,
        by_time=by_time,
        # Nearest the cursor's side first: a descending page (or an ascending one read
        # backwards) wants the newest.
        newest_first=by_time is not None and (by_time[1] < 0) != backwards,
    )
    while True:
        selection.advance(ctx.work)
        if selection.done:
            result = selection.outcome(query.limit)
            if result is not None:
                items, more, other = result
                if backwards:
                    items.reverse()
                    return Page(items, has_next=bool(items) and other, has_prev=more)
                return Page(items, more, bool(items) and other)
            selection.restart()
            continue
        changed = yield from ctx.pause()
        if changed is None:
            return _Outcome.STALE
        if changed:
            selection.changed(changed)


def _index_page(ctx: _Context, budget: int | None) -> Generator[None, None, Page | _Outcome]:
    """The page walked off the index of its sort (createdAt or modifiedAt, then id);
    `_Outcome.SELECT` once more than `budget` downlinks were examined."""
    query = ctx.query
    by_created = query.sort[0].field == "createdAt"
    desc = query.sort[0].desc
    cursor = query.cursor
    backwards = cursor is not None and cursor.backwards
    start = (cursor.values[0], cursor.values[1]) if cursor is not None else None
    lo, hi = _range(query, by_created)
    other_range = _range(query, not by_created)
    other_filters = query.q is not None or other_range != (None, None)
    # The index range is the whole filter when there is no other: no per-item test.
    test = ctx.src.match if other_filters else None
    # No downlink is modified more than `skew` before it was created (none at all while
    # T2 holds): a range of one time field bounds the walk of the other.
    bounds = (lo, hi)
    if by_created and other_range[1] is not None:
        edge = other_range[1] + ctx.skew
        bounds = (lo, edge if hi is None else min(hi, edge))
    elif not by_created and other_range[0] is not None:
        edge = other_range[0] - ctx.skew
        bounds = (edge if lo is None else max(lo, edge), hi)

    def walk(forward: bool, need: int) -> Walk:
        indexes = partial(ctx.indexes, by_created)
        return Walk(indexes, ctx.by_id, by_created, desc, start, forward, need, test, bounds)

    main = walk(not backwards, query.limit + 1)
    # The other side of the cursor: its own item, or any match beyond it (L5).
    beyond = walk(backwards, 1) if start else None

    def at_cursor() -> bool:
        assert start is not None
        dl = ctx.by_id.get(start[1])
        if dl is None or dl.owner != ctx.src.owner or main.key(dl) != start:
            return False
        t = start[0]
        if (lo is not None and t < lo) or (hi is not None and t >= hi):
            return False
        return test is None or test(dl)

    first = ctx.work.examined
    while True:
        if main.done:
            if not main.got:
                return Page([], False, False)
            if beyond is None or beyond.done or at_cursor():
                items = main.got[: query.limit]
                more = len(main.got) > query.limit
                other = beyond is not None and (bool(beyond.got) or at_cursor())
                if backwards:
                    items.reverse()
                    return Page(items, other, more)
                return Page(items, more, other)
            beyond.advance(ctx.work)
        else:
            main.advance(ctx.work)
        if budget is not None and ctx.work.examined - first > budget:
            return _Outcome.SELECT
        if ctx.work.left > 0:
            continue
        changed = yield from ctx.pause()
        if changed is None:
            return _Outcome.STALE
        if changed:
            main.changed(changed)
            if beyond is not None:
                beyond.changed(changed)
