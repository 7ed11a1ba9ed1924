"""The store's split dicts: a dict's semantics, and no single table holding the whole
store (performance issue: a resize never copies every stored id at once)."""

from __future__ import annotations

import uuid

from mock_server.store.memory import MemoryStore
from mock_server.store.shards import SHARDS, ShardedDict


def test_sharded_dict_behaves_as_a_dict() -> None:
    d: ShardedDict[str, int] = ShardedDict()
    plain: dict[str, int] = {}
    for i in range(1000):
        key = str(uuid.uuid4())
        d[key] = plain[key] = i
    d[key] = plain[key] = -1  # replacing keeps the count
    del d[next(iter(plain))]
    del plain[next(iter(plain))]
    assert len(d) == len(plain) == 999
    assert dict(d.items()) == plain and set(d) == set(plain)
    assert d.get("absent") is None and d.get("absent", 7) == 7 and "absent" not in d
    d.clear()
    assert len(d) == 0 and list(d) == []


def test_no_shard_holds_the_whole_store() -> None:
    store = MemoryStore()
    d: ShardedDict[str, int] = ShardedDict()
    n = 20 * SHARDS
    for i in range(n):
        d[str(uuid.uuid4())] = i
    largest = max(len(shard) for shard in d._shards)
    assert largest < n / SHARDS * 3  # each resize copies a small part
    assert isinstance(store._by_id, ShardedDict) and isinstance(store._refs, ShardedDict)
