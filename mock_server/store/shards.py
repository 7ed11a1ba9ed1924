"""A dict split into many, so that growing it never copies the whole of it at once.

A dict doubles its table when it fills: at a million and more entries that one insert
copies them all (70 ms at 1.4 million ids), a pause for whichever create happens to
cross the line. Split over `SHARDS` dicts by the key's hash, each resize copies a
`SHARDS`th of the entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping
from typing import Generic, TypeVar, overload

__all__ = ["ShardedDict", "SHARDS"]

SHARDS = 256
"""How many dicts one `ShardedDict` is split over (a power of two)."""

_MASK = SHARDS - 1

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")


class ShardedDict(MutableMapping[K, V], Generic[K, V]):
    """A mapping over `SHARDS` dicts; the hot operations are written out, not inherited."""

    __slots__ = ("_shards", "_len")

    def __init__(self) -> None:
        self._shards: list[dict[K, V]] = [{} for _ in range(SHARDS)]
        self._len = 0

    def __getitem__(self, key: K) -> V:
        return self._shards[hash(key) & _MASK][key]

    @overload
    def get(self, key: K, /) -> V | None: ...
    @overload
    def get(self, key: K, default: V | D, /) -> V | D: ...
    def get(self, key: K, default: object = None) -> object:
        return self._shards[hash(key) & _MASK].get(key, default)

    def values_of(self, keys: Iterable[K]) -> list[V]:
        """The values of `keys`, in order (KeyError for one not held): a page's lookups in
        one pass, without a method call per key."""
        shards = self._shards
        return [shards[hash(key) & _MASK][key] for key in keys]

    def __contains__(self, key: object) -> bool:
        return key in self._shards[hash(key) & _MASK]

    def __setitem__(self, key: K, value: V) -> None:
        shard = self._shards[hash(key) & _MASK]
        if key not in shard:
            self._len += 1
        shard[key] = value

    def __delitem__(self, key: K) -> None:
        del self._shards[hash(key) & _MASK][key]
        self._len -= 1

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[K]:
        for shard in self._shards:
            yield from shard

    def clear(self) -> None:
        for shard in self._shards:
            shard.clear()
        self._len = 0
