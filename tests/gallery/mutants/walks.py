"""Mutants of walks the default order does not take (L6): a cursor lost on a scanned sort,
a walk that stops at a time bound, a long run of ties restarted; and a prev page with a
next link where no later page is left (L5)."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Callable, Generator
from typing import Any
from urllib.parse import urlencode

from mock_server.store.base import Page
from mock_server.store.query import ListQuery
from tests.gallery.mutant import mutant, store_of
from tests.gallery.rewrite import Answer, Call, Rewrite

__all__: list[str] = []

_TIMES = ("createdAt", "modifiedAt")  # the sorts an implementation serves from a time index


def _pages_with(app: Any, change: Callable[[Callable[[str, ListQuery], Page]], Any]) -> None:
    """The list handler's pages come from `change(page)`, where `page` is the store's own
    (`Store.page`, driven from the original `page_steps`), in one step."""
    store = store_of(app)
    original = store.page_steps

    def page(owner: str, query: ListQuery) -> Page:
        steps = original(owner, query)
        while True:
            try:
                next(steps)
            except StopIteration as done:
                result: Page = done.value
                return result

    make = change(page)

    def steps(owner: str, query: ListQuery) -> Generator[None, None, Page]:
        result: Page = make(owner, query)
        return result
        yield  # a generator: the handler drives it with next()

    store.page_steps = steps  # type: ignore[method-assign]


@mutant("L6", description="a sort by any field but a time forgets the cursor: page 2 is page 1")
def scanned_sort_forgets_cursor(app: Any) -> Any:
    def change(page: Callable[[str, ListQuery], Page]) -> Callable[[str, ListQuery], Page]:
        def patched(owner: str, query: ListQuery) -> Page:
            if query.cursor is not None and query.sort[0].field not in _TIMES:
                query = dataclasses.replace(query, cursor=None)
            return page(owner, query)

        return patched

    _pages_with(app, change)
    return app


@mutant("L6", description="a walk by descending time under a before-bound ends after page 1")
def bounded_walk_stops(app: Any) -> Any:
    def change(page: Callable[[str, ListQuery], Page]) -> Callable[[str, ListQuery], Page]:
        def patched(owner: str, query: ListQuery) -> Page:
            bounded = query.created_before is not None or query.modified_before is not None
            descending = query.sort[0].field in _TIMES and query.sort[0].desc
            if query.cursor is not None and bounded and descending and not query.cursor.backwards:
                return Page([], False, True)
            return page(owner, query)

        return patched

    _pages_with(app, change)
    return app


_RUN = 32  # equal times beyond which the mutant below loses its place


@mutant("L6", description="a cursor inside a run of over 32 equal times restarts the run")
def long_tie_restarts(app: Any) -> Any:
    def change(page: Callable[[str, ListQuery], Page]) -> Callable[[str, ListQuery], Page]:
        def tied(owner: str, query: ListQuery, t: int) -> int:
            by_created = query.sort[0].field == "createdAt"
            bounds = (
                {"created_since": t, "created_before": t + 1}
                if by_created
                else {"modified_since": t, "modified_before": t + 1}
            )
            return len(page(owner, ListQuery(q=query.q, limit=1000, **bounds)).items)

        def patched(owner: str, query: ListQuery) -> Page:
            cursor = query.cursor
            if cursor is not None and query.sort[0].field in _TIMES and len(cursor.values) == 2:
                t = cursor.values[0]
                if isinstance(t, int) and tied(owner, query, t) > _RUN:
                    query = dataclasses.replace(
                        query, cursor=dataclasses.replace(cursor, values=(t, ""))
                    )
            return page(owner, query)

        return patched

    _pages_with(app, change)
    return app


def _is_prev_cursor(text: str | None) -> bool:
    """Whether a cursor was made by a `prev` link (the mock's payload ends in "p")."""
    try:
        payload = text.split(".")[0] if text else ""
        decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError):
        return False
    return isinstance(decoded, list) and decoded[-1:] == ["p"]


@mutant("L5", description="a page reached by a prev link always carries a next link")
def prev_page_always_has_next(app: Any) -> Any:
    def after(call: Call, answer: Answer) -> None:
        page = answer.json()
        if (
            call.is_list()
            and answer.status == 200
            and isinstance(page, dict)
            and page.get("items")
            and "next" not in page
            and _is_prev_cursor(call.param("cursor"))
        ):
            page["next"] = call.origin() + call.path + "?" + urlencode(call.query)
            answer.set_json(page)

    return Rewrite(app, after=after)
