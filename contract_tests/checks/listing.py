"""Group L: what `GET /downlinks` selects, in which order, and how its pages link (L1-L7).

Every list is narrowed with `q` to this run's own device ids or markers (K1). Expected
answers come from `contract_tests.oracle`, fed with timestamps the target returned or the
suite seeded (K4). Items that move while a check runs (a real target progresses them) are
judged only by the values the list itself returned: see `stable_items`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import httpx

from .. import oracle
from ..context import Context, Exchange
from ..registry import Mode, Skip, Tag, check

__all__ = [
    "fetch_page",
    "marker",
    "pack_with",
    "snapshot",
    "stable_items",
    "judge_selection",
    "Walk",
    "walk",
    "seed_base",
    "compact_json",
]

_UNSET: Any = ...  # Context's "the target's token"


# -- helpers shared with the other groups --------------------------------------------------


def _show(params: Mapping[str, Any] | None) -> str:
    return "GET /downlinks" + (f"?{urlencode(dict(params))}" if params else "")


def fetch_page(
    ctx: Context, params: Mapping[str, Any] | None, *, token: Any = _UNSET, url: str | None = None
) -> tuple[Exchange, dict[str, Any]]:
    """One list page: GET /downlinks?params (or `url`, a link); fails unless a 200 page."""
    exchange = ctx.request("GET", url or "/downlinks", params=None if url else params, token=token)
    if exchange.status != 200:
        ctx.fail(
            f"{_show(params) if not url else 'GET ' + url} answered {exchange.status}",
            exchange,
            expected="200 with a page",
            actual=str(exchange.status),
        )
    body = exchange.json()
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        ctx.fail(
            "the list answer is not a page",
            exchange,
            expected='{"items": [...]}',
            actual=type(body).__name__,
        )
    for entry in body["items"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            ctx.fail("a listed item is not a downlink with an id", exchange, actual=repr(entry))
        for name in ("createdAt", "modifiedAt"):
            try:
                oracle.parse_time(entry.get(name))
            except ValueError:
                ctx.fail(
                    f"listed downlink {entry['id']} has no readable `{name}` (T1)",
                    exchange,
                    expected="an RFC 3339 date-time",
                    actual=repr(entry.get(name)),
                )
    return exchange, body


def marker(ctx: Context, prefix: str = "mk") -> str:
    """A run-unique lower-case token to put in messages and narrow lists with (K1)."""
    return f"{prefix}{ctx.run_id[:8].lower()}{ctx.rng.getrandbits(40):010x}"


def pack_with(network_id: str, *values: str) -> list[dict[str, Any]]:
    """A valid SenML pack for `network_id` whose message carries `values` (as `vs`)."""
    pack: list[dict[str, Any]] = [{"bn": network_id}]
    pack += [{"n": f"m{i}", "vs": v} for i, v in enumerate(values)] or [{"n": "x", "v": 1}]
    return pack


def snapshot(
    ctx: Context,
    scopes: Iterable[str],
    *,
    expect: Iterable[str] = (),
    token: Any = _UNSET,
    why: str = "",
) -> dict[str, dict[str, Any]]:
    """Every downlink listed for each `q` in `scopes` (following `next`), by id.

    Fails if an id of `expect` (downlinks this check made to match) is not among them.
    """
    found: dict[str, dict[str, Any]] = {}
    last: Exchange | None = None
    for q in scopes:
        result = walk(ctx, {"q": q}, token=token)
        last = result.exchanges[0]
        for entry in result.items:
            found[entry["id"]] = entry
    missing = [i for i in expect if i not in found]
    if missing:
        ctx.fail(
            f"q does not find downlinks made to match it{why}",
            last,
            expected=f"{len(missing)} more downlinks listed: {', '.join(missing[:5])}",
            actual=f"{len(found)} listed",
        )
    return found


def _moving_key(entry: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(entry.get(k) for k in ("createdAt", "modifiedAt", "status", "externalReference"))


def stable_items(
    before: Mapping[str, dict[str, Any]], after: Mapping[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The downlinks that did not change between two snapshots (so not in between either:
    `modifiedAt` never moves back, T2). Only these have a known expected place in a list."""
    return [
        after[i] for i in before if i in after and _moving_key(before[i]) == _moving_key(after[i])
    ]


