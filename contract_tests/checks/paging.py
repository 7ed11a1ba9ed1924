"""Group L, paging: in which order `GET /downlinks` lists, and how its pages link (L4, L5).

Every list is narrowed with `q` to this run's own device ids or markers (K1). Expected
answers come from `contract_tests.oracle`, fed with timestamps the target returned or the
suite seeded (K4); the list machinery is `contract_tests.pages`. What a list selects
(L1-L3) is `contract_tests.checks.listing`; walks and cursors (L6, L7) are
`contract_tests.checks.cursors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from contract_tests import oracle
from contract_tests.context import Context, Exchange
from contract_tests.pages import (
    compact_json,
    create_many,
    fail_walk,
    fetch_page,
    marker,
    pack_with,
    run_queries,
    seed_at,
    seed_base,
    walk,
    walk_both_ways,
)
from contract_tests.registry import Mode, Skip, Tag, check

__all__: list[str] = []  # the checks register themselves


# -- L4: sort -----------------------------------------------------------------------------


@check("L4", "sort=createdAt and sort=-createdAt order by createdAt", tag=Tag.SPEC)
def created_at_order(ctx: Context) -> None:
    a = ctx.network_id()
    made = create_many(ctx, 4, a)
    if len({oracle.parse_time(m["createdAt"]) for m in made}) < 2:
        raise Skip(
            "the target gave 4 downlinks created one after another the same createdAt "
            "(a stopped clock?): no order to judge"
        )
    queries = [{"q": a, "sort": s} for s in ("createdAt", "-createdAt")]
    run_queries(ctx, [a], [m["id"] for m in made], queries, order=True, tie_break=False)


@check(
    "L4",
    "sort=createdAt and sort=-createdAt order seeded downlinks by createdAt",
    tag=Tag.SPEC,
    mode=Mode.FULL,
)
def created_at_order_seeded(ctx: Context) -> None:
    a = ctx.network_id()
    t = seed_base(ctx)
    # Seeded out of order, two at one instant.
    seeded = seed_at(
        ctx, a, [(t + 3, t + 3), (t, t + 9), (t + 2, t + 2), (t + 2, t + 4), (t + 1, t + 1)]
    )
    queries = [{"q": a, "sort": s} for s in ("createdAt", "-createdAt")]
    run_queries(ctx, [a], [s["id"] for s in seeded], queries, order=True, tie_break=False)


_MULTI_SORTS = ("status,-createdAt", "externalReference,-id", "-status,modifiedAt,-networkId")


def _sort_queries(q: str) -> list[dict[str, str]]:
    queries: list[dict[str, str]] = [{"q": q}]  # the default: createdAt
    for name in oracle.SORTABLE:
        queries += [{"q": q, "sort": name}, {"q": q, "sort": f"-{name}"}]
    queries += [{"q": q, "sort": s} for s in _MULTI_SORTS]
    return queries


@check("L4", "every sortable field orders both ways, ties broken by id", tag=Tag.MOCK)
def sort_every_field(ctx: Context) -> None:
    common = marker(ctx)
    made = []
    # References differ in case ("B" < "a" by code point); two are absent.
    for index, ref in enumerate(("B", "a", None, "c", None, "a0")):
        nid = ctx.network_id()
        fields: dict[str, Any] = {"instruction": pack_with(nid, common)}
        if ref is not None:
            fields["externalReference"] = f"{common}-{ref}"
        made.append(ctx.create(nid, **fields))
        if index in (1, 3):
            ctx.request("DELETE", f"/downlinks/{made[-1]['id']}")
    run_queries(ctx, [common], [m["id"] for m in made], _sort_queries(common), order=True)


@check(
    "L4",
    "every sortable field orders both ways, seeded ties broken by id",
    tag=Tag.MOCK,
    mode=Mode.FULL,
)
def sort_every_field_seeded(ctx: Context) -> None:
    common = marker(ctx)
    t = seed_base(ctx)
    shared = ctx.network_id()
    rows = [
        # (createdAt, modifiedAt, status, externalReference, networkId)
        (t, t + 5, "PENDING", "B", shared),
        (t, t + 5, "DELIVERED", None, None),
        (t + 1, t + 2, "CANCELLED", "a", shared),
        (t + 2, t + 5, "PENDING", None, None),
        (t + 2, t + 3, "RETRY", "b", None),
        (t + 3, t + 3, "SENT_TO_CARRIER", "A", None),
        (t + 3, t + 9, "FAILED", "a0", shared),
        (t + 4, t + 4, "EXECUTING", None, None),
    ]
    records = []
    for created, modified, status, ref, nid in rows:
        nid = nid or ctx.network_id()
        record: dict[str, Any] = {
            "networkId": nid,
            "message": compact_json(pack_with(nid, common)),
            "createdAt": oracle.format_time(created),
            "modifiedAt": oracle.format_time(modified),
            "status": status,
        }
        if ref is not None:
            record["externalReference"] = f"{common}-{ref}"
        records.append(record)
    seeded = ctx.seed(records)
    run_queries(ctx, [common], [s["id"] for s in seeded], _sort_queries(common), order=True)


@check("L4", "an unknown sort field is refused with 400 naming the sortable ones", tag=Tag.MOCK)
def unknown_sort_field_refused(ctx: Context) -> None:
    q = ctx.network_id()
    for value in ("name", "-name", "createdAt,-name", "createdat", "-"):
        exchange = ctx.request("GET", "/downlinks", params={"q": q, "sort": value})
        if exchange.status != 400:
            ctx.fail(
                f"sort={value!r} names no sortable field, yet was not refused",
                exchange,
                expected="400",
                actual=str(exchange.status),
            )
        text = exchange.response.text
        absent = [name for name in oracle.SORTABLE if name not in text]
        if absent:
            ctx.fail(
                f"the 400 for sort={value!r} does not name every sortable field",
                exchange,
                expected=", ".join(oracle.SORTABLE),
                actual=f"missing {', '.join(absent)}",
            )


# -- L5: links ----------------------------------------------------------------------------


@check("L5", "next and prev are present exactly when a page lies that way", tag=Tag.SPEC)
def links_present_exactly(ctx: Context) -> None:
    a = ctx.network_id()
    made = create_many(ctx, 6, a)
    expected = sorted(m["id"] for m in made)  # the order is not judged here
    for limit in (3, 4, 6, 10):
        params = {"q": a, "limit": str(limit)}
        forward, backward = walk_both_ways(ctx, params)
        for result, direction in ((forward, "next"), (backward, "prev")):
            pages = result.pages
            problems = oracle.walk_problems(pages, expected, limit=limit, direction=direction)
            fail_walk(
                ctx,
                result,
                [p for p in problems if p.rule == "L5"],
                f"walking `{direction}` over 6 downlinks with limit={limit}",
            )
    empty = {"q": ctx.network_id()}
    exchange, body = fetch_page(ctx, empty)
    present = [k for k in ("next", "prev") if k in body]
    if body["items"] or present:
        ctx.fail(
            "an empty page carries links",
            exchange,
            expected='{"items": []}',
            actual=f"{len(body['items'])} items, links: {', '.join(present) or 'none'}",
        )


@check(
    "L5", "links are absolute /downlinks URIs carrying filters, sort and limit", tag=Tag.CONVENTION
)
def links_carry_the_query(ctx: Context) -> None:
    a = ctx.network_id()
    made = create_many(ctx, 5, a)
    params = {
        "q": a,
        "limit": "2",
        "sort": "-createdAt",
        "createdSince": made[0]["createdAt"],
        "modifiedSince": made[0]["createdAt"],
    }
    result = walk(ctx, params)
    if len(result.bodies) < 2:
        ctx.fail("5 downlinks with limit=2 came on one page", result.exchanges[0])
    for index, (exchange, body) in enumerate(zip(result.exchanges, result.bodies, strict=True)):
        for name in ("next", "prev"):
            if name in body and body[name] is None:
                ctx.fail(f"page {index} has `{name}: null`; an absent link is omitted", exchange)
            if body.get(name) is not None:
                _judge_link(ctx, exchange, name, body[name], params)


def _judge_link(
    ctx: Context, exchange: Exchange, name: str, link: str, params: Mapping[str, str]
) -> None:
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        ctx.fail(
            f"`{name}` is not an absolute URI",
            exchange,
            expected="http(s)://host/.../downlinks?...",
            actual=link,
        )
    if not parts.path.endswith("/downlinks"):
        ctx.fail(f"`{name}` does not point at /downlinks", exchange, actual=link)
    carried = dict(httpx.URL(link).params.multi_items())
    for key, value in params.items():
        if not _same_value(key, carried.get(key), value):
            ctx.fail(
                f"`{name}` does not carry the request's {key}",
                exchange,
                expected=f"{key}={value}",
                actual=link,
            )
    if "cursor" not in carried:
        ctx.fail(f"`{name}` carries no cursor", exchange, actual=link)


def _same_value(key: str, carried: str | None, sent: str) -> bool:
    # A time may come back written another way; it must name the same instant.
    if carried is None or key not in oracle.TIME_FILTERS:
        return carried == sent
    try:
        return oracle.parse_time(carried) == oracle.parse_time(sent)
    except ValueError:
        return False
