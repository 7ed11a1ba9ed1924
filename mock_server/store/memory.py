"""The in-memory store: downlinks in a dict, with per-client sorted indexes (store/keyset.py).

Everything that changes state takes the one lock, so no request sees half a change and
concurrent creates with one `externalReference` have one winner (C6). Whether a change is
allowed, and how it is logged and stamped, the lifecycle decides (domain/lifecycle.py);
this module only applies what it judged and keeps the indexes in step.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Mapping

import orjson

from mock_server.domain import lifecycle
from mock_server.domain.errors import IdTaken, NotFound, ReferenceTaken
from mock_server.domain.model import Downlink, LogEntry, NewDownlink, Status
from mock_server.store import keyset
from mock_server.store.base import Page
from mock_server.store.lifetime import Lifetime
from mock_server.store.query import ListQuery
from mock_server.store.shards import ShardedDict

__all__ = ["MemoryStore"]

_NO_TAGS: Mapping[str, str] = {}


class MemoryStore:
    """All downlinks, the device registry, and the indexes over them (a `Store`)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        # Split dicts: growing past a million never copies every entry in one insert.
        self._by_id: ShardedDict[str, Downlink] = ShardedDict()
        self._refs: ShardedDict[tuple[str, str], str] = ShardedDict()
        self._tenants: dict[str, keyset.Tenant] = {}
        self._devices: dict[str, dict[str, str]] = {}
        self._tag_values: dict[str, set[str]] = {}
        self.version = 0
        self.on_create: list[Callable[[Downlink], None]] = []
        # Whether `q` is narrowed to the devices that can match (store/qindex.py); a
        # matcher that reads L1 otherwise (a wider q) needs every downlink examined.
        self.index_q = True
        self._lifetime = Lifetime()

    def __len__(self) -> int:
        return len(self._by_id)

    # -- reading -------------------------------------------------------------------

    def get(self, owner: str, downlink_id: str) -> Downlink:
        """The caller's downlink, or NotFound exactly as for one that never existed (A5)."""
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

    def tags(self, network_id: str) -> Mapping[str, str]:
        """A device's registered tags (none when unknown)."""
        return self._devices.get(network_id, _NO_TAGS)

    # -- creating ------------------------------------------------------------------

    def reserve_check(self, owner: str, external_reference: str | None) -> None:
        """ReferenceTaken (409) if the client already holds `external_reference` (C6, C8)."""
        if external_reference is not None and (owner, external_reference) in self._refs:
            raise ReferenceTaken(
                f"externalReference {external_reference!r} is already used by another "
                "downlink of this client"
            )

    def create(self, owner: str, new: NewDownlink, now: int, *, dry_run: bool = False) -> Downlink:
        """Store a new PENDING downlink (C6, C7); with `dry_run`, only build it (C8)."""
        with self.lock:
            self.reserve_check(owner, new.external_reference)
            dl = self.build(owner, new, now)
            if dry_run:
                return dl
            self._insert(dl)
            for hook in self.on_create:
                hook(dl)
            return dl

    @staticmethod
    def build(owner: str, new: NewDownlink, now: int) -> Downlink:
        """The new PENDING downlink `new` makes, under a fresh id (C7); stored nowhere."""
        return Downlink(
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

    def put(self, dl: Downlink) -> Downlink:
        """Store `dl` as it is: a new one is inserted, a stored one of that id takes its
        changing fields (status, stamps, logs, retries), in place, so that whatever holds
        the stored object sees the change. The shared store's copy is kept this way
        (mock_server/store/redis/): nothing is checked, the change was judged where it was made.
        """
        with self.lock:
            old = self._by_id.get(dl.id)
            if old is None:
                self._insert(dl)
                return dl
            if old.modified_at != dl.modified_at:
                self._tenants[old.owner].restamp(old, dl.modified_at)
            old.status = dl.status
            old.modified_at = dl.modified_at
            old.logs = dl.logs
            old.retries = dl.retries
            old.progression = dl.progression
            old.encoded = None
            self.version += 1
            return old

    def seed(self, downlinks: list[Downlink]) -> None:
        """Store prepared downlinks all or nothing (M3): IdTaken or ReferenceTaken (409)."""
        with self.lock:
            ids: set[str] = set()
            refs: set[tuple[str, str]] = set()
            for dl in downlinks:
                if dl.id in self._by_id or dl.id in ids:
                    raise IdTaken(f"a downlink with id {dl.id!r} is already stored")
                ids.add(dl.id)
                if dl.external_reference is not None:
                    ref = (dl.owner, dl.external_reference)
                    if ref in self._refs or ref in refs:
                        raise ReferenceTaken(
                            f"externalReference {dl.external_reference!r} is already used "
                            f"by client {dl.owner!r}"
                        )
                    refs.add(ref)
            for dl in downlinks:
                self._insert(dl)

    def _insert(self, dl: Downlink) -> None:
        self._by_id[dl.id] = dl
        if dl.external_reference is not None:
            self._refs[(dl.owner, dl.external_reference)] = dl.id
        tenant = self._tenants.get(dl.owner)
        if tenant is None:
            tenant = self._tenants[dl.owner] = keyset.Tenant()
        tenant.add(dl)
        self.version += 1
        self._lifetime.stored(len(self._by_id))

    # -- changing ------------------------------------------------------------------

    def cancel(self, owner: str, downlink_id: str, forced: bool, at: int) -> Downlink:
        """Cancel the caller's downlink (X1-X4): NotFound, or NotCancellable (409)."""
        with self.lock:
            dl = self.get(owner, downlink_id)
            lifecycle.check_cancel(dl.status, forced)
            return self.transition(dl, Status.CANCELLED, at)

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
        """Move `dl` to `target` as the lifecycle allows (S1, S2, T2); IllegalMove (409)
        otherwise. `entries` replaces S2's default entries (a progression's per-part
        accounts); each is stamped with the move's instant."""
        with self.lock:
            change = lifecycle.plan_move(
                dl, target, at, error_code=error_code, parts=parts, entries=entries
            )
            return self.record(dl, change)

    def move(
        self, downlink_id: str, target: Status, at: int, *, error_code: str | None = None
    ) -> Downlink:
        """M4: move any client's downlink by id; NotFound, or IllegalMove (409)."""
        with self.lock:
            dl = self.find(downlink_id)
            if dl is None:
                raise NotFound(f"no downlink with id {downlink_id!r}")
            return self.transition(dl, target, at, error_code=error_code)

    def append_logs(self, dl: Downlink, entries: list[LogEntry], at: int) -> Downlink:
        """Log events that change no status (a part delivered, S2), stamped `at` or later."""
        with self.lock:
            return self.record(dl, lifecycle.plan_append(dl, entries, at))

    def record(self, dl: Downlink, change: lifecycle.Change) -> Downlink:
        """Write a change the lifecycle has judged into a stored downlink, keeping the
        indexes in step. Nothing is checked here: every rule was the lifecycle's."""
        with self.lock:
            self._tenants[dl.owner].restamp(dl, change.at)
            lifecycle.apply(dl, change)
            self.version += 1
            return dl

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
            self._lifetime.emptied()

    # -- listing (L1-L6) -----------------------------------------------------------

    # A page built in steps stays exact across changes between its steps (store/steps.py).
    steps_follow_changes = True

    def page(self, owner: str, query: ListQuery) -> Page:
        """One page of the caller's downlinks that match `query`."""
        with self.lock:
            steps = self.page_steps(owner, query)
            while True:
                try:
                    next(steps)
                except StopIteration as done:
                    page: Page = done.value
                    return page

    def page_steps(self, owner: str, query: ListQuery) -> keyset.Steps:
        """`page` in steps of bounded work (`Store.page_steps`, store/steps.py). A change
        between two steps is followed, not a reason to start again (store/keyset.py)."""
        q = query.q

        def source() -> keyset.Source | None:
            tenant = self._tenants.get(owner)
            if tenant is None:
                return None
            tagged = frozenset(self._tag_values.get(q, ())) if q is not None else frozenset()

            def current() -> bool:
                # A reset replaces the client's indexes; registering devices changes
                # what `q` matches.
                if self._tenants.get(owner) is not tenant:
                    return False
                return q is None or self._tag_values.get(q, frozenset()) == tagged

            return keyset.Source(owner, tenant, self.matcher(query), tagged, current)

        return keyset.page_steps(source, self._by_id, query, use_index=self.index_q)

    def matcher(self, query: ListQuery) -> keyset.Match:
        """The predicate of `query`'s filters (L1, L2): a page holds only what it accepts."""
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
