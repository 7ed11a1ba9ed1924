"""Group L, walks beyond the default order: every sortable field, and time bounds (L6).

The walks of `contract_tests.checks.cursors` sort by `createdAt` with no time filter, the
common case, which an implementation may serve from its time index. These walk the other
ways a cursor is used: by each field L4 [mock] makes sortable (where an implementation
typically scans and compares each item with the cursor's key), and by `createdAt` under
both time bounds (where a walk has to stop at a bound). Each walk must yield every
downlink once, in order, and `prev` must walk the same pages back. Bounds are taken from
the target's own timestamps (K4).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import urljoin

from contract_tests import oracle
from contract_tests.context import Context
from contract_tests.pages import create_many, seed_at, seed_base, walk, walk_both_ways
from contract_tests.registry import Mode, Tag, check

__all__ = ["SCANNED_SORTS", "LONG_TIE"]

# L4 [mock]'s sortable fields other than createdAt, each way, and one sort of two fields.
SCANNED_SORTS = (
    "id",
    "-id",
    "networkId",
    "-networkId",
    "status",
    "-status",
    "externalReference",
    "-externalReference",
    "modifiedAt",
    "-modifiedAt",
    "status,-createdAt",
)


def _walk_judged(ctx: Context, params: Mapping[str, str], ids: set[str]) -> None:
    """Walk `params` both ways: each of `ids` once, in the order of its sort, the same pages
    back."""
    forward, backward = walk_both_ways(ctx, params)
    shown = "&".join(f"{k}={v}" for k, v in params.items() if k != "q")
    seen = [e["id"] for e in forward.items]
    difference = oracle.first_difference(sorted(seen), sorted(ids))
    if difference:
        ctx.fail(
            f"walking `next` ({shown}) does not yield every downlink exactly once: {difference}",
            forward.exchanges[-1],
        )
    problem = oracle.order_problem(forward.items, params.get("sort"), tie_break=False)
    if problem:
        ctx.fail(f"walking `next` ({shown}) breaks the order: {problem}", forward.exchanges[-1])
    ahead = [p.ids for p in forward.pages]
    back = [p.ids for p in reversed(backward.pages)]
    if ahead != back:
        ctx.fail(
            f"walking `prev` back ({shown}) does not yield the same pages in reverse",
            backward.exchanges[-1],
            expected=" | ".join(",".join(p) for p in ahead),
            actual=" | ".join(",".join(p) for p in back),
        )


@check(
    "L6",
    "walks by every sortable field yield each downlink once, in order, both ways",
    tag=Tag.MOCK,
)
def walk_every_sort(ctx: Context) -> None:
    a = ctx.network_id()
    made = create_many(ctx, 5, a, cancel=(1, 3))  # two statuses, for status to order
    ids = {m["id"] for m in made}
    for sort in SCANNED_SORTS:
        _walk_judged(ctx, {"q": a, "limit": "2", "sort": sort}, ids)


@check(
    "L6",
    "walks under time bounds yield each downlink once, in order, both ways",
    tag=Tag.CONVENTION,
)
def walk_within_time_bounds(ctx: Context) -> None:
    a = ctx.network_id()
    made = create_many(ctx, 5, a)
    ids = {m["id"] for m in made}
    created = [oracle.parse_time(m.get("createdAt")) for m in made]
    modified = [oracle.parse_time(m.get("modifiedAt")) for m in made]
    bounds = {
        "createdSince": oracle.format_time(min(created)),
        "createdBefore": oracle.format_time(max(created) + 1),
        "modifiedSince": oracle.format_time(min(modified)),
        "modifiedBefore": oracle.format_time(max(modified) + 1),
    }
    for sort in ("createdAt", "-createdAt"):
        for since, before in (
            ("createdSince", "createdBefore"),
            ("modifiedSince", "modifiedBefore"),
        ):
            for chosen in ((since,), (before,), (since, before)):
                params = {"q": a, "limit": "2", "sort": sort}
                params.update({name: bounds[name] for name in chosen})
                _walk_judged(ctx, params, ids)


LONG_TIE = 40  # downlinks seeded at one instant: a long run of equal sort keys


@check(
    "L6",
    "walks over a long run of equal createdAt yield each downlink once, both ways",
    tag=Tag.CONVENTION,
    mode=Mode.FULL,
)
def walk_over_long_ties(ctx: Context) -> None:
    a = ctx.network_id()
    t = seed_base(ctx)
    seeded = seed_at(ctx, a, [(t - 1, t - 1)] * 3 + [(t, t)] * LONG_TIE + [(t + 1, t + 1)] * 3)
    ids = {s["id"] for s in seeded}
    # Pages shorter than the run, and pages that hold it whole with its neighbours.
    for limit in ("7", str(LONG_TIE + 5)):
        for sort in ("createdAt", "-createdAt", "modifiedAt", "-modifiedAt"):
            _walk_judged(ctx, {"q": a, "limit": limit, "sort": sort}, ids)


@check(
    "L5",
    "a prev link followed after the items behind it left a modifiedBefore bound: no next",
    tag=Tag.MOCK,
    mode=Mode.FULL,
)
def prev_page_after_the_rest_left(ctx: Context) -> None:
    a = ctx.network_id()
    t = seed_base(ctx)  # an hour before the target's now: a cancel moves modifiedAt past t + 10
    seed_at(ctx, a, [(t, t), (t + 1, t + 1)])
    # Sorted by id, the order an implementation scans for (no time index serves it).
    params = {"q": a, "limit": "1", "sort": "id", "modifiedBefore": oracle.format_time(t + 10)}
    forward = walk(ctx, params)
    pages = forward.pages
    if len(pages) != 2 or len(pages[1].ids) != 1 or pages[1].prev is None:
        ctx.fail("the two seeded downlinks do not list one a page", forward.exchanges[-1])
    cancel = ctx.request("DELETE", f"/downlinks/{pages[1].ids[0]}")
    ctx.expect_status(cancel, 202)  # modifiedAt moves to now: out of the bound
    prev = urljoin(str(forward.exchanges[1].request.url), pages[1].prev)
    exchange = ctx.request("GET", prev)
    ctx.expect_status(exchange, 200)
    page = exchange.json()
    ids = [i.get("id") for i in page.get("items", []) if isinstance(i, dict)]
    if ids != pages[0].ids or "next" in page or "prev" in page:
        ctx.fail(
            "the second page's item left the bound, so the first page is the only one, yet "
            "its prev link does not answer it alone, without links",
            exchange,
            expected=f'{{"items": [{pages[0].ids[0]}]}} without next or prev',
            actual=json.dumps(page)[:300],
        )
