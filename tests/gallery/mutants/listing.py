"""Mutants of `GET /downlinks`: filters (L1, L2), limit (L3), sort (L4), links (L5), walks
(L6) and cursors (L7)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Generator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from mock_server.domain.model import Downlink
from mock_server.store.base import Page, Store
from mock_server.store.query import SORTABLE, Cursor, ListQuery, SortKey
from tests.gallery.mutant import mock_of, mutant, store_of
from tests.gallery.rewrite import Answer, Call, Rewrite

__all__: list[str] = []

_TIME_FILTERS = ("createdSince", "createdBefore", "modifiedSince", "modifiedBefore")


def _on_query(app: Any, change: Callable[[ListQuery], ListQuery]) -> Any:
    """The store pages with `change(query)` instead of the query as parsed."""
    store = mock_of(app).store
    steps = store.page_steps
    store.page_steps = lambda owner, query: steps(owner, change(query))
    return app


def _on_page(app: Any, change: Callable[[ListQuery, Page], None]) -> Any:
    """`change` edits each page the store makes before it is rendered."""
    store = mock_of(app).store
    steps = store.page_steps

    def changed(owner: str, query: ListQuery) -> Generator[None, None, Page]:
        result = yield from steps(owner, query)
        change(query, result)
        return result

    store.page_steps = changed
    return app


def _on_q(app: Any, clause: Callable[[Store, Downlink, str], bool]) -> Any:
    """`q` matches by `clause` instead of L1's; the time filters stay as they were."""
    store = store_of(app)
    matcher = store.matcher

    def match_with(query: ListQuery) -> Callable[[Downlink], bool]:
        if query.q is None:
            return matcher(query)
        in_time = matcher(dataclasses.replace(query, q=None))
        q = query.q
        return lambda dl: in_time(dl) and clause(store, dl, q)

    store.matcher = match_with  # type: ignore[method-assign]
    store.index_q = False  # the devices that can match are L1's, not the clause's
    return app


def _on_links(app: Any, change: Callable[[Call, str], str]) -> Any:
    """`change(call, link)` rewrites every `next` and `prev` link of a page."""

    def after(call: Call, answer: Answer) -> None:
        page = answer.json()
        if call.is_list() and answer.status == 200 and isinstance(page, dict):
            for name in ("next", "prev"):
                if isinstance(page.get(name), str):
                    page[name] = change(call, page[name])
            answer.set_json(page)

    return Rewrite(app, after=after)


# -- L1: q ------------------------------------------------------------------------------


@mutant("L1", description="an empty q is taken as no q")
def empty_q_ignored(app: Any) -> Any:
    def before(call: Call) -> None:
        if call.is_list() and call.param("q") == "":
            call.set_param("q", None)

    return Rewrite(app, before=before)


@mutant("L1", description="q matches case-insensitively")
def q_case_insensitive(app: Any) -> Any:
    def clause(store: Store, dl: Downlink, q: str) -> bool:
        folded = q.casefold()
        tags = [v.casefold() for v in store.tags(dl.network_id).values()]
        return (
            folded in dl.network_id.casefold()
            or folded in dl.message.casefold()
            or (folded in tags)
        )

    return _on_q(app, clause)


@mutant("L1", description="q matches a device tag partially (contains), not exactly")
def q_tag_partial(app: Any) -> Any:
    def clause(store: Store, dl: Downlink, q: str) -> bool:
        tags = store.tags(dl.network_id).values()
        return q in dl.network_id or q in dl.message or any(q in v for v in tags)

    return _on_q(app, clause)


@mutant("L1", description="q ignores the message: networkId and tags only")
def q_ignores_message(app: Any) -> Any:
    def clause(store: Store, dl: Downlink, q: str) -> bool:
        return q in dl.network_id or q in store.tags(dl.network_id).values()

    return _on_q(app, clause)


@mutant("L1", description="q ignores the networkId: message and tags only")
def q_ignores_network_id(app: Any) -> Any:
    def clause(store: Store, dl: Downlink, q: str) -> bool:
        return q in dl.message or q in store.tags(dl.network_id).values()

    return _on_q(app, clause)


# -- L2: time filters -------------------------------------------------------------------


def _shift(name: str, ms: int) -> Callable[[ListQuery], ListQuery]:
    def change(query: ListQuery) -> ListQuery:
        value = getattr(query, name)
        return query if value is None else dataclasses.replace(query, **{name: value + ms})

    return change


