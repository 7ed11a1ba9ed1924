"""The store's interface: what the API, the control plane, the journal and the timelines
need of the place where downlinks live (load-bearing 2).

`MemoryStore` (store/memory.py) is the one implementation today; a second one plugs in
behind this Protocol without a handler changing. Each operation changes state all or
nothing under `lock`, and refuses with a domain error (`mock_server.domain.errors`):
`NotFound`, or a `Conflict` such as `IllegalMove`, `NotCancellable`, `ReferenceTaken`.

The operations are synchronous: the memory store does no I/O, and the clock fires due
moves under the same lock. A networked store (a database) will need an async variant of
the request-path operations (`get`, `page`, `create`, `cancel`) and a lock that is not a
thread lock; that is a later step.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from mock_server.domain.model import Downlink, LogEntry, NewDownlink, Status
from mock_server.store.query import ListQuery

__all__ = ["Store", "Page"]


@dataclass(slots=True)
class Page:
    """One page of a list (L3, L5)."""

    items: list[Downlink]
    has_next: bool
    has_prev: bool
    examined: int = 0  # downlinks looked at to build it (how well the indexes served)


@runtime_checkable
class Store(Protocol):
    """All downlinks, the device registry, and the operations on them."""

    lock: threading.RLock
    """The one lock of every change; the clock and the progressions share it, so a due move
    and a request never interleave."""

    version: int
    """Bumped by every change, so that what was rendered from the store knows it is stale."""

    on_create: list[Callable[[Downlink], None]]
    """Called with each new stored downlink, under the lock (progressions: S4)."""

    def __len__(self) -> int:
        """How many downlinks are stored, every client's."""
        ...

    # -- the public API (A5: every read and change is the caller's own) ----------------

    def get(self, owner: str, downlink_id: str) -> Downlink:
        """The caller's downlink; NotFound exactly as for one that never existed (A5)."""
        ...

    def page(self, owner: str, query: ListQuery) -> Page:
        """One page of the caller's downlinks that match `query` (L1-L7)."""
        ...

    def page_steps(self, owner: str, query: ListQuery) -> Generator[None, None, Page]:
        """`page`, built in steps: each `next()` (called under `lock`) does a bounded
        amount of work, and the page is the value of the final StopIteration. A builder
        resumed after `version` changed may fail or err: start a new one instead
        (store/steps.py drives this between the event loop's other work)."""
        ...

    def create(self, owner: str, new: NewDownlink, now: int, *, dry_run: bool = False) -> Downlink:
        """Store a new PENDING downlink (C6, C7); with `dry_run`, check and build it only
        (C8). ReferenceTaken when the client holds its externalReference already."""
        ...

    def cancel(self, owner: str, downlink_id: str, forced: bool, at: int) -> Downlink:
        """Cancel the caller's downlink (X1-X4): NotFound, or NotCancellable (409)."""
        ...

    def encoded(self, dl: Downlink) -> bytes:
        """The downlink's public JSON (C7, R1)."""
        ...

    # -- the control plane and the timelines -------------------------------------------

    def find(self, downlink_id: str) -> Downlink | None:
        """Any client's downlink (control plane only)."""
        ...

    def owners(self) -> list[str]:
        """Every client that holds a downlink, sorted (the web view lists across clients)."""
        ...

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
        """Move `dl` to `target` as the lifecycle allows (S1, S2, T2); IllegalMove else.
        `entries` replaces S2's default entries (a progression's per-part accounts)."""
        ...

    def move(
        self, downlink_id: str, target: Status, at: int, *, error_code: str | None = None
    ) -> Downlink:
        """M4: move any client's downlink by id; NotFound, or IllegalMove."""
        ...

    def append_logs(self, dl: Downlink, entries: list[LogEntry], at: int) -> Downlink:
        """Log events that change no status (a part delivered, S2), stamped `at` or later."""
        ...

    def seed(self, downlinks: list[Downlink]) -> None:
        """Store prepared downlinks all or nothing (M3): IdTaken or ReferenceTaken."""
        ...

    def register_devices(self, devices: Iterable[tuple[str, dict[str, str]]]) -> None:
        """Register (replace) the tags of devices, which `q` matches exactly (L1, M3)."""
        ...

    def tags(self, network_id: str) -> Mapping[str, str]:
        """A device's registered tags (none when unknown)."""
        ...

    def reset(self) -> None:
        """Empty everything (M2)."""
        ...
