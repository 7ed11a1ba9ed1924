"""Building a page without holding the event loop: the store's steps, driven between the
loop's other work.

A page that examines many downlinks (a sort the indexes cannot answer, a `q` many devices
can match, a time range sorted by the other time field) is built in steps of bounded work
(`Store.page_steps`); `page_in_steps` runs each step under the store's lock and yields to
the event loop in between, so other requests are answered meanwhile.

The store changes between steps whenever clients write. A store whose steps follow those
changes (`steps_follow_changes`, the memory store: store/keyset.py) builds on to the end
and the page is exact for the version of its last step, which is the version returned.
For any other store a page starts again when the version moved, stepped every time: a page
never holds the loop, whatever the write rate.
"""

from __future__ import annotations

import asyncio

from mock_server.store.base import Page, Store
from mock_server.store.query import ListQuery

__all__ = ["page_in_steps"]


async def page_in_steps(store: Store, owner: str, query: ListQuery) -> tuple[Page, int]:
    """One page of the caller's downlinks that match `query`, and the store version it is
    exact for; the event loop runs other tasks between the steps."""
    follows = bool(getattr(store, "steps_follow_changes", False))
    while True:
        with store.lock:
            version = store.version
            steps = store.page_steps(owner, query)
        try:
            while True:
                with store.lock:
                    if not follows and store.version != version:
                        break
                    try:
                        next(steps)
                    except StopIteration as done:
                        page: Page = done.value
                        return page, store.version
                await asyncio.sleep(0)
        finally:
            # An abandoned page (a cancelled request) stops being fed the store's changes.
            with store.lock:
                steps.close()
