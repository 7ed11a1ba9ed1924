"""The running mock: one value holding the store, the clock, the spec and the authenticator."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from mock_server import __version__
from mock_server.config import MockConfig
from mock_server.control.faults import Fault, Faults, parse_fault
from mock_server.control.journal import Journal
from mock_server.domain.model import Downlink, NewDownlink, Status
from mock_server.fixtureset.load import load_fixture_file
from mock_server.http.auth import Authenticator
from mock_server.http.problems import StoreUnavailable
from mock_server.openapi.spec import Spec, load_spec
from mock_server.store.base import Store
from mock_server.store.memory import MemoryStore
from mock_server.store.pagecache import PageCache
from mock_server.store.query import CursorCodec
from mock_server.timeline.clock import Clock
from mock_server.timeline.progression import Progressions
from mock_server.timeline.scenarios import Scenario, load_scenario

if TYPE_CHECKING:
    from mock_server.shared.redis_state import RedisState

__all__ = ["Mock"]

_log = logging.getLogger("mock_server")


class Mock:
    """Everything a request handler needs.

    The handlers change state through its async methods (`sync`, `create`, `cancel`,
    `move`, `seed`, `register_devices`, `reset_all`, `change_clock`, `use_scenario`): with
    the memory store they act on this process's state at once; with a shared store
    (`shared`, mock_server/shared/) they commit to it and read the result back. Reads go
    to `store`, `clock` and `progressions` directly, which `sync` keeps current.
    """

    version = __version__

    def __init__(self, config: MockConfig | None = None, *, store: Store | None = None) -> None:
        self.config = config or MockConfig()
        cfg = self.config
        self.spec: Spec = load_spec()
        # Any `Store` implementation; the in-memory one unless another is given.
        self.store: Store = store if store is not None else MemoryStore()
        # One lock for the store and the clock: a create (store, then scheduling) and a due
        # move (clock, then store) could otherwise take two locks in opposite orders.
        self.clock = Clock(cfg.clock_mode, cfg.clock_start, cfg.speed, lock=self.store.lock)
        self.auth = Authenticator(
            cfg.auth_mode, secret=cfg.secret, jwks_path=cfg.jwks_path, now_ms=self.clock.now
        )
        self.cursors = CursorCodec()
        self.pages = PageCache(cfg.page_cache, cfg.page_cache_bytes)
        # Extensions (progressions, journal) subscribe here; each is called on M2 reset.
        self.on_reset: list[Callable[[], None]] = []
        # S4: each new downlink gets a progression of the scenario (M6 swaps it).
        self.progressions = Progressions(self.clock, self.store, load_scenario(cfg.scenario))
        self.store.on_create.append(self.progressions.start)
        self.on_reset.append(self.progressions.reset)
        # M7, M8: filled and applied by the journal middleware, emptied on M2.
        self.journal = Journal(
            cfg.journal_size, entry_bytes=cfg.journal_entry_bytes, total_bytes=cfg.journal_bytes
        )
        self.faults = Faults()
        self.on_reset += [self.journal.clear, self.faults.clear]
        self.fixtures = [load_fixture_file(Path(p)) for p in cfg.fixtures]
        # The shared store (`--store redis://...`): this process's state is its copy.
        self.shared: RedisState | None = None
        if cfg.store != "memory":
            from mock_server.shared.redis_state import RedisState

            self.shared = RedisState(self, cfg)
        else:
            self._load_fixtures()

    def _load_fixtures(self) -> None:
        for fixture in self.fixtures:
            fixture.apply(self.store, self.clock.now())

    def tick(self) -> None:
        """Fire the moves that have fallen due (T3); called before each request is handled."""
        self.clock.run_due()

    def reset(self) -> None:
        """M2: empty store, device registry, journal and faults; fixtures reloaded; clock back
        to its start."""
        with self.store.lock:
            self.clock.reset()
            self.store.reset()
            for hook in self.on_reset:
                hook()
            self._load_fixtures()

    # -- the request path's changes (one place for both kinds of store) ----------------

    async def sync(self) -> None:
        """Bring the state up to now before a request is handled: the shared store's new
        changes applied, then the moves that have fallen due fired (T3)."""
        if self.shared is not None:
            await self.shared.sync()
        else:
            self.clock.run_due()

    async def create(self, owner: str, new: NewDownlink, now: int) -> Downlink:
        """C6, C7: store a new downlink (ReferenceTaken when its reference is taken)."""
        if self.shared is not None:
            return await self.shared.create(owner, new, now)
        return self.store.create(owner, new, now)

    async def cancel(self, owner: str, downlink_id: str, forced: bool, at: int) -> Downlink:
        """X1-X4: NotFound, or NotCancellable."""
        if self.shared is not None:
            return await self.shared.cancel(owner, downlink_id, forced, at)
        return self.store.cancel(owner, downlink_id, forced, at)

    async def move(
        self, downlink_id: str, target: Status, at: int, error_code: str | None = None
    ) -> Downlink:
        """M4: NotFound, or IllegalMove."""
        if self.shared is not None:
            return await self.shared.move(downlink_id, target, at, error_code)
        return self.store.move(downlink_id, target, at, error_code=error_code)

    async def seed(self, downlinks: list[Downlink]) -> None:
        """M3: store prepared downlinks all or nothing (IdTaken, ReferenceTaken, Conflict)."""
        if self.shared is not None:
            await self.shared.seed(downlinks)
        else:
            self.store.seed(downlinks)

    async def register_devices(self, devices: list[tuple[str, dict[str, str]]]) -> None:
        """M3: register (replace) device tags."""
        if self.shared is not None:
            await self.shared.register_devices(devices)
        else:
            self.store.register_devices(devices)

    async def reset_all(self) -> None:
        """M2, for every process sharing the store."""
        if self.shared is not None:
            await self.shared.reset()
        else:
            self.reset()

    async def change_clock(self, change: Callable[[Clock], object]) -> None:
        """M5: make `change` to the clock (its errors are the clock's)."""
        if self.shared is not None:
            await self.shared.change_clock(change)
        else:
            change(self.clock)

    async def use_scenario(self, scenario: Scenario) -> None:
        """M6: new downlinks get `scenario`."""
        if self.shared is not None:
            await self.shared.use_scenario(scenario)
        else:
            self.progressions.use(scenario)

    # -- the journal and faults (M7, M8) -------------------------------------------------

    async def record(self, fields: tuple[object, ...]) -> None:
        """Journal one exchange (M7). A shared store that cannot be reached loses the
        entry, with a warning, rather than the answer."""
        if self.shared is None:
            self.journal.append(fields)
            return
        from mock_server.shared import journal

        try:
            await journal.append(self.shared, fields)
        except StoreUnavailable as exc:
            _log.warning("an exchange was not journaled: %s", exc.detail)

    async def read_journal(self) -> Journal:
        """The journal, with every process's entries when the store is shared."""
        if self.shared is not None:
            from mock_server.shared import journal

            await journal.refresh(self.shared)
        return self.journal

    async def clear_journal(self) -> None:
        """M7: empty the journal."""
        if self.shared is not None:
            from mock_server.shared import journal

            await journal.clear(self.shared)
        else:
            self.journal.clear()

    async def add_fault(self, body: dict[str, object]) -> Fault:
        """M8: arm a fault (`parse_fault` refuses a bad one) for every process."""
        fault = parse_fault(body)
        if self.shared is None:
            return self.faults.add(fault)
        shared: Fault = await self.shared.add_fault(body)
        return shared

    async def clear_faults(self, fault_id: str | None = None) -> None:
        """M8: remove every fault, or the one with `fault_id` (NotFound if none has it)."""
        if self.shared is not None:
            await self.shared.remove_faults(fault_id)
        elif fault_id is None:
            self.faults.clear()
        else:
            self.faults.remove(fault_id)

    async def claim_fault(self, fault: Fault) -> bool:
        """Whether `fault`, just picked, may apply: with a shared store, a fault with
        `times` applies that many times across every process."""
        if self.shared is None or fault.times is None:
            return True
        return await self.shared.claim_fault(fault)
