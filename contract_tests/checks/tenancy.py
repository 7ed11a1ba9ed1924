"""Group A, a client that owns nothing (A5): its lists are empty pages, not errors.

"Only downlinks that are accessible to the caller are returned": for a client that has
never created a downlink, that is none, as a `200` with an empty `items` and no links,
whether the list is narrowed or not. The check needs a client the target has never seen,
so it mints a token for a fresh client id (M1 auth lenient) and skips otherwise.
"""

from __future__ import annotations

import uuid

from contract_tests.context import FULL_SCOPES, Context
from contract_tests.registry import Skip, Tag, check

__all__: list[str] = []


@check("A5", "a client that owns nothing lists an empty page", tag=Tag.SPEC)
def owning_nothing_lists_empty(ctx: Context) -> None:
    token = ctx.target.mint(f"contract-empty-{uuid.uuid4().hex[:12]}", FULL_SCOPES)
    if token is None or ctx.target.auth != "lenient":  # off: every caller is one client
        raise Skip("needs a token for a fresh client: only lenient auth (M1) takes one")
    for params in ({}, {"q": ctx.network_id()}, {"limit": "1", "sort": "-createdAt"}):
        exchange = ctx.request("GET", "/downlinks", params=params, token=token)
        page = exchange.json() if exchange.status == 200 else None
        if (
            not isinstance(page, dict)
            or page.get("items") != []
            or "next" in page
            or "prev" in page
        ):
            ctx.fail(
                "a client that owns no downlink does not get an empty page",
                exchange,
                expected='200 {"items": []}',
                actual=f"{exchange.status} {exchange.response.text[:200]}",
            )