def judge_selection(
    ctx: Context,
    exchange: Exchange,
    got: Sequence[Mapping[str, Any]],
    params: Mapping[str, str],
    stable: Sequence[Mapping[str, Any]],
    *,
    tags: Mapping[str, Mapping[str, str]] | None = None,
    order: bool = True,
    tie_break: bool = True,
) -> None:
    """Fail unless one complete page `got` is what a correct target lists for `params`.

    Every listed item must match by its own listed values (L1, L2); every stable matching
    item must be listed; stable items must come in the order of L4 (`order`), with the id
    tie-break ([mock]) when `tie_break`.
    """
    shown = _show(params)
    ids = [str(e.get("id")) for e in got]
    if len(ids) != len(set(ids)):
        ctx.fail(f"{shown} lists a downlink twice", exchange, actual=", ".join(ids))
    for entry in got:
        why = oracle.mismatches(entry, params, tags)
        if why:
            ctx.fail(
                f"{shown} lists downlink {entry['id']}, which does not match: {'; '.join(why)}",
                exchange,
                expected="only matching downlinks",
                actual=f"{entry['id']} listed",
            )
    expected = oracle.select(stable, params, tags)
    missing = [e for e in expected if e["id"] not in set(ids)]
    if missing:
        e = missing[0]
        ctx.fail(
            f"{shown} leaves out downlink {e['id']} (createdAt {e['createdAt']}, modifiedAt "
            f"{e['modifiedAt']}, networkId {e.get('networkId')!r}), which matches",
            exchange,
            expected=f"{len(expected)} downlinks",
            actual=f"{len(got)} listed, {len(missing)} matching ones left out",
        )
    if not order:
        return
    wanted = [str(e["id"]) for e in expected]
    if tie_break:
        in_order = [i for i in ids if i in set(wanted)]
        difference = oracle.first_difference(in_order, wanted)
        if difference:
            ctx.fail(
                f"{shown} lists the downlinks out of the order L4 gives "
                f"{params.get('sort') or 'createdAt (the default)'}: {difference}",
                exchange,
                expected=", ".join(wanted),
                actual=", ".join(in_order),
            )
    else:
        problem = oracle.order_problem(
            [e for e in got if e["id"] in set(wanted)], params.get("sort"), tie_break=False
        )
        if problem:
            ctx.fail(f"{shown} is out of order: {problem}", exchange)


@dataclass
class Walk:
    """The exchanges and pages of a walk, in the order fetched."""

    exchanges: list[Exchange] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pages(self) -> list[oracle.Page]:
        return [oracle.Page.from_body(b) for b in self.bodies]

    @property
    def items(self) -> list[dict[str, Any]]:
        return [entry for b in self.bodies for entry in b["items"]]


def walk(
    ctx: Context,
    params: Mapping[str, Any] | None = None,
    *,
    start: str | None = None,
    direction: str = "next",
    token: Any = _UNSET,
    between: Callable[[int], None] | None = None,
    max_pages: int = 200,
) -> Walk:
    """GET /downlinks?params (or the link `start`), then follow `direction` links until
    absent. `between(i)` runs after page i arrives and before the next is fetched (L6)."""
    result = Walk()
    url = start
    seen: set[str] = set()
    while True:
        exchange, body = fetch_page(ctx, params, token=token, url=url)
        result.exchanges.append(exchange)
        result.bodies.append(body)
        link = body.get(direction)
        if link is None:
            return result
        if not isinstance(link, str):
            ctx.fail(f"`{direction}` is not a string (L5)", exchange, actual=repr(link))
        url = urljoin(str(exchange.request.url), link)
        if url in seen or len(result.bodies) >= max_pages:
            ctx.fail(
                f"walking `{direction}` does not end: it came back to a page already seen "
                f"or ran past {max_pages} pages (L5)",
                exchange,
                expected="every link new",
                actual=url,
            )
        seen.add(url)
        if between is not None:
            between(len(result.bodies) - 1)


