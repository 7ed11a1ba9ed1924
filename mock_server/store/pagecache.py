"""Rendered list pages, kept until the store changes.

Clients of a list API poll: the same `GET /downlinks?...` again and again while nothing
changed. A page depends only on the caller, the query string, the origin its links point
to, and the store's content, so while the store's version stands still the bytes rendered
last time are the answer. Any change (a create, a move, a due move fired by the clock, a
device registered, a reset) bumps the version and empties the cache.

What a caller can vary at will does not multiply what is kept: a page is kept once per
caller and query string, with the origin it was rendered for (a request naming another
`Host` renders afresh and takes the place), and the whole cache is bounded by bytes as
well as by count, the oldest pages leaving first.
"""

from __future__ import annotations

from collections import OrderedDict

__all__ = ["PageCache", "DEFAULT_BYTES"]

DEFAULT_BYTES = 64 * 1024 * 1024
"""The default byte budget of the rendered pages kept (`MockConfig.page_cache_bytes`)."""

# What one kept page costs besides its body: the key, the dict slot, the origin.
_ENTRY_OVERHEAD = 256


class PageCache:
    """At most `size` rendered pages and `max_bytes` bytes for one store version (0: keep
    none)."""

    def __init__(self, size: int = 1024, max_bytes: int = DEFAULT_BYTES) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0
        self._version = -1
        # Oldest first. An OrderedDict drops its oldest in O(1); a dict whose front was
        # popped over and over makes `next(iter(...))` step over the holes left there.
        self._pages: OrderedDict[tuple[str, bytes], tuple[str, bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, version: int, owner: str, query: bytes, origin: str) -> bytes | None:
        """The page rendered for this caller, query string and origin at `version`."""
        if version != self._version:
            return None
        found = self._pages.get((owner, query))
        if found is None or found[0] != origin:
            return None
        return found[1]

    def put(self, version: int, owner: str, query: bytes, origin: str, body: bytes) -> None:
        """Keep a rendered page, unless it alone is over the budget."""
        key = (owner, query)
        cost = self._cost(key, origin, body)
        if self.size <= 0 or cost > self.max_bytes:
            return
        pages = self._pages
        if version != self._version:
            pages.clear()
            self.bytes = 0
            self._version = version
        old = pages.pop(key, None)
        if old is not None:
            self.bytes -= self._cost(key, *old)
        while pages and (len(pages) >= self.size or self.bytes + cost > self.max_bytes):
            oldest, kept = pages.popitem(last=False)
            self.bytes -= self._cost(oldest, *kept)
        pages[key] = (origin, body)
        self.bytes += cost

    @staticmethod
    def _cost(key: tuple[str, bytes], origin: str, body: bytes) -> int:
        return len(body) + len(key[0]) + len(key[1]) + len(origin) + _ENTRY_OVERHEAD
