"""One client's indexes: by time, by device, and the devices of each distinct message.

`q` (L1) matches a downlink when a tag value of its device equals `q`, or its networkId or
its message contains `q`. A client's devices and distinct messages are few next to its
downlinks (a fleet sends the same few instructions again and again), so `devices_for`
finds the devices that can match by scanning those, and a page walks only their
downlinks, in keyset order (store/keyset.py): a `q` naming one device costs the same at a
million stored as at a thousand. When the messages are all distinct the scan is as long as
the client's downlinks, but it yields every `step` values like any other long scan.
"""

from __future__ import annotations

import bisect
from collections.abc import Generator, Iterable, Iterator
from typing import Any, Protocol

from sortedcontainers import SortedList

from mock_server.domain.model import Downlink

__all__ = ["Index", "SmallIndex", "Posting", "Tenant", "Feed", "MERGE_LIMIT"]

MERGE_LIMIT = 64
"""The most devices whose indexes a page merges; a `q` that more devices can match walks
the client's own index instead (such a `q` matches densely: the walk ends early)."""

# A device's index starts as a plain sorted list (a SortedList costs ~430 bytes empty)
# and becomes a SortedList past this many entries (a list insert moves the whole tail).
_SMALL = 512


Feed = list[Downlink]
"""The downlinks of one client added or re-stamped since a page being built last looked
(`Tenant.watch`): what it must judge again before its next step (store/keyset.py)."""


class Counter(Protocol):
    """What a page counts while it is built (store/keyset.py)."""

    values: int


class Index(Protocol):
    """A sorted sequence of `(time, id)` pairs, as `sortedcontainers.SortedList` is."""

    def __len__(self) -> int: ...
    def add(self, value: tuple[int, str]) -> None: ...
    def remove(self, value: tuple[int, str]) -> None: ...
    def bisect_left(self, value: Any) -> int: ...
    def bisect_right(self, value: Any) -> int: ...
    def islice(
        self, start: int | None = None, stop: int | None = None, reverse: bool = False
    ) -> Iterator[tuple[int, str]]: ...


class SmallIndex(list[tuple[int, str]]):
    """A short `Index` in a plain list."""

    __slots__ = ()

    def add(self, value: tuple[int, str]) -> None:
        bisect.insort(self, value)

    def remove(self, value: tuple[int, str]) -> None:
        del self[bisect.bisect_left(self, value)]

    def bisect_left(self, value: Any) -> int:
        return bisect.bisect_left(self, value)

    def bisect_right(self, value: Any) -> int:
        return bisect.bisect_right(self, value)

    def islice(
        self, start: int | None = None, stop: int | None = None, reverse: bool = False
    ) -> Iterator[tuple[int, str]]:
        part = self[slice(start, stop)]
        return reversed(part) if reverse else iter(part)


class Posting:
    """One device's downlinks: `(createdAt, id)` and `(modifiedAt, id)`, sorted."""

    __slots__ = ("created", "modified")

    def __init__(self) -> None:
        self.created: Index = SmallIndex()
        self.modified: Index = SmallIndex()

    def add(self, created: tuple[int, str], modified: tuple[int, str]) -> None:
        self.created.add(created)
        self.modified.add(modified)
        if len(self.created) == _SMALL:
            self.created = SortedList(self.created)
            self.modified = SortedList(self.modified)


class Tenant:
    """One client's indexes: `(createdAt, id)` and `(modifiedAt, id)`, sorted, for all its
    downlinks and per device; and the devices of each distinct message.

    Every change of the indexes is also told to the feeds of the pages being built
    (`watch`), so that a page built in steps follows the changes between its steps
    instead of starting again."""

    __slots__ = ("created", "modified", "devices", "messages", "watchers", "skew")

    def __init__(self) -> None:
        self.created: Index = SortedList()
        self.modified: Index = SortedList()
        self.devices: dict[str, Posting] = {}
        # A message's device, or the set of them when several devices were sent it.
        self.messages: dict[str, str | set[str]] = {}
        self.watchers: list[Feed] = []
        # How much earlier than its `createdAt` any downlink's `modifiedAt` is, at most
        # (0 as long as T2 holds): a page bounds one time index by the other's range.
        self.skew = 0

    def watch(self, feed: Feed) -> None:
        """Append every downlink added or re-stamped from now on to `feed`."""
        self.watchers.append(feed)

    def unwatch(self, feed: Feed) -> None:
        """Stop feeding `feed` (a page done, or abandoned)."""
        self.watchers = [w for w in self.watchers if w is not feed]

    def add(self, dl: Downlink) -> None:
        """Index a new downlink."""
        # One key object per index entry, shared by the tenant's and the device's index.
        created, modified = (dl.created_at, dl.id), (dl.modified_at, dl.id)
        if dl.created_at - dl.modified_at > self.skew:
            self.skew = dl.created_at - dl.modified_at
        self.created.add(created)
        self.modified.add(modified)
        nid = dl.network_id
        posting = self.devices.get(nid)
        if posting is None:
            posting = self.devices[nid] = Posting()
        posting.add(created, modified)
        owners = self.messages.get(dl.message)
        if owners is None:
            self.messages[dl.message] = nid
        elif isinstance(owners, str):
            if owners != nid:
                self.messages[dl.message] = {owners, nid}
        else:
            owners.add(nid)
        for feed in self.watchers:
            feed.append(dl)

    def restamp(self, dl: Downlink, modified_at: int) -> None:
        """Re-index a downlink whose `modifiedAt` becomes `modified_at` (before it does)."""
        if dl.created_at - modified_at > self.skew:
            self.skew = dl.created_at - modified_at
        old, new = (dl.modified_at, dl.id), (modified_at, dl.id)
        self.modified.remove(old)
        self.modified.add(new)
        posting = self.devices[dl.network_id]
        posting.modified.remove(old)
        posting.modified.add(new)
        # Told before the downlink takes its new stamp; the feed is read at the next step.
        for feed in self.watchers:
            feed.append(dl)

    def devices_for(
        self, q: str, tagged: Iterable[str], count: Counter, step: int
    ) -> Generator[None, None, list[str] | None]:
        """The devices whose downlinks `q` can match (L1), or None when over MERGE_LIMIT.

        Yields every `step` values examined (a scan of the client's distinct messages).
        Both scans run over a copy of the keys (C-speed, no per-item work), so a create
        between two steps does not break them; a device that a create made relevant
        meanwhile is the caller's to add (it reaches the caller's feed).
        """
        found = {nid for nid in tagged if nid in self.devices}
        for nid in list(self.devices):
            count.values += 1
            if count.values % step == 0:
                yield
            if q in nid:
                found.add(nid)
                if len(found) > MERGE_LIMIT:
                    return None
        messages = self.messages
        for message in list(messages):
            count.values += 1
            if count.values % step == 0:
                yield
            if q in message:
                owners = messages[message]
                if isinstance(owners, str):
                    found.add(owners)
                else:
                    found.update(owners)
                if len(found) > MERGE_LIMIT:
                    return None
        return sorted(found)
