"""Building a page without holding the event loop: the store's steps, driven between the
loop's other work.

A page that examines many downlinks (a sort the indexes cannot answer, a `q` many devices
can match, a time range sorted by the other time field) is built in steps of bounded work
(`Store.page_steps`); `page_in_steps` runs each step under the store's lock and yields to
the event loop in between, so other requests are answered meanwhile.

Long pages take turns: after its first step (which is all most pages need) a page waits
in line for each further step, so one turn of the loop runs about one such step however
many long pages are being built at once, and the loop's other work waits at most that.

The store changes between steps whenever clients write. A store whose steps follow those
changes (`steps_follow_changes`, the memory store: store/keyset.py) builds on to the end
and the page is exact for the version of its last step, which is the version returned.
For any other store a page starts again when the version moved, stepped every time: a page
never holds the loop, whatever the write rate.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import Generator

from mock_server.store.base import Page, Store
from mock_server.store.query import ListQuery

__all__ = ["page_in_steps"]


class _Line:
    """Long pages waiting for their next step: one steps at a time, and the next is let
    go at the following turn of the loop (the loop's other work runs in between)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.busy = False  # a step was taken and the turn is not passed on yet
        self.waiting: deque[asyncio.Future[None]] = deque()

    async def wait(self) -> None:
        """Until it is this page's turn to step."""
        if self.busy or self.waiting:
            turn = self.loop.create_future()
            self.waiting.append(turn)
            try:
                await turn
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():
                    self.loop.call_soon(self._pass)  # handed the turn, but gone
                raise
        self.busy = True

    def stepped(self) -> None:
        """The step is taken: the next page steps at the loop's next turn."""
        self.loop.call_soon(self._pass)

    def _pass(self) -> None:
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result(None)  # still busy: the turn is that page's
                return
        self.busy = False


# One line per event loop.
_LINES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Line] = weakref.WeakKeyDictionary()


def _line() -> _Line:
    loop = asyncio.get_running_loop()
    line = _LINES.get(loop)
    if line is None:
        line = _LINES[loop] = _Line(loop)
    return line


async def page_in_steps(store: Store, owner: str, query: ListQuery) -> tuple[Page, int]:
    """One page of the caller's downlinks that match `query`, and the store version it is
    exact for; the event loop runs other tasks between the steps."""
    follows = bool(getattr(store, "steps_follow_changes", False))
    first = True
    while True:
        with store.lock:
            version = store.version
            steps = store.page_steps(owner, query)
        try:
            while True:
                if first:
                    first = False
                    page, at = _step(store, steps)
                else:
                    line = _line()
                    await line.wait()
                    try:
                        if not follows and store.version != version:
                            break
                        page, at = _step(store, steps)
                    finally:
                        line.stepped()
                if page is not None:
                    return page, at
                await asyncio.sleep(0)
        finally:
            # An abandoned page (a cancelled request) stops being fed the store's changes.
            with store.lock:
                steps.close()


def _step(store: Store, steps: Generator[None, None, Page]) -> tuple[Page | None, int]:
    """Run one step under the store's lock: the page when it is finished, and the store's
    version then."""
    with store.lock:
        try:
            next(steps)
        except StopIteration as done:
            return done.value, store.version
        return None, store.version
