"""The running mock: one value holding the store, the clock, the spec and the authenticator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mock_server import __version__
from mock_server.config import MockConfig
from mock_server.control.faults import Faults
from mock_server.control.journal import Journal
from mock_server.fixtureset.load import load_fixture_file
from mock_server.http.auth import Authenticator
from mock_server.openapi.spec import Spec, load_spec
from mock_server.store.base import AsyncStore, Store
from mock_server.store.local import LocalStore
from mock_server.store.memory import MemoryStore
from mock_server.store.pagecache import PageCache
from mock_server.store.query import CursorCodec
from mock_server.timeline.clock import Clock
from mock_server.timeline.progression import Progressions
from mock_server.timeline.scenarios import load_scenario

__all__ = ["Mock"]


class Mock:
    """Everything a request handler needs.

    The handlers change state through `state` (an `AsyncStore`: store/base.py) and read
    `store`, `clock` and `progressions` directly, which `state.sync()` keeps current.
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
        # How requests change the state: at once (memory), or through a store shared
        # with other processes (`--store redis://...`), of which `store` is this copy.
        self.state: AsyncStore
        if cfg.store == "memory":
            self.state = LocalStore(self)
            self._load_fixtures()
        else:
            from mock_server.store.redis.state import RedisStore

            self.state = RedisStore(self, cfg)

    def _load_fixtures(self) -> None:
        for fixture in self.fixtures:
            fixture.apply(self.store, self.clock.now())

    def reset(self) -> None:
        """M2 on this process's own state: empty store, device registry, journal and
        faults; fixtures reloaded; clock back to its start. A shared store is reset for
        every process with `await mock.state.reset()`."""
        if self.state.shared:
            raise RuntimeError("a shared store is reset with `await mock.state.reset()`")
        with self.store.lock:
            self.clock.reset()
            self.store.reset()
            for hook in self.on_reset:
                hook()
            self._load_fixtures()