@mutant("L2", description="createdBefore is inclusive (<=)")
def created_before_inclusive(app: Any) -> Any:
    return _on_query(app, _shift("created_before", 1))


@mutant("L2", description="createdSince is exclusive (>)")
def created_since_exclusive(app: Any) -> Any:
    return _on_query(app, _shift("created_since", 1))


@mutant("L2", description="modifiedSince is accepted but ignored")
def modified_since_ignored(app: Any) -> Any:
    return _on_query(app, lambda query: dataclasses.replace(query, modified_since=None))


@mutant("L2", description="a time filter's offset is dropped: 10:00+02:00 is read as 10:00Z")
def time_offset_ignored(app: Any) -> Any:
    def before(call: Call) -> None:
        if call.is_list():
            for name in _TIME_FILTERS:
                value = call.param(name)
                if value and len(value) > 6 and value[-6] in "+-" and value[-3] == ":":
                    call.set_param(name, value[:-6] + "Z")

    return Rewrite(app, before=before)


@mutant("L2", description="a time filter without an offset (or a date alone) is read as UTC")
def naive_times_taken_as_utc(app: Any) -> Any:
    def before(call: Call) -> None:
        if call.is_list():
            for name in _TIME_FILTERS:
                value = call.param(name) or ""
                if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                    call.set_param(name, value + "T00:00:00Z")
                elif re.fullmatch(r"\d{4}-\d{2}-\d{2}T[\d:.]+", value):
                    call.set_param(name, value + "Z")

    return Rewrite(app, before=before)


# -- L3: limit --------------------------------------------------------------------------


@mutant("L3", description="a page holds limit + 1 items")
def page_limit_plus_one(app: Any) -> Any:
    return _on_query(app, lambda query: dataclasses.replace(query, limit=query.limit + 1))


@mutant("L3", description="a page holds limit - 1 items")
def page_limit_minus_one(app: Any) -> Any:
    return _on_query(app, lambda query: dataclasses.replace(query, limit=max(1, query.limit - 1)))


@mutant("L3", description="limit defaults to 20, not 50")
def default_limit_20(app: Any) -> Any:
    def before(call: Call) -> None:
        if call.is_list() and call.param("limit") is None and call.param("cursor") is None:
            call.set_param("limit", "20")

    return Rewrite(app, before=before)


@mutant("L3", description="limit=0 is accepted and answers an empty page")
def limit_zero_accepted(app: Any) -> Any:
    def before(call: Call) -> None:
        if call.is_list() and call.param("limit") == "0":
            call.set_param("limit", "1")  # everything else is validated as it should be
            call.notes["zero"] = True

    def after(call: Call, answer: Answer) -> None:
        if call.notes.get("zero") and answer.status == 200:
            answer.set_json({"items": []})

    return Rewrite(app, before=before, after=after)


# -- L4: sort ---------------------------------------------------------------------------


def _sorts_by_id(query: ListQuery) -> bool:
    """Whether the request itself named id (the mock appends it to every sort)."""
    return any(part.lstrip("-") == "id" for part in query.raw.get("sort", "").split(","))


@mutant("L4", "L6", description="no id tie-break: ties come in storage order, cursors skip them")
def no_id_tie_break(app: Any) -> Any:
    def change(query: ListQuery) -> ListQuery:
        if _sorts_by_id(query):
            return query
        cursor = query.cursor
        if cursor is not None:  # the cursor keeps the key it was made with, minus the id
            cursor = Cursor(cursor.values[:-1], cursor.backwards)
        return dataclasses.replace(query, sort=query.sort[:-1], cursor=cursor)

    return _on_query(app, change)


@mutant("L4", description="a descending sort also reverses the id tie-break")
def descending_ties_reversed(app: Any) -> Any:
    def change(query: ListQuery) -> ListQuery:
        if _sorts_by_id(query) or not query.sort[0].desc:
            return query
        return dataclasses.replace(query, sort=(*query.sort[:-1], SortKey("id", desc=True)))

    return _on_query(app, change)


@mutant("L4", description="the - of a descending sort is dropped: everything sorts ascending")
def descending_ignored(app: Any) -> Any:
    def before(call: Call) -> None:
        sort = call.param("sort")
        if call.is_list() and sort:
            fields = [p.lstrip("-") for p in sort.split(",")]
            call.set_param("sort", ",".join(dict.fromkeys(fields)))

    return Rewrite(app, before=before)


