"""Group L, cursors: walking `next` and `prev` (L6) and what a cursor is bound to (L7).

Every list is narrowed with `q` to this run's own device ids or markers (K1); the list
machinery is `contract_tests.pages`, the judgement of a walk `contract_tests.oracle`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode, urljoin

import httpx

from contract_tests import oracle
from contract_tests.context import Context, Exchange
from contract_tests.pages import (
    Walk,
    create_many,
    fail_walk,
    fetch_page,
    seed_at,
    seed_base,
    walk,
    walk_both_ways,
)
from contract_tests.registry import Mode, Tag, check

__all__: list[str] = []


# -- L6: walks ----------------------------------------------------------------------------


@check(
    "L6",
    "walking next yields each downlink once in order; prev walks the pages back",
    tag=Tag.CONVENTION,
)
def walk_next_and_prev(ctx: Context) -> None:
    a = ctx.network_id()
    made = create_many(ctx, 7, a)
    ids = {m["id"] for m in made}
    for sort in ("createdAt", "-createdAt"):
        params = {"q": a, "limit": "3", "sort": sort}
        forward, backward = walk_both_ways(ctx, params)
        _judge_walk(ctx, forward, backward, ids, sort)


def _judge_walk(ctx: Context, forward: Walk, backward: Walk, ids: set[str], sort: str) -> None:
    seen = [e["id"] for e in forward.items]
    difference = oracle.first_difference(sorted(seen), sorted(ids))
    if difference:
        ctx.fail(
            f"walking `next` (sort={sort}) does not yield every downlink exactly once: {difference}",
            forward.exchanges[-1],
        )
    problem = oracle.order_problem(forward.items, sort, tie_break=False)
    if problem:
        ctx.fail(f"walking `next` (sort={sort}) breaks the order: {problem}", forward.exchanges[-1])
    ahead = [p.ids for p in forward.pages]
    back = [p.ids for p in reversed(backward.pages)]
    if ahead != back:
        ctx.fail(
            f"walking `prev` back (sort={sort}) does not yield the same pages in reverse",
            backward.exchanges[-1],
            expected=" | ".join(",".join(p) for p in ahead),
            actual=" | ".join(",".join(p) for p in back),
        )


@check("L6", "a walk skips and repeats nothing while downlinks are created", tag=Tag.CONVENTION)
def walk_stable_while_creating(ctx: Context) -> None:
    a = ctx.network_id()
    create_many(ctx, 6, a)
    # Newest first: every downlink created mid-walk lands before the cursor.
    params = {"q": a, "limit": "2", "sort": "-createdAt"}
    _, first = fetch_page(ctx, {"q": a, "sort": "-createdAt"})
    stable = [e["id"] for e in first["items"]]

    def create(page: int) -> None:
        if page < 3:
            ctx.create(a)

    result = walk(ctx, params, between=create)
    fail_walk(ctx, result, oracle.stable_walk_problems(result.pages, stable), "a walk with creates")


@check(
    "L6",
    "a walk skips and repeats nothing while downlinks are seeded between its items",
    tag=Tag.CONVENTION,
    mode=Mode.FULL,
)
def walk_stable_while_seeding(ctx: Context) -> None:
    a = ctx.network_id()
    t = seed_base(ctx)
    times = [(t + 10 * i, t + 10 * i) for i in (0, 1, 1, 2, 3, 3, 4, 5)]
    seed_at(ctx, a, times)
    _, first = fetch_page(ctx, {"q": a})
    stable = [e["id"] for e in first["items"]]

    def insert(page: int) -> None:
        # During the first pages: one before the cursor, one after, one tied with an
        # existing item.
        if page < 3:
            created = (t + 10 * page + 5, t + 45 + page, t + 10)
            seed_at(ctx, a, [(c, c) for c in created])

    result = walk(ctx, {"q": a, "limit": "3"}, between=insert)
    fail_walk(ctx, result, oracle.stable_walk_problems(result.pages, stable), "a walk with seeding")


@check(
    "L6",
    "walks over seeded createdAt ties yield each downlink once, both ways",
    tag=Tag.CONVENTION,
    mode=Mode.FULL,
)
def walk_over_ties(ctx: Context) -> None:
    a = ctx.network_id()
    t = seed_base(ctx)
    seeded = seed_at(ctx, a, [(t, t)] * 5 + [(t + 1, t + 1)] * 2 + [(t - 1, t - 1)])
    ids = {s["id"] for s in seeded}
    for sort in ("createdAt", "-createdAt"):
        forward, backward = walk_both_ways(ctx, {"q": a, "limit": "2", "sort": sort})
        _judge_walk(ctx, forward, backward, ids, sort)


# -- L7: cursors --------------------------------------------------------------------------


def _first_next(ctx: Context, params: Mapping[str, str]) -> tuple[Exchange, list[tuple[str, str]]]:
    exchange, body = fetch_page(ctx, params)
    link = body.get("next")
    if not isinstance(link, str):
        ctx.fail("a first page with more items beyond has no `next` (L5)", exchange)
    query = httpx.URL(urljoin(str(exchange.request.url), link)).params.multi_items()
    if not any(k == "cursor" for k, _ in query):
        ctx.fail("the `next` link carries no cursor parameter", exchange, actual=link)
    return exchange, list(query)


def _flip(text: str) -> str:
    """`text` with one character in the middle changed to another of its kind."""
    order = list(range(len(text) // 2, len(text))) + list(range(len(text) // 2))
    for i in order:
        c = text[i]
        if c.isdigit():
            return text[:i] + str((int(c) + 1) % 10) + text[i + 1 :]
        if c.isascii() and c.isalpha():
            base = ord("a") if c.islower() else ord("A")
            return text[:i] + chr(base + (ord(c) - base + 1) % 26) + text[i + 1 :]
    return text + "A"


def _expect_400(ctx: Context, params: Sequence[tuple[str, str]], what: str) -> None:
    exchange = ctx.request("GET", "/downlinks", params=list(params))
    if exchange.status != 400:
        ctx.fail(what, exchange, expected="400", actual=str(exchange.status))


@check("L7", "a garbled cursor is refused with 400", tag=Tag.MOCK)
def garbled_cursor_refused(ctx: Context) -> None:
    a = ctx.network_id()
    create_many(ctx, 5, a)
    _, query = _first_next(ctx, {"q": a, "limit": "2"})
    cursor = dict(query)["cursor"]
    others = [(k, v) for k, v in query if k != "cursor"]
    for garbled in (_flip(cursor), cursor[:-2], "x", cursor + cursor[-4:]):
        _expect_400(
            ctx,
            [*others, ("cursor", garbled)],
            f"the cursor {cursor!r} garbled to {garbled!r} was taken",
        )


@check("L7", "a cursor sent with other filters or sort is refused with 400", tag=Tag.MOCK)
def cursor_bound_to_query(ctx: Context) -> None:
    a, b = ctx.network_id(), ctx.network_id()
    made = create_many(ctx, 5, a)
    create_many(ctx, 1, b)
    params = {"q": a, "limit": "2", "sort": "createdAt"}
    _, query = _first_next(ctx, params)
    cursor = dict(query)["cursor"]
    changes = [
        ("q", b),
        ("sort", "-createdAt"),
        ("sort", "id"),
        ("createdSince", made[0]["createdAt"]),
        ("modifiedBefore", oracle.format_time(oracle.parse_time(made[-1]["createdAt"]) + 1000)),
    ]
    for key, value in changes:
        sent = {**params, key: value}
        _expect_400(
            ctx,
            [*sent.items(), ("cursor", cursor)],
            f"a cursor made for {urlencode(params)} was taken with {key}={value}",
        )