def seed_base(ctx: Context) -> int:
    """An instant an hour before the target's now (M5), to seed chosen times at (K4)."""
    now = ctx.clock().get("now")
    try:
        return oracle.parse_time(now) - 3_600_000
    except ValueError:
        ctx.fail("M5 answers no readable `now`", expected="an RFC 3339 date-time", actual=repr(now))


def _create_many(
    ctx: Context, count: int, network_id: str, *values: str, cancel: Iterable[int] = ()
) -> list[dict[str, Any]]:
    """`count` downlinks for `network_id` through POST; those at `cancel` are then cancelled
    (whatever the answer: it only varies status and modifiedAt)."""
    made = [
        ctx.create(network_id, instruction=pack_with(network_id, *values)) for _ in range(count)
    ]
    for index in cancel:
        ctx.request("DELETE", f"/downlinks/{made[index]['id']}")
    return made


def _seed(
    ctx: Context,
    network_id: str,
    times: Sequence[tuple[int, int]],
    *values: str,
    message: str | None = None,
    **fields: Any,
) -> list[dict[str, Any]]:
    """Seed (M3) one downlink per (createdAt, modifiedAt) for `network_id`; its message is
    `message`, else a pack for `network_id` carrying `values`."""
    if message is None:
        message = compact_json(pack_with(network_id, *values))
    records = [
        {
            "networkId": network_id,
            "message": message,
            "createdAt": oracle.format_time(c),
            "modifiedAt": oracle.format_time(m),
            **fields,
        }
        for c, m in times
    ]
    return ctx.seed(records)