@mutant("L4", description="an unknown sort field is ignored (200), not refused")
def unknown_sort_ignored(app: Any) -> Any:
    def before(call: Call) -> None:
        sort = call.param("sort")
        if call.is_list() and sort is not None:
            known = [p for p in sort.split(",") if p.lstrip("-") in SORTABLE]
            call.set_param("sort", ",".join(known) or None)

    return Rewrite(app, before=before)


# -- L5: links --------------------------------------------------------------------------


@mutant("L5", description="the last page has `next` when it is exactly full")
def next_on_full_last_page(app: Any) -> Any:
    def change(query: ListQuery, page: Page) -> None:
        forward = query.cursor is None or not query.cursor.backwards
        if forward and len(page.items) == query.limit:
            page.has_next = True

    return _on_page(app, change)


@mutant("L5", description="the first page has `prev`")
def prev_on_first_page(app: Any) -> Any:
    def change(query: ListQuery, page: Page) -> None:
        if query.cursor is None and page.items:
            page.has_prev = True

    return _on_page(app, change)


@mutant("L5", description="an absent link is written as null, not omitted")
def null_links(app: Any) -> Any:
    def after(call: Call, answer: Answer) -> None:
        page = answer.json()
        if call.is_list() and answer.status == 200 and isinstance(page, dict):
            page.setdefault("next", None)
            page.setdefault("prev", None)
            answer.set_json(page)

    return Rewrite(app, after=after)


@mutant("L5", description="links are relative (/downlinks?...), not absolute URIs")
def relative_links(app: Any) -> Any:
    def relative(call: Call, link: str) -> str:
        return urlunsplit(("", "", *urlsplit(link)[2:]))

    return _on_links(app, relative)


@mutant("L5", description="links carry only limit and cursor: the filters ride in the cursor")
def links_drop_filters(app: Any) -> Any:
    carried: dict[str, list[tuple[str, str]]] = {}  # cursor -> the filters its link dropped

    def drop(call: Call, link: str) -> str:
        parts = urlsplit(link)
        query = parse_qsl(parts.query, keep_blank_values=True)
        kept = [(k, v) for k, v in query if k in ("limit", "cursor")]
        cursor = dict(kept).get("cursor", "")
        carried[cursor] = [(k, v) for k, v in query if k not in ("limit", "cursor")]
        return urlunsplit(parts._replace(query=urlencode(kept)))

    def restore(call: Call) -> None:
        cursor = call.param("cursor")
        if call.is_list() and cursor in carried:
            for name, value in carried[cursor]:
                if call.param(name) is None:
                    call.set_param(name, value)

    wrapped = _on_links(app, drop)
    wrapped.before = restore
    return wrapped


# -- L6, L7: cursors --------------------------------------------------------------------


@mutant("L6", "L7", description="cursors are offsets (o<n>): a walk shifts when items arrive")
def offset_cursors(app: Any) -> Any:
    def before(call: Call) -> None:
        cursor, limit = call.param("cursor"), call.param("limit") or "50"
        if not call.is_list() or not limit.isdigit() or not 1 <= int(limit) <= 1000:
            return  # the mock refuses it as it should
        if cursor is not None and not (cursor[:1] == "o" and cursor[1:].isdigit()):
            return
        offset = int(cursor[1:]) if cursor else 0
        call.notes.update(offset=offset, limit=int(limit), query=list(call.query))
        call.set_param("cursor", None)
        call.set_param("limit", str(min(1000, offset + int(limit) + 1)))

    def after(call: Call, answer: Answer) -> None:
        page = answer.json()
        if "offset" not in call.notes or answer.status != 200 or not isinstance(page, dict):
            return
        offset, limit = call.notes["offset"], call.notes["limit"]
        items = page["items"]
        out: dict[str, Any] = {"items": items[offset : offset + limit]}
        base = [(k, v) for k, v in call.notes["query"] if k not in ("cursor", "limit")]
        base.append(("limit", str(limit)))

        def link(at: int) -> str:
            return f"{call.origin()}/downlinks?{urlencode([*base, ('cursor', f'o{at}')])}"

        if len(items) > offset + limit:
            out["next"] = link(offset + limit)
        if offset > 0 and out["items"]:
            out["prev"] = link(max(0, offset - limit))
        answer.set_json(out)

    return Rewrite(app, before=before, after=after)


@mutant("L7", description="a cursor is not bound to the filters and sort it was made for")
def cursor_not_bound(app: Any) -> Any:
    codec = mock_of(app).cursors
    mac = codec._mac
    codec._mac = lambda payload, binding: mac(payload, b"")
    return app
