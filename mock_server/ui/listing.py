"""Downlinks of every client in one keyset-paged list, for the web view.

The store pages one client at a time (A5: the public API never mixes tenants). This
module merges those pages: each client's downlinks come in the requested order, fetched
in batches through `Store.page` from a keyset cursor, and a k-way merge takes the first
`limit` of all of them. Nothing ever loads the whole store: a request reads at most a
bounded number of batches per client, and when that budget runs out before the page is
full (a rare status filter), the page ends early with a cursor that goes on from where
the scan stopped.

The cursor is the sort values of an edge item, as the public API's are (L6), but neither
bound to a client nor signed: this is the control plane, read only, and a garbled cursor
is a 400 like any other bad parameter.
"""

from __future__ import annotations

import base64
import binascii
import heapq
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import orjson

from mock_server.domain.model import Downlink, Status
from mock_server.domain.timefmt import parse_rfc3339
from mock_server.http.problems import BadRequest, Violation
from mock_server.store.base import Store
from mock_server.store.query import Cursor, ListQuery, SortKey, parse_sort

__all__ = ["CrossQuery", "CrossPage", "parse_cross_query", "list_across", "MAX_UI_LIMIT"]

MAX_UI_LIMIT = 200  # rows a screen can show; more is a download, not a view
DEFAULT_SORT = "-createdAt"  # the newest first: what someone watching a mock wants
_INDEX_SORTS = frozenset({"createdAt", "modifiedAt"})  # Store.page walks an index for these
_FETCHES_INDEXED = 16  # batches per client per request when the sort has an index
_FETCHES_SCANNED = 1  # ... and when every batch scans the client's downlinks (O(n))
_BATCH = 1000  # the largest page Store.page gives (L3)
_PARAMS = frozenset(
    {
        "client",
        "status",
        "q",
        "sort",
        "limit",
        "cursor",
        "createdSince",
        "createdBefore",
        "modifiedSince",
        "modifiedBefore",
    }
)
_TIMES = {
    "createdSince": "created_since",
    "createdBefore": "created_before",
    "modifiedSince": "modified_since",
    "modifiedBefore": "modified_before",
}


@dataclass
class CrossQuery:
    """A validated list request of the web view."""

    query: ListQuery  # filters the store knows, sort, limit and the decoded cursor
    client: str | None = None  # one client's downlinks only
    statuses: frozenset[Status] | None = None  # any of these statuses


@dataclass
class CrossPage:
    """One page across clients, with the cursors to its neighbours."""

    items: list[Downlink]
    next: str | None
    prev: str | None
    partial: bool  # the scan budget ran out before the page was full


def parse_cross_query(params: Mapping[str, str], repeated: set[str]) -> CrossQuery:
    """Query parameters -> a CrossQuery; every bad one is reported at once (400, E2)."""
    errors: list[Violation] = [
        {"parameter": name, "detail": "is given more than once"} for name in sorted(repeated)
    ]
    for name in sorted(set(params) - _PARAMS):
        errors.append(
            {"parameter": name, "detail": f"unknown parameter; use {', '.join(sorted(_PARAMS))}"}
        )
    query = ListQuery()
    sort, sort_errors = parse_sort(params.get("sort", DEFAULT_SORT))
    errors += sort_errors
    query.sort = sort
    q = params.get("q")
    if q is not None and q != "":
        query.q = q
    for name, attr in _TIMES.items():
        if params.get(name):
            try:
                setattr(query, attr, parse_rfc3339(params[name]))
            except ValueError as exc:
                errors.append({"parameter": name, "detail": str(exc)})
    limit = params.get("limit", "50")
    if limit.isdigit() and 1 <= int(limit) <= MAX_UI_LIMIT:
        query.limit = int(limit)
    else:
        errors.append({"parameter": "limit", "detail": f"an integer from 1 to {MAX_UI_LIMIT}"})
    statuses = None
    if params.get("status"):
        names = [s.strip() for s in params["status"].split(",") if s.strip()]
        known = {s.value for s in Status}
        unknown = [n for n in names if n not in known]
        if unknown or not names:
            errors.append(
                {"parameter": "status", "detail": f"statuses from {', '.join(sorted(known))}"}
            )
        else:
            statuses = frozenset(Status(n) for n in names)
    cross = CrossQuery(query, params.get("client") or None, statuses)
    if not errors and params.get("cursor"):
        try:
            query.cursor = _decode(params["cursor"], query.sort)
        except ValueError as exc:
            errors.append({"parameter": "cursor", "detail": str(exc)})
    if errors:
        raise BadRequest("the list request has invalid parameters", errors=errors)
    return cross


