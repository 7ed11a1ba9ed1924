"""Group L checks: they pass on the mock in both modes, and fail on a mock broken on purpose."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

import contract_tests.checks.cursors  # noqa: F401
import contract_tests.checks.listing  # noqa: F401  (registers the checks)
import contract_tests.checks.paging  # noqa: F401
from contract_tests import oracle
from contract_tests.registry import Check, Mode
from tests.contract_tests.mock_target import (
    SETTINGS,
    Broken,
    Query,
    Servers,
    assert_caught,
    checks_of,
    edit_json,
    outcome,
    target_for,
)

CHECKS = checks_of("listing") + checks_of("paging") + checks_of("cursors")
BY_NAME = {c.name: c for c in CHECKS}


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    with Servers() as running:
        yield running


@pytest.mark.parametrize("setting", SETTINGS, ids="-".join)
@pytest.mark.parametrize("entry", CHECKS, ids=lambda c: c.name)
def test_l_checks_pass_on_the_mock(
    servers: Servers, entry: Check, setting: tuple[str, str]
) -> None:
    """Every L check passes on the mock; a full-mode check is skipped in black-box mode.

    On the manual clock every created downlink has one instant, so a check that needs
    distinct creation times says so by skipping (K2) rather than passing. On the real
    clock downlinks progress on their own, as a real target's do: no check may then
    report a false finding (K4), though one may skip."""
    clock, mode = setting
    result, detail = outcome(entry, target_for(servers[clock], Mode(mode)))
    if entry.mode is Mode.FULL and mode == "black-box":
        assert result == "skip" and "full mode" in detail
    elif entry.name == "L4-created_at_order" and clock == "manual":
        assert result == "skip" and "same createdAt" in detail
    elif clock == "real":
        assert result in ("pass", "skip"), detail
    else:
        assert result == "pass", detail


def test_every_l_rule_has_checks_with_its_tags() -> None:
    tags = {(c.rule, c.tag.value) for c in CHECKS}
    assert {r for r, _ in tags} == {"L1", "L2", "L3", "L4", "L5", "L6", "L7"}
    # Mixed rules are split: L2 spec/convention, L3 spec/mock/convention, L4 spec/mock, L5.
    for pair in [
        ("L2", "spec"),
        ("L2", "convention"),
        ("L3", "spec"),
        ("L3", "mock"),
        ("L3", "convention"),
        ("L4", "spec"),
        ("L4", "mock"),
        ("L5", "spec"),
        ("L5", "convention"),
        ("L7", "mock"),
    ]:
        assert pair in tags


# -- broken implementations ---------------------------------------------------------------


def on_list(change: Callable[[Query], Query]) -> Callable[[str, str, Query, bytes], Any]:
    def rewrite(method: str, path: str, query: Query, body: bytes) -> tuple[Query, bytes]:
        if method == "GET" and path == "/downlinks":
            query = change(query)
        return query, body

    return rewrite


def shift(name: str, ms: int) -> Callable[[Query], Query]:
    """A time filter read `ms` off: an inclusive bound made exclusive or the reverse."""

    def change(query: Query) -> Query:
        out = []
        for k, v in query:
            if k == name:
                try:
                    v = oracle.format_time(oracle.parse_time(v) + ms)
                except ValueError:
                    pass
            out.append((k, v))
        return out

    return change


def offsets_ignored(query: Query) -> Query:
    # Reads "...+02:00" as if it were UTC.
    return [
        (k, v[:-6] + "Z" if k in oracle.TIME_FILTERS and v[-6] in "+-" else v) for k, v in query
    ]


def on_page(change: Callable[[dict, Query], Any]) -> Callable[..., tuple[int, bytes]]:
    def rewrite(
        method: str, path: str, query: Query, status: int, body: bytes
    ) -> tuple[int, bytes]:
        if method == "GET" and path == "/downlinks" and status == 200:
            body = edit_json(body, lambda page: change(page, query))
        return status, body

    return rewrite


def next_on_full_last_page(page: dict, query: Query) -> None:
    limit = int(dict(query).get("limit", 50))
    if "next" not in page and len(page["items"]) == limit:
        page["next"] = "http://127.0.0.1:1/downlinks?" + urlencode([*query, ("again", "1")])


def relative_links(page: dict, query: Query) -> None:
    for name in ("next", "prev"):
        if name in page:
            parts = urlsplit(page[name])
            page[name] = f"{parts.path}?{parts.query}"


def links_drop_sort(page: dict, query: Query) -> None:
    for name in ("next", "prev"):
        if name in page:
            parts = urlsplit(page[name])
            kept = [(k, v) for k, v in parse_qsl(parts.query) if k != "sort"]
            page[name] = parts._replace(query=urlencode(kept)).geturl()


def drop_one_per_page(page: dict, query: Query) -> None:
    if "next" in page and page["items"]:
        page["items"].pop()


def ties_by_id_descending(page: dict, query: Query) -> None:
    if "sort" not in dict(query):
        page["items"].sort(key=lambda i: i["id"], reverse=True)
        page["items"].sort(key=lambda i: i["createdAt"])


def null_prev(page: dict, query: Query) -> None:
    page.setdefault("prev", None)


def swap_sort(query: Query) -> Query:
    return [
        (k, v[1:] if k == "sort" and v.startswith("-") else "-" + v if k == "sort" else v)
        for k, v in query
    ]


def redirect_sort(query: Query) -> Query:
    # An unknown field silently sorts by createdAt.
    fields = [f.lstrip("-") for f in dict(query).get("sort", "").split(",") if f]
    if any(f not in oracle.SORTABLE for f in fields):
        return [(k, v) for k, v in query if k != "sort"]
    return query


class OffsetPager:
    """Pages by offset (cursor "o<N>") over the mock's full list: skips and repeats items
    when downlinks are created mid-walk (L6), takes any cursor (L7)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = app.state

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["path"] != "/downlinks" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        query = parse_qsl(scope["query_string"].decode(), keep_blank_values=True)
        params = dict(query)
        cursor = params.pop("cursor", None)
        limit = int(params.get("limit", 50))
        offset = int("".join(ch for ch in cursor if ch.isdigit()) or 0) if cursor else 0
        inner = {**params, "limit": "1000"}
        chunks: list[bytes] = []
        start: dict = {}

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        sub = {**scope, "query_string": urlencode(inner).encode()}
        await self.app(sub, receive, capture)
        if start["status"] != 200:
            body = b"".join(chunks)
            status = start["status"]
        else:
            items = json.loads(b"".join(chunks))["items"]
            page: dict[str, Any] = {"items": items[offset : offset + limit]}
            base = f"http://{scope['server'][0]}:{scope['server'][1]}/downlinks?"
            if offset + limit < len(items):
                page["next"] = base + urlencode({**params, "cursor": f"o{offset + limit}"})
            if offset > 0:
                page["prev"] = base + urlencode({**params, "cursor": f"o{max(offset - limit, 0)}"})
            body, status = json.dumps(page).encode(), 200
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def broken(**kwargs: Any) -> Callable[[Any], Any]:
    return lambda app: Broken(app, **kwargs)


