"""The store's interface: what the API, the control plane, the journal and the timelines
need of the place where downlinks live (load-bearing 2).

`MemoryStore` (store/memory.py) is the one implementation today; a second one plugs in
behind this Protocol without a handler changing. Each operation changes state all or
nothing under `lock`, and refuses with a domain error (`mock_server.domain.errors`):
`NotFound`, or a `Conflict` such as `IllegalMove`, `NotCancellable`, `ReferenceTaken`.

The operations are synchronous: the memory store does no I/O, and the clock fires due
moves under the same lock.

`AsyncStore` is the store as the request path uses it: every change (and the journal's
and the faults' shared parts) is awaited, so a store on a network engine never blocks the
event loop. Two implementations: `LocalStore` (store/local.py: this process's memory
store, clock and progressions, changed at once) and `RedisStore` (store/redis/: state
shared by several processes, each keeping a `MemoryStore` copy that reads are answered
from). Reads go to the `Store` (`Mock.store`) directly; `AsyncStore.sync` keeps it current.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from mock_server.domain.model import Downlink, LogEntry, NewDownlink, Status
from mock_server.store.query import ListQuery

if TYPE_CHECKING:
    from mock_server.control.faults import Fault
    from mock_server.control.journal import Journal
    from mock_server.timeline.clock import Clock
    from mock_server.timeline.scenarios import Scenario

__all__ = ["Store", "AsyncStore", "Page"]


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


@runtime_checkable
class AsyncStore(Protocol):
    """The store as the request path changes it (module docstring)."""

    shared: bool
    """Whether other processes share this state (then each request syncs first)."""

    async def sync(self) -> None:
        """Bring this process's state up to now before a request is handled: changes made
        elsewhere applied, then the moves that have fallen due fired (T3)."""
        ...

    async def catch_up(self) -> None:
        """Apply the changes made elsewhere, firing nothing (a reader of the journal or
        the faults must not make moves fall due)."""
        ...

    async def create(self, owner: str, new: NewDownlink, now: int) -> Downlink:
        """C6, C7: store a new downlink; ReferenceTaken when its reference is taken."""
        ...

    async def cancel(self, owner: str, downlink_id: str, forced: bool, at: int) -> Downlink:
        """X1-X4: NotFound, or NotCancellable."""
        ...

    async def move(
        self, downlink_id: str, target: Status, at: int, error_code: str | None = None
    ) -> Downlink:
        """M4: NotFound, or IllegalMove."""
        ...

    async def seed(self, downlinks: list[Downlink]) -> None:
        """M3: store prepared downlinks all or nothing (IdTaken, ReferenceTaken, Conflict)."""
        ...

    async def register_devices(self, devices: list[tuple[str, dict[str, str]]]) -> None:
        """M3: register (replace) device tags."""
        ...

    async def reset(self) -> None:
        """M2: everything emptied, the fixtures loaded again, the clock at its start."""
        ...

    async def change_clock(self, change: Callable[[Clock], object]) -> None:
        """M5: make `change` to the clock (its refusals are the clock's own)."""
        ...

    async def use_scenario(self, scenario: Scenario) -> None:
        """M6: new downlinks get `scenario`."""
        ...

    async def record(self, fields: tuple[Any, ...]) -> None:
        """M7: journal one exchange (`Journal.append`'s fields)."""
        ...

    async def read_journal(self, newest: int | None = None) -> Journal:
        """M7: the journal to read, with every process's entries (at least the `newest`
        ones when that is given: a reader that needs no more spares the copying)."""
        ...

    async def clear_journal(self) -> None:
        """M7: empty the journal."""
        ...

    async def add_fault(self, body: dict[str, Any]) -> Fault:
        """M8: arm a fault (`parse_fault` refuses a bad one)."""
        ...

    async def remove_faults(self, fault_id: str | None = None) -> None:
        """M8: remove every fault, or one (NotFound when no fault has that id)."""
        ...

    async def claim_fault(self, fault: Fault) -> bool:
        """Whether `fault`, just picked, may apply (its `times` count every process's)."""
        ...
