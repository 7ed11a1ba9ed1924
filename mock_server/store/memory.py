"""The in-memory store: the one place downlinks live (load-bearing 2).

Per client (tenant, A5) two sorted indexes of `(time, id)`, one by `createdAt` and one by
`modifiedAt`, answer the default sort and the time filters in O(log n + limit) (keyset
pages, L6). Other sorts select the best `limit + 1` from the candidates in one pass.
Everything that changes state takes the one lock, so no request sees half a change and
concurrent creates with one `externalReference` have one winner (C6).
"""

from __future__ import annotations

import heapq
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

import orjson
from sortedcontainers import SortedList

from mock_server.domain.model import Downlink, LogEntry, NewDownlink, Status, can_move, move_logs
from mock_server.domain.timefmt import MAX_MS
from mock_server.http.problems import Conflict, NotFound
from mock_server.store.query import ListQuery

__all__ = ["Store", "Page"]


@dataclass(slots=True)
class Page:
    """One page of a list (L3, L5)."""

    items: list[Downlink]
    has_next: bool
    has_prev: bool


class _Tenant:
    """One client's indexes."""

    __slots__ = ("created", "modified")

    def __init__(self) -> None:
        self.created: SortedList = SortedList()
        self.modified: SortedList = SortedList()


class Store:
    """All downlinks, the device registry, and the indexes over them."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._by_id: dict[str, Downlink] = {}
        self._refs: dict[tuple[str, str], str] = {}
        self._tenants: dict[str, _Tenant] = {}
        self._devices: dict[str, dict[str, str]] = {}
        self._tag_values: dict[str, set[str]] = {}
        # Bumped by every change, so that what was rendered from the store knows it is stale.
        self.version = 0
        # Called after every change of a downlink (journal, progressions).
        self.on_create: list[Callable[[Downlink], None]] = []

    def __len__(self) -> int:
        return len(self._by_id)

    # -- reading -------------------------------------------------------------------

    def get(self, owner: str, downlink_id: str) -> Downlink:
        """The caller's downlink, or 404 exactly as for one that never existed (A5)."""
        dl = self._by_id.get(downlink_id)
        if dl is None or dl.owner != owner:
            raise NotFound(f"no downlink with id {downlink_id!r}")
        return dl

    def find(self, downlink_id: str) -> Downlink | None:
        """Any client's downlink (control plane only)."""
        return self._by_id.get(downlink_id)

    @staticmethod
    def encoded(dl: Downlink) -> bytes:
        """The downlink's public JSON, encoded once until it changes."""
        data = dl.encoded
        if data is None:
            # A right-sized copy: orjson hands back its whole output buffer (4 KiB and
            # more), which a cache kept for the downlink's life would hold on to.
            data = dl.encoded = bytes(memoryview(orjson.dumps(dl.to_json())))
        return data

    def owners(self) -> list[str]:
        """Every client that holds a downlink, sorted (the web view lists across clients)."""
        with self.lock:
            return sorted(self._tenants)

    def tags(self, network_id: str) -> dict[str, str]:
        return self._devices.get(network_id, {})

    # -- writing -------------------------------------------------------------------

    def reserve_check(self, owner: str, external_reference: str | None) -> None:
        """409 if the client already holds `external_reference` (C6, C8)."""
        if external_reference is not None and (owner, external_reference) in self._refs:
            raise Conflict(
                f"externalReference {external_reference!r} is already used by another "
                "downlink of this client"
            )

    def create(self, owner: str, new: NewDownlink, now: int, *, dry_run: bool = False) -> Downlink:
        """Store a new PENDING downlink (C6, C7); with `dry_run`, only build it (C8)."""
        with self.lock:
            self.reserve_check(owner, new.external_reference)
            dl = Downlink(
                id=str(uuid.uuid4()),
                owner=owner,
                network_id=new.network_id,
                status=Status.PENDING,
                created_at=now,
                modified_at=now,
                message=new.message,
                external_reference=new.external_reference,
                logs=[LogEntry(now, "DOWNLINK_ACCEPTED")],
                method=new.method,
                retry_limit=new.retry_limit,
                feedback_timeout_ms=new.feedback_timeout_ms,
                parts=new.parts,
            )
            if dry_run:
                return dl
            self._insert(dl)
            for hook in self.on_create:
                hook(dl)
            return dl

    def seed(self, downlinks: list[Downlink]) -> None:
        """Store prepared downlinks all or nothing (M3): 409 on a taken id or reference."""
        with self.lock:
            ids: set[str] = set()
            refs: set[tuple[str, str]] = set()
            for dl in downlinks:
                if dl.id in self._by_id or dl.id in ids:
                    raise Conflict(f"a downlink with id {dl.id!r} is already stored")
                ids.add(dl.id)
                if dl.external_reference is not None:
                    ref = (dl.owner, dl.external_reference)
                    if ref in self._refs or ref in refs:
                        raise Conflict(
                            f"externalReference {dl.external_reference!r} is already used "
                            f"by client {dl.owner!r}"
                        )
                    refs.add(ref)
            for dl in downlinks:
                self._insert(dl)

    def transition(
        self,
        dl: Downlink,
        target: Status,
        at: int,
        *,
        error_code: str | None = None,
        parts: int | None = None,
        entries: list[LogEntry] | None = None,
    ) -> Downlink:
        """Move `dl` to `target` as S1 allows, logging as S2 says; 409 otherwise.

        `entries` replaces S2's default entries (a progression's per-part accounts); each
        is stamped with the move's instant.
        """
        with self.lock:
            if not can_move(dl.status, target):
                raise Conflict(
                    f"a {dl.status.value} downlink cannot move to {target.value}"
                    + (" (terminal states never change)" if dl.status.terminal else "")
                )
            # T2: modifiedAt never moves backwards, and a change always shows.
            if at <= dl.modified_at:  # at the end of time (MAX_MS) it can only stand still
                at = min(dl.modified_at + 1, MAX_MS)
            if entries is None:
                entries = move_logs(
                    dl.status, target, at, parts=parts or dl.parts, error_code=error_code
                )
            if target is Status.RETRY:
                dl.retries += 1
            dl.status = target
            self._append(dl, entries, at)
            return dl

    def append_logs(self, dl: Downlink, entries: list[LogEntry], at: int) -> Downlink:
        """Log events that change no status (a part delivered, S2), stamped `at` or later."""
        with self.lock:
            if dl.status.terminal:
                raise Conflict(f"a {dl.status.value} downlink never changes")
            self._append(dl, entries, max(at, min(dl.modified_at + 1, MAX_MS)))
            return dl

    def _append(self, dl: Downlink, entries: list[LogEntry], at: int) -> None:
        for entry in entries:
            entry.created_at = at
        tenant = self._tenants[dl.owner]
        tenant.modified.remove((dl.modified_at, dl.id))
        dl.modified_at = at
        dl.logs.extend(entries)
        dl.encoded = None
        tenant.modified.add((at, dl.id))
        self.version += 1

    def register_devices(self, devices: Iterable[tuple[str, dict[str, str]]]) -> None:
        """Register (replace) the tags of devices, which `q` matches exactly (L1, M3)."""
        with self.lock:
            for network_id, tags in devices:
                for value in self._devices.get(network_id, {}).values():
                    self._tag_values.get(value, set()).discard(network_id)
                self._devices[network_id] = dict(tags)
                for value in tags.values():
                    self._tag_values.setdefault(value, set()).add(network_id)
            self.version += 1

    def reset(self) -> None:
        """Empty everything (M2)."""
        with self.lock:
            self._by_id.clear()
            self._refs.clear()
            self._tenants.clear()
            self._devices.clear()
            self._tag_values.clear()
            self.version += 1

    def _insert(self, dl: Downlink) -> None:
        self._by_id[dl.id] = dl
        if dl.external_reference is not None:
            self._refs[(dl.owner, dl.external_reference)] = dl.id
        tenant = self._tenants.get(dl.owner)
        if tenant is None:
            tenant = self._tenants[dl.owner] = _Tenant()
        tenant.created.add((dl.created_at, dl.id))
        tenant.modified.add((dl.modified_at, dl.id))
        self.version += 1

    # -- listing (L1-L6) -----------------------------------------------------------

    def page(self, owner: str, query: ListQuery) -> Page:
        """One page of the caller's downlinks that match `query`."""
        with self.lock:
            tenant = self._tenants.get(owner)
            if tenant is None:
                return Page([], False, False)
            match = self._matcher(query)
            primary = query.sort[0]
            if (
                primary.field in ("createdAt", "modifiedAt")
                and len(query.sort) == 2
                and query.sort[1].field == "id"
                and not query.sort[1].desc
            ):
                return self._index_page(tenant, query, match)
            return self._scan_page(tenant, query, match)

    def _matcher(self, query: ListQuery) -> Callable[[Downlink], bool]:
        cs, cb = query.created_since, query.created_before
        ms, mb = query.modified_since, query.modified_before
        q = query.q
        tagged = self._tag_values.get(q, ()) if q is not None else ()

        def match(dl: Downlink) -> bool:
            # L2: since is inclusive (>=), before is exclusive (<).
            if cs is not None and dl.created_at < cs:
                return False
            if cb is not None and dl.created_at >= cb:
                return False
            if ms is not None and dl.modified_at < ms:
                return False
            if mb is not None and dl.modified_at >= mb:
                return False
            if q is not None:
                # L1: a tag value equals q, or networkId / message contains it; case-sensitive.
                return q in dl.network_id or q in dl.message or dl.network_id in tagged
            return True

        return match

    def _index_page(self, tenant: _Tenant, query: ListQuery, match: Callable) -> Page:
        by_created = query.sort[0].field == "createdAt"
        index = tenant.created if by_created else tenant.modified
        lo = query.created_since if by_created else query.modified_since
        hi = query.created_before if by_created else query.modified_before
        desc = query.sort[0].desc
        cursor = query.cursor
        backwards = cursor is not None and cursor.backwards
        start = (cursor.values[0], cursor.values[1]) if cursor is not None else None
        by_id = self._by_id
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
                self._any(index, desc, items[-1], True, lo, hi, match, by_created),
            )
        else:
            has_next = more
            has_prev = cursor is not None and self._any(
                index, desc, items[0], False, lo, hi, match, by_created
            )
        return Page(items, has_next, has_prev)

    def _any(
        self,
        index: SortedList,
        desc: bool,
        edge: Downlink,
        forward: bool,
        lo: int | None,
        hi: int | None,
        match: Callable,
        by_created: bool,
    ) -> bool:
        start = (edge.created_at if by_created else edge.modified_at, edge.id)
        by_id = self._by_id
        return any(match(by_id[did]) for _, did in _walk(index, desc, start, forward, lo, hi))

    def _scan_page(self, tenant: _Tenant, query: ListQuery, match: Callable) -> Page:
        candidates = self._candidates(tenant, query)
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

    def _candidates(self, tenant: _Tenant, query: ListQuery) -> Iterator[Downlink]:
        """The tenant's downlinks, narrowed by a time range where an index allows it."""
        by_id = self._by_id
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
