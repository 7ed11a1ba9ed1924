"""Rendered list pages, kept until the store changes.

Clients of a list API poll: the same `GET /downlinks?...` again and again while nothing
changed. A page depends only on the caller, the query string, the origin its links point
to, and the store's content, so while the store's version stands still the bytes rendered
last time are the answer. Any change (a create, a move, a due move fired by the clock, a
device registered, a reset) bumps the version and empties the cache.
"""

from __future__ import annotations

__all__ = ["PageCache"]


class PageCache:
    """At most `size` rendered pages for one store version (0: keep none)."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._version = -1
        self._pages: dict[tuple[str, bytes, str], bytes] = {}

    def get(self, version: int, key: tuple[str, bytes, str]) -> bytes | None:
        if version != self._version:
            return None
        return self._pages.get(key)

    def put(self, version: int, key: tuple[str, bytes, str], body: bytes) -> None:
        if self.size <= 0:
            return
        if version != self._version:
            self._pages = {}
            self._version = version
        elif len(self._pages) >= self.size:
            self._pages.pop(next(iter(self._pages)))  # the oldest
        self._pages[key] = body