def list_across(store: Store, cross: CrossQuery) -> CrossPage:
    """One page of the downlinks of every client (or of `cross.client`) that match."""
    query = cross.query
    cursor = query.cursor
    backwards = cursor is not None and cursor.backwards
    owners = [cross.client] if cross.client is not None else store.owners()
    page = _merge(store, owners, cross, backwards)
    if backwards and page.prev is None:
        # Back at the start: show a full first page rather than the stub before the cursor.
        first = CrossQuery(replace(query, cursor=None), cross.client, cross.statuses)
        return _merge(store, owners, first, False)
    return page


_Entry = tuple[tuple[Any, ...], tuple[Any, ...], Downlink | None]  # order key, raw key, item


def _merge(store: Store, owners: list[str], cross: CrossQuery, backwards: bool) -> CrossPage:
    query = cross.query
    limit = query.limit
    key = query.key()
    sort = query.sort
    # Store.page walks an index for a time sort with nothing but the id after it.
    indexed = len(sort) == 2 and sort[0].field in _INDEX_SORTS and sort[1] == SortKey("id")
    fetches = _FETCHES_INDEXED if indexed else _FETCHES_SCANNED
    streams = [_stream(store, o, cross, key, backwards, fetches, len(owners)) for o in owners]
    merged = heapq.merge(*streams, key=lambda entry: entry[0], reverse=backwards)
    items: list[Downlink] = []
    stop: tuple[Any, ...] | None = None  # where a client's scan budget ran out
    for _, raw, dl in merged:
        if dl is None:
            stop = raw
            break
        items.append(dl)
        if len(items) > limit:
            break
    # `far`: where the next page in the walk's direction starts; `near`: the way back.
    far = None
    if len(items) > limit:
        del items[limit:]
        far = query.raw_key(items[-1])
    elif stop is not None:
        far = stop  # what lies between was scanned and did not match
    cursor = query.cursor
    near = query.raw_key(items[0]) if items else (cursor.values if cursor else None)
    if backwards:
        items.reverse()
        return CrossPage(items, _encode(near, False), _encode(far, True), stop is not None)
    prev = _encode(near, True) if cursor is not None else None
    return CrossPage(items, _encode(far, False), prev, stop is not None)


def _stream(
    store: Store,
    owner: str,
    cross: CrossQuery,
    key: Callable[[Downlink], tuple[Any, ...]],
    backwards: bool,
    fetches: int,
    clients: int,
) -> Iterator[_Entry]:
    """One client's matching downlinks in merge order (nearest first when backwards),
    fetched in batches; past its budget, a last entry without a downlink marks where it
    stopped."""
    query = cross.query
    statuses = cross.statuses
    full = _BATCH if statuses is not None else query.limit + 1
    # Where a batch is cheap (an index walk), start with this client's share of the page
    # and grow: a page over many clients then reads about `limit` items, not `limit` each.
    share = -(-(query.limit + 1) // clients) + 1
    size = full if fetches == 1 else min(full, share)
    batch = replace(query, limit=size)
    for _ in range(fetches):
        page = store.page(owner, batch)
        items = list(reversed(page.items)) if backwards else page.items
        for dl in items:
            if statuses is None or dl.status in statuses:
                yield key(dl), query.raw_key(dl), dl
        if not items or not (page.has_prev if backwards else page.has_next):
            return
        last = items[-1]
        size = min(full, size * 4)
        batch = replace(batch, limit=size, cursor=Cursor(query.raw_key(last), backwards))
    yield key(last), query.raw_key(last), None


# -- cursors ----------------------------------------------------------------------------


def _encode(values: tuple[Any, ...] | None, backwards: bool) -> str | None:
    if values is None:
        return None
    payload = orjson.dumps([list(values), "p" if backwards else "n"])
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode()


def _decode(text: str, sort: tuple[SortKey, ...]) -> Cursor:
    bad = ValueError("garbled, or made for another sort: use the pager's links as given")
    try:
        payload = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        values, direction = orjson.loads(payload)
    except (ValueError, binascii.Error, orjson.JSONDecodeError, TypeError):
        raise bad from None
    if direction not in ("n", "p") or not isinstance(values, list) or len(values) != len(sort):
        raise bad
    restored: list[Any] = []
    for value, sort_key in zip(values, sort, strict=True):
        field = sort_key.field
        if field in _INDEX_SORTS:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif field == "externalReference":
            ok = (
                isinstance(value, list)
                and len(value) == 2
                and value[0] in (0, 1)
                and isinstance(value[1], str)
            )
            value = tuple(value) if ok else value
        else:
            ok = isinstance(value, str)
        if not ok:
            raise bad
        restored.append(value)
    return Cursor(tuple(restored), direction == "p")
