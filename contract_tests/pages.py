"""Listing downlinks for the contract checks: pages fetched and walked, lists narrowed
by `q` to a run's own markers (K1), snapshots, and what a correct target lists.

The L checks are built on these, and the C and X checks use them to look a downlink up
in a list. Expected answers come from `contract_tests.oracle`, fed with timestamps the
target returned or the suite seeded (K4). Items that move while a check runs (a real
target progresses them) are judged only by the values the list itself returned: see
`stable_items`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin

from contract_tests import oracle
from contract_tests.context import Context, Exchange

__all__ = [
    "describe_request",
    "fetch_page",
    "marker",
    "pack_with",
    "snapshot",
    "stable_items",
    "judge_selection",
    "Walk",
    "walk",
    "seed_base",
    "create_many",
    "seed_at",
    "compact_json",
    "run_queries",
    "walk_both_ways",
    "fail_walk",
]

_UNSET: Any = ...  # Context's "the target's token"


def describe_request(params: Mapping[str, Any] | None) -> str:
    """The list request as a reader sees it: ``GET /downlinks?q=...``."""
    return "GET /downlinks" + (f"?{urlencode(dict(params))}" if params else "")


def fetch_page(
    ctx: Context, params: Mapping[str, Any] | None, *, token: Any = _UNSET, url: str | None = None
) -> tuple[Exchange, dict[str, Any]]:
    """One list page: GET /downlinks?params (or `url`, a link); fails unless a 200 page."""
    exchange = ctx.request("GET", url or "/downlinks", params=None if url else params, token=token)
    if exchange.status != 200:
        ctx.fail(
            f"{describe_request(params) if not url else 'GET ' + url} answered {exchange.status}",
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
    shown = describe_request(params)
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


def create_many(
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


def seed_at(
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


def run_queries(
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


def walk_both_ways(ctx: Context, params: Mapping[str, str]) -> tuple[Walk, Walk]:
    """Walk `next` from the first page, then `prev` back from the last."""
    forward = walk(ctx, params)
    last_url = str(forward.exchanges[-1].request.url)
    backward = walk(ctx, start=last_url, direction="prev")
    return forward, backward


def fail_walk(
    ctx: Context, result: Walk, problems: Sequence[oracle.WalkProblem], what: str
) -> None:
    """Fail on the first of `problems` (a walk's, from `oracle`), at the page it names."""
    if problems:
        first = problems[0]
        ctx.fail(
            f"{what}: {first.text}"
            + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""),
            result.exchanges[min(first.page, len(result.exchanges) - 1)],
        )