def compact_json(value: Any) -> str:
    """Compact JSON text, as C7 stores a pack in `message`."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _run_queries(
    ctx: Context,
    scopes: Sequence[str],
    expect: Iterable[str],
    queries: Iterable[Mapping[str, str]],
    *,
    tags: Mapping[str, Mapping[str, str]] | None = None,
    order: bool = False,
    tie_break: bool = True,
) -> None:
    """Snapshot, run every query, snapshot again, then judge each answer: what it selects
    (L1, L2) and, with `order`, in which order (L4)."""
    expect = list(expect)
    before = snapshot(ctx, scopes, expect=expect)
    answers = [(dict(p), *fetch_page(ctx, p)) for p in queries]
    after = snapshot(ctx, scopes)
    stable = stable_items(before, after)
    for params, exchange, body in answers:
        judge_selection(
            ctx,
            exchange,
            body["items"],
            params,
            stable,
            tags=tags,
            order=order,
            tie_break=tie_break,
        )


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
    _run_queries(ctx, [common], [m["id"] for m in made], queries)


@check("L1", "q matches a networkId partially and case-sensitively", tag=Tag.SPEC)
def q_matches_network_id_partially(ctx: Context) -> None:
    common = marker(ctx)
    a, b = ctx.network_id(), ctx.network_id()
    made = [ctx.create(a, instruction=pack_with(a, common)) for _ in range(2)]
    made.append(ctx.create(b, instruction=pack_with(b, common)))
    device = a.split(":")[3]
    queries = [{"q": a}, {"q": device}, {"q": a[4:-4]}, {"q": a.swapcase()}, {"q": b[:-1]}]
    _run_queries(ctx, [common], [m["id"] for m in made], queries)


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
    seeded = _seed(ctx, a, [(base, base), (base + 1, base + 1)], message=without)
    seeded += _seed(ctx, b, [(base + 2, base + 2)], message=without)
    device = a.split(":")[3]
    queries = [{"q": a}, {"q": device}, {"q": a[4:-4]}, {"q": a.swapcase()}, {"q": b}]
    _run_queries(ctx, [a, b], [s["id"] for s in seeded], queries)


@check("L1", "q matches a device tag exactly and case-sensitively", tag=Tag.SPEC, mode=Mode.FULL)
def q_matches_tag_exactly(ctx: Context) -> None:
    tagged, plain = ctx.network_id(), ctx.network_id()
    site, room = marker(ctx, "Site-"), marker(ctx, "room.")
    tags = {tagged: {"site": site, "room": room}}
    ctx.seed_devices([{"networkId": n, "tags": t} for n, t in tags.items()])
    base = seed_base(ctx)
    # Messages without the tag values or networkIds: only the tag clause can match.
    seeded = _seed(ctx, tagged, [(base, base)], message="")
    seeded += _seed(ctx, plain, [(base + 1, base + 1)], message="")
    queries = [
        {"q": site},
        {"q": room},
        {"q": site[:-1]},  # a prefix of a tag value is no exact match
        {"q": site[1:]},
        {"q": site + "0"},
        {"q": site.swapcase()},
    ]
    _run_queries(ctx, [tagged, plain], [s["id"] for s in seeded], queries, tags=tags)


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
    made = _create_many(ctx, 2, a, common) + _create_many(ctx, 2, b, common, cancel=[0])
    made += _create_many(ctx, 1, a, common)
    queries: list[dict[str, str]] = []
    for entry in made[1:4]:
        for q in (a, b, common):
            queries.append({"q": q, "createdSince": entry["createdAt"]})
            queries.append({"q": q, "createdBefore": entry["createdAt"]})
            queries.append({"q": q, "modifiedSince": entry["createdAt"]})
    _run_queries(ctx, [common], [m["id"] for m in made], queries)


# -- L2: time filters ---------------------------------------------------------------------


@check("L2", "time filters: since inclusive, before exclusive, at read-back instants", tag=Tag.SPEC)
def time_bounds(ctx: Context) -> None:
    a = ctx.network_id()
    made = _create_many(ctx, 4, a, cancel=[1])
    current = snapshot(ctx, [a], expect=[m["id"] for m in made])
    _run_queries(ctx, [a], [m["id"] for m in made], _time_queries(a, list(current.values())))


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
    seeded = _seed(ctx, a, times)
    _run_queries(
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
                    f"{_show(params)}: a range with since >= before is not an empty page",
                    exchange,
                    expected='200 {"items": []}',
                    actual=str(exchange.status),
                )
            if "next" in body or "prev" in body:
                ctx.fail(f"{_show(params)}: an empty page carries links (L5)", exchange)


# -- L3: limit ----------------------------------------------------------------------------


@check("L3", "limit defaults to 50 and is honoured", tag=Tag.SPEC)
def default_limit(ctx: Context) -> None:
    a = ctx.network_id()
    _create_many(ctx, 51, a)
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
    made = _create_many(ctx, 5, a)
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


# -- L4: sort -----------------------------------------------------------------------------


@check("L4", "sort=createdAt and sort=-createdAt order by createdAt", tag=Tag.SPEC)
def created_at_order(ctx: Context) -> None:
    a = ctx.network_id()
    made = _create_many(ctx, 4, a)
    if len({oracle.parse_time(m["createdAt"]) for m in made}) < 2:
        raise Skip(
            "the target gave 4 downlinks created one after another the same createdAt "
            "(a stopped clock?): no order to judge"
        )
    queries = [{"q": a, "sort": s} for s in ("createdAt", "-createdAt")]
    _run_queries(ctx, [a], [m["id"] for m in made], queries, order=True, tie_break=False)


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
    seeded = _seed(
        ctx, a, [(t + 3, t + 3), (t, t + 9), (t + 2, t + 2), (t + 2, t + 4), (t + 1, t + 1)]
    )
    queries = [{"q": a, "sort": s} for s in ("createdAt", "-createdAt")]
    _run_queries(ctx, [a], [s["id"] for s in seeded], queries, order=True, tie_break=False)


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
    _run_queries(ctx, [common], [m["id"] for m in made], _sort_queries(common), order=True)


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
    _run_queries(ctx, [common], [s["id"] for s in seeded], _sort_queries(common), order=True)


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


def _walk_both_ways(ctx: Context, params: Mapping[str, str]) -> tuple[Walk, Walk]:
    """Walk `next` from the first page, then `prev` back from the last."""
    forward = walk(ctx, params)
    last_url = str(forward.exchanges[-1].request.url)
    backward = walk(ctx, start=last_url, direction="prev")
    return forward, backward


def _fail_walk(
    ctx: Context, result: Walk, problems: Sequence[oracle.WalkProblem], what: str
) -> None:
    if problems:
        first = problems[0]
        ctx.fail(
            f"{what}: {first.text}"
            + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""),
            result.exchanges[min(first.page, len(result.exchanges) - 1)],
        )


@check("L5", "next and prev are present exactly when a page lies that way", tag=Tag.SPEC)
def links_present_exactly(ctx: Context) -> None:
    a = ctx.network_id()
    made = _create_many(ctx, 6, a)
    expected = sorted(m["id"] for m in made)  # the order is not judged here
    for limit in (3, 4, 6, 10):
        params = {"q": a, "limit": str(limit)}
        forward, backward = _walk_both_ways(ctx, params)
        for result, direction in ((forward, "next"), (backward, "prev")):
            pages = result.pages
            problems = oracle.walk_problems(pages, expected, limit=limit, direction=direction)
            _fail_walk(
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
    made = _create_many(ctx, 5, a)
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


# -- L6: walks ----------------------------------------------------------------------------


@check(
    "L6",
    "walking next yields each downlink once in order; prev walks the pages back",
    tag=Tag.CONVENTION,
)
def walk_next_and_prev(ctx: Context) -> None:
    a = ctx.network_id()
    made = _create_many(ctx, 7, a)
    ids = {m["id"] for m in made}
    for sort in ("createdAt", "-createdAt"):
        params = {"q": a, "limit": "3", "sort": sort}
        forward, backward = _walk_both_ways(ctx, params)
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
    _create_many(ctx, 6, a)
    # Newest first: every downlink created mid-walk lands before the cursor.
    params = {"q": a, "limit": "2", "sort": "-createdAt"}
    _, first = fetch_page(ctx, {"q": a, "sort": "-createdAt"})
    stable = [e["id"] for e in first["items"]]

    def create(page: int) -> None:
        if page < 3:
            ctx.create(a)

    result = walk(ctx, params, between=create)
    _fail_walk(
        ctx, result, oracle.stable_walk_problems(result.pages, stable), "a walk with creates"
    )


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
    _seed(ctx, a, times)
    _, first = fetch_page(ctx, {"q": a})
    stable = [e["id"] for e in first["items"]]

    def insert(page: int) -> None:
        # During the first pages: one before the cursor, one after, one tied with an
        # existing item.
        if page < 3:
            created = (t + 10 * page + 5, t + 45 + page, t + 10)
            _seed(ctx, a, [(c, c) for c in created])

    result = walk(ctx, {"q": a, "limit": "3"}, between=insert)
    _fail_walk(
        ctx, result, oracle.stable_walk_problems(result.pages, stable), "a walk with seeding"
    )


@check(
    "L6",
    "walks over seeded createdAt ties yield each downlink once, both ways",
    tag=Tag.CONVENTION,
    mode=Mode.FULL,
)
def walk_over_ties(ctx: Context) -> None:
    a = ctx.network_id()
    t = seed_base(ctx)
    seeded = _seed(ctx, a, [(t, t)] * 5 + [(t + 1, t + 1)] * 2 + [(t - 1, t - 1)])
    ids = {s["id"] for s in seeded}
    for sort in ("createdAt", "-createdAt"):
        forward, backward = _walk_both_ways(ctx, {"q": a, "limit": "2", "sort": sort})
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
    _create_many(ctx, 5, a)
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
    made = _create_many(ctx, 5, a)
    _create_many(ctx, 1, b)
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
