"""Group L, filters: what `GET /downlinks` selects by `q` and time, and how many (L1-L3).

Every list is narrowed with `q` to this run's own device ids or markers (K1). Expected
answers come from `contract_tests.oracle`, fed with timestamps the target returned or the
suite seeded (K4); the list machinery is `contract_tests.pages`. Order, links and cursors
(L4-L7) are `contract_tests.checks.paging`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from contract_tests import oracle
from contract_tests.context import Context
from contract_tests.pages import (
    Walk,
    compact_json,
    create_many,
    describe_request,
    fetch_page,
    marker,
    pack_with,
    run_queries,
    seed_at,
    seed_base,
    snapshot,
    walk,
)
from contract_tests.registry import Mode, Tag, check

__all__: list[str] = []  # the checks register themselves


def _bounds(values: Iterable[str]) -> list[int]:
    """Distinct instants of `values`, each with its neighbours 1 ms either side."""
    out: set[int] = set()
    for text in values:
        t = oracle.parse_time(text)
        out |= {t - 1, t, t + 1}
    return sorted(out)


def _time_queries(
    q: str, items: Sequence[Mapping[str, Any]], *, limit_values: int = 4
) -> list[dict[str, str]]:
    """Boundary queries for every time filter, at each item's own instants (L2)."""
    queries: list[dict[str, str]] = []
    for name, (field_name, _) in oracle.TIME_FILTERS.items():
        distinct = sorted({e[field_name] for e in items}, key=oracle.parse_time)[:limit_values]
        for t in _bounds(distinct):
            queries.append({"q": q, name: oracle.format_time(t)})
    # The same instant written with other offsets must select the same (L2).
    middle = sorted(items, key=lambda e: oracle.parse_time(e["createdAt"]))[len(items) // 2]
    t = oracle.parse_time(middle["createdAt"])
    for offset in (120, -330):
        queries.append({"q": q, "createdSince": oracle.format_time(t, offset)})
        queries.append({"q": q, "createdBefore": oracle.format_time(t, offset)})
    # RFC 3339 (section 5.6) lets "T" and "Z" be written in lower case.
    queries.append({"q": q, "createdSince": oracle.format_time(t).lower()})
    # Two bounds at once: a window holding the middle items.
    created = sorted({oracle.parse_time(e["createdAt"]) for e in items})
    modified = sorted({oracle.parse_time(e["modifiedAt"]) for e in items})
    queries.append(
        {
            "q": q,
            "createdSince": oracle.format_time(created[len(created) // 2]),
            "createdBefore": oracle.format_time(created[-1]),
        }
    )
    queries.append(
        {
            "q": q,
            "createdSince": oracle.format_time(created[0]),
            "modifiedBefore": oracle.format_time(modified[-1]),
            "modifiedSince": oracle.format_time(modified[0] + 1),
        }
    )
    return queries


# -- L1: q --------------------------------------------------------------------------------


@check("L1", "q matches a message partially and case-sensitively", tag=Tag.SPEC)
def q_matches_message_partially(ctx: Context) -> None:
    common, mine, other = marker(ctx), marker(ctx, "msg"), marker(ctx, "msg")
    a = ctx.network_id()
    made = [
        ctx.create(a, instruction=pack_with(a, common, mine)),
        ctx.create(instruction=pack_with(ctx.network_id(), common, other)),
    ]
    queries = [{"q": mine}, {"q": mine[3:-2]}, {"q": mine.upper()}, {"q": other}, {"q": common}]
    # Taken literally: no regular-expression or SQL LIKE wildcards.
    queries += [{"q": mine[:4] + wildcard + mine[5:]} for wildcard in (".", "%", "_", "?")]
    queries.append({"q": mine[:4] + ".*"})
    run_queries(ctx, [common], [m["id"] for m in made], queries)


@check("L1", "q matches a networkId partially and case-sensitively", tag=Tag.SPEC)
def q_matches_network_id_partially(ctx: Context) -> None:
    common = marker(ctx)
    a, b = ctx.network_id(), ctx.network_id()
    made = [ctx.create(a, instruction=pack_with(a, common)) for _ in range(2)]
    made.append(ctx.create(b, instruction=pack_with(b, common)))
    device = a.split(":")[3]
    queries = [{"q": a}, {"q": device}, {"q": a[4:-4]}, {"q": a.swapcase()}, {"q": b[:-1]}]
    run_queries(ctx, [common], [m["id"] for m in made], queries)


@check(
    "L1",
    "q matches the networkId on its own (seeded message without it)",
    tag=Tag.SPEC,
    mode=Mode.FULL,
)
def q_matches_network_id_alone(ctx: Context) -> None:
    a, b = ctx.network_id(), ctx.network_id()
    base = seed_base(ctx)
    # Neither message holds its networkId: only the networkId clause can match.
    without = compact_json([{"n": "x", "vs": marker(ctx)}])
    seeded = seed_at(ctx, a, [(base, base), (base + 1, base + 1)], message=without)
    seeded += seed_at(ctx, b, [(base + 2, base + 2)], message=without)
    device = a.split(":")[3]
    queries = [{"q": a}, {"q": device}, {"q": a[4:-4]}, {"q": a.swapcase()}, {"q": b}]
    run_queries(ctx, [a, b], [s["id"] for s in seeded], queries)


@check("L1", "q matches a device tag exactly and case-sensitively", tag=Tag.SPEC, mode=Mode.FULL)
def q_matches_tag_exactly(ctx: Context) -> None:
    tagged, plain = ctx.network_id(), ctx.network_id()
    site, room = marker(ctx, "Site-"), marker(ctx, "room.")
    tags = {tagged: {"site": site, "room": room}}
    ctx.seed_devices([{"networkId": n, "tags": t} for n, t in tags.items()])
    base = seed_base(ctx)
    # Messages without the tag values or networkIds: only the tag clause can match.
    seeded = seed_at(ctx, tagged, [(base, base)], message="")
    seeded += seed_at(ctx, plain, [(base + 1, base + 1)], message="")
    queries = [
        {"q": site},
        {"q": room},
        {"q": site[:-1]},  # a prefix of a tag value is no exact match
        {"q": site[1:]},
        {"q": site + "0"},
        {"q": site.swapcase()},
    ]
    run_queries(ctx, [tagged, plain], [s["id"] for s in seeded], queries, tags=tags)


@check("L1", "an empty q is refused with 400", tag=Tag.SPEC)
def q_empty_refused(ctx: Context) -> None:
    exchange = ctx.request("GET", "/downlinks", params={"q": ""})
    if exchange.status != 400:
        ctx.fail(
            "q= (empty; the spec's minLength is 1) was not refused",
            exchange,
            expected="400",
            actual=str(exchange.status),
        )


@check("L1", "filters combine with AND", tag=Tag.SPEC)
def filters_combine_with_and(ctx: Context) -> None:
    common = marker(ctx)
    a, b = ctx.network_id(), ctx.network_id()
    made = create_many(ctx, 2, a, common) + create_many(ctx, 2, b, common, cancel=[0])
    made += create_many(ctx, 1, a, common)
    queries: list[dict[str, str]] = []
    for entry in made[1:4]:
        for q in (a, b, common):
            queries.append({"q": q, "createdSince": entry["createdAt"]})
            queries.append({"q": q, "createdBefore": entry["createdAt"]})
            queries.append({"q": q, "modifiedSince": entry["createdAt"]})
    run_queries(ctx, [common], [m["id"] for m in made], queries)


# -- L2: time filters ---------------------------------------------------------------------


@check("L2", "time filters: since inclusive, before exclusive, at read-back instants", tag=Tag.SPEC)
def time_bounds(ctx: Context) -> None:
    a = ctx.network_id()
    made = create_many(ctx, 4, a, cancel=[1])
    current = snapshot(ctx, [a], expect=[m["id"] for m in made])
    run_queries(ctx, [a], [m["id"] for m in made], _time_queries(a, list(current.values())))


@check(
    "L2",
    "time filters: since inclusive, before exclusive, at seeded instants 1 ms apart",
    tag=Tag.SPEC,
    mode=Mode.FULL,
)
def time_bounds_seeded(ctx: Context) -> None:
    a = ctx.network_id()
    t = seed_base(ctx)
    # createdAt 1 ms apart with a tie; modifiedAt in another order, also with a tie.
    times = [(t, t + 10), (t + 1, t + 13), (t + 2, t + 11), (t + 2, t + 12), (t + 3, t + 12)]
    seeded = seed_at(ctx, a, times)
    run_queries(
        ctx, [a], [s["id"] for s in seeded], _time_queries(a, seeded, limit_values=len(times))
    )


_BAD_TIMES = (
    "2025-05-01",  # a date alone
    "2025-05-01T00:00:00",  # no offset
    "2025-13-01T00:00:00Z",  # no 13th month
    "2025-05-01T25:00:00Z",
    "yesterday",
    "1746057600000",  # epoch milliseconds
)


@check("L2", "a time filter that is not an RFC 3339 date-time is refused with 400", tag=Tag.SPEC)
def bad_date_times_refused(ctx: Context) -> None:
    q = ctx.network_id()
    for name in oracle.TIME_FILTERS:
        for value in _BAD_TIMES:
            exchange = ctx.request("GET", "/downlinks", params={"q": q, name: value})
            if exchange.status != 400:
                ctx.fail(
                    f"{name}={value!r} is not an RFC 3339 date-time with an offset, yet was "
                    "not refused",
                    exchange,
                    expected="400",
                    actual=str(exchange.status),
                )


@check("L2", "a range that selects nothing (since >= before) is an empty 200", tag=Tag.CONVENTION)
def empty_range_is_empty(ctx: Context) -> None:
    a = ctx.network_id()
    made = ctx.create(a)
    created, modified = oracle.parse_time(made["createdAt"]), oracle.parse_time(made["modifiedAt"])
    fmt = oracle.format_time
    for since, before, t in (
        ("createdSince", "createdBefore", created),
        ("modifiedSince", "modifiedBefore", modified),
    ):
        for lower, upper in ((t, t), (t + 1, t), (t + 1000, t - 1000)):
            params = {"q": a, since: fmt(lower), before: fmt(upper)}
            exchange = ctx.request("GET", "/downlinks", params=params)
            body = exchange.json() if exchange.status == 200 else None
            if exchange.status != 200 or not isinstance(body, dict) or body.get("items") != []:
                ctx.fail(
                    f"{describe_request(params)}: a range with since >= before is not an "
                    "empty page",
                    exchange,
                    expected='200 {"items": []}',
                    actual=str(exchange.status),
                )
            if "next" in body or "prev" in body:
                ctx.fail(f"{describe_request(params)}: an empty page carries links (L5)", exchange)


# -- L3: limit ----------------------------------------------------------------------------


@check("L3", "limit defaults to 50 and is honoured", tag=Tag.SPEC)
def default_limit(ctx: Context) -> None:
    a = ctx.network_id()
    create_many(ctx, 51, a)
    exchange, body = fetch_page(ctx, {"q": a})
    if len(body["items"]) != 50:
        ctx.fail(
            "without limit, a list of 51 matching downlinks does not hold 50",
            exchange,
            expected="50 items",
            actual=f"{len(body['items'])} items",
        )
    for limit in (1, 7, 50):
        exchange, body = fetch_page(ctx, {"q": a, "limit": str(limit)})
        if len(body["items"]) != limit:
            ctx.fail(
                f"limit={limit} is not honoured over 51 matching downlinks",
                exchange,
                expected=f"{limit} items",
                actual=f"{len(body['items'])} items",
            )


@check("L3", "limit outside 1..1000 is refused with 400", tag=Tag.MOCK)
def limit_bounds(ctx: Context) -> None:
    q = ctx.network_id()
    for value, wanted in (
        ("0", 400),
        ("1001", 400),
        ("-1", 400),
        ("ten", 400),
        ("1.5", 400),
        ("1", 200),
        ("1000", 200),
    ):
        exchange = ctx.request("GET", "/downlinks", params={"q": q, "limit": value})
        if exchange.status != wanted:
            ctx.fail(
                f"limit={value} answered {exchange.status}",
                exchange,
                expected=str(wanted),
                actual=str(exchange.status),
            )


@check("L3", "each page holds min(limit, remaining)", tag=Tag.CONVENTION)
def page_sizes(ctx: Context) -> None:
    a = ctx.network_id()
    made = create_many(ctx, 5, a)
    for limit in (2, 5, 4):
        result = walk(ctx, {"q": a, "limit": str(limit)})
        problems = _page_size_problems(result, len(made), limit)
        if problems:
            index, text = problems[0]
            ctx.fail(text, result.exchanges[index], expected="min(limit, remaining) items")


def _page_size_problems(result: Walk, total: int, limit: int) -> list[tuple[int, str]]:
    remaining, out = total, []
    for index, body in enumerate(result.bodies):
        want = min(limit, max(remaining, 0))
        if len(body["items"]) != want:
            out.append(
                (
                    index,
                    f"page {index} of a walk over {total} downlinks with limit={limit} holds "
                    f"{len(body['items'])} items, not {want}",
                )
            )
        remaining -= len(body["items"])
    return out
