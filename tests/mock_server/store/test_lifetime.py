"""A large store is kept out of the garbage collector's full collections (performance
issue: no pause proportional to the store), and given back to it when emptied (M2)."""

from __future__ import annotations

import gc

import pytest

from mock_server.domain.model import Downlink, Status
from mock_server.store import lifetime
from mock_server.store.memory import MemoryStore


def _downlinks(n: int, start: int = 0) -> list[Downlink]:
    return [
        Downlink(
            id=f"{i:08x}-0000-4000-8000-000000000000",
            owner="o",
            network_id="urn:dev:x:",
            status=Status.PENDING,
            created_at=i,
            modified_at=i,
        )
        for i in range(start, start + n)
    ]


@pytest.mark.rule("M2")
def test_a_large_store_is_frozen_as_it_grows_and_unfrozen_when_emptied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lifetime, "FREEZE_FROM", 100)
    monkeypatch.setattr(lifetime, "FREEZE_EVERY", 50)
    store = MemoryStore()
    try:
        store.seed(_downlinks(99))
        assert store._lifetime.freezes == 0  # small: the collector sees it
        store.seed(_downlinks(1, 99))
        assert store._lifetime.freezes == 1 and gc.get_freeze_count() > 0
        dl = store.find(f"{5:08x}-0000-4000-8000-000000000000")
        assert dl is not None and not any(o is dl for o in gc.get_objects())  # not scanned
        store.seed(_downlinks(49, 100))
        assert store._lifetime.freezes == 1
        store.seed(_downlinks(1, 149))
        assert store._lifetime.freezes == 2
        store.reset()
        assert store._lifetime.freezes == 0 and gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
