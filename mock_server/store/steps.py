"""Building a page without holding the event loop: the store's steps, driven between the
loop's other work.

A page the indexes cannot answer directly (a sort by networkId, status or
externalReference; a `q` many devices can match) examines many downlinks. The store builds
it in steps of bounded work (`Store.page_steps`); `page_in_steps` runs each step under the
store's lock and yields to the event loop in between, so other requests are answered
meanwhile. A page is built from one version of the store: when a change lands between two
steps the page starts again, and after `RESTARTS` restarts (a store changing faster than
the page can be built) it is built in one go, as before.
"""

from __future__ import annotations

import asyncio

from mock_server.store.base import Page, Store
from mock_server.store.query import ListQuery

__all__ = ["page_in_steps", "RESTARTS"]

RESTARTS = 3
"""How often a page starts again after the store changed under it."""


async def page_in_steps(store: Store, owner: str, query: ListQuery) -> tuple[Page, int]:
    """One page of the caller's downlinks that match `query`, and the store version it was
    built from; the event loop runs other tasks between the steps."""
    for _ in range(RESTARTS):
        with store.lock:
            version = store.version
            steps = store.page_steps(owner, query)
        while True:
            with store.lock:
                if store.version != version:
                    steps.close()
                    break
                try:
                    next(steps)
                except StopIteration as done:
                    page: Page = done.value
                    return page, version
            await asyncio.sleep(0)
    with store.lock:
        return store.page(owner, query), store.version