BROKEN: dict[str, tuple[Callable[[Any], Any], list[str]]] = {
    # L2: createdBefore inclusive, createdSince exclusive, modifiedSince off by one.
    "created_before_inclusive": (
        broken(request=on_list(shift("createdBefore", 1))),
        ["L2-time_bounds", "L2-time_bounds_seeded", "L1-filters_combine_with_and"],
    ),
    "created_since_exclusive": (
        broken(request=on_list(shift("createdSince", 1))),
        ["L2-time_bounds", "L2-time_bounds_seeded"],
    ),
    "modified_since_exclusive": (
        broken(request=on_list(shift("modifiedSince", 1))),
        ["L2-time_bounds_seeded"],
    ),
    "modified_before_inclusive": (
        broken(request=on_list(shift("modifiedBefore", 1))),
        ["L2-time_bounds", "L2-time_bounds_seeded"],
    ),
    "offsets_ignored": (broken(request=on_list(offsets_ignored)), ["L2-time_bounds"]),
    # L1: case-insensitive q; empty q taken as no q.
    "q_case_insensitive": (
        broken(request=on_list(lambda q: [(k, v.lower() if k == "q" else v) for k, v in q])),
        [
            "L1-q_matches_message_partially",
            "L1-q_matches_network_id_partially",
            "L1-q_matches_tag_exactly",
        ],
    ),
    "empty_q_ignored": (
        broken(request=on_list(lambda q: [(k, v) for k, v in q if (k, v) != ("q", "")])),
        ["L1-q_empty_refused"],
    ),
    # L3: another default limit.
    "default_limit_20": (
        broken(request=on_list(lambda q: q if "limit" in dict(q) else [*q, ("limit", "20")])),
        ["L3-default_limit"],
    ),
    # L4: directions swapped; unknown field tolerated; ties broken the other way.
    "sort_swapped": (
        broken(request=on_list(swap_sort)),
        [
            "L4-created_at_order",
            "L4-created_at_order_seeded",
            "L4-sort_every_field",
            "L4-sort_every_field_seeded",
        ],
    ),
    "unknown_sort_tolerated": (
        broken(request=on_list(redirect_sort)),
        ["L4-unknown_sort_field_refused"],
    ),
    "ties_by_id_descending": (
        broken(response=on_page(ties_by_id_descending)),
        ["L4-sort_every_field_seeded"],
    ),
    # L5: next on the exactly full last page; relative links; links lose the sort; null.
    "next_on_full_last_page": (
        broken(response=on_page(next_on_full_last_page)),
        ["L5-links_present_exactly"],
    ),
    "relative_links": (broken(response=on_page(relative_links)), ["L5-links_carry_the_query"]),
    "links_drop_sort": (
        broken(response=on_page(links_drop_sort)),
        ["L5-links_carry_the_query", "L6-walk_next_and_prev"],
    ),
    "null_prev": (broken(response=on_page(null_prev)), ["L5-links_carry_the_query"]),
    # L3/L6: a page loses its last item.
    "drop_one_per_page": (
        broken(response=on_page(drop_one_per_page)),
        ["L3-page_sizes", "L6-walk_next_and_prev", "L6-walk_over_ties"],
    ),
    # L6/L7: offset pagination with unchecked cursors.
    "offset_pager": (
        OffsetPager,
        [
            "L6-walk_stable_while_creating",
            "L6-walk_stable_while_seeding",
            "L7-garbled_cursor_refused",
            "L7-cursor_bound_to_query",
        ],
    ),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_l_checks_fail_on_a_broken_mock(name: str) -> None:
    """Each deliberately broken list behaviour is caught by the checks of its rule."""
    wrap, expected = BROKEN[name]
    assert_caught(name, wrap, expected, clock="scaled")
