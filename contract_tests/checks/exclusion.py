"""What a filter must leave out (L1): values that only a wrong reading of `q` would match.

L1 says `q` matches a tag value exactly, or the `networkId` or `message` partially. The
checks of `listing` show that what must match does; these show that nothing else does: not
the `externalReference`, the `id`, the status, a log event, a timestamp, nor a tag's name.
Each query is narrowed with `createdSince` (AND, L1) to the check's own downlinks, so the
answer is short whatever else the target holds.
"""

from __future__ import annotations

from typing import Any

from contract_tests.context import Context
from contract_tests.pages import compact_json, fetch_page, marker, seed_at, seed_base
from contract_tests.registry import Mode, Tag, check

__all__: list[str] = []


def _expect_absent(
    ctx: Context, downlink: dict[str, Any], q: str, what: str, **narrow: str
) -> None:
    """Fail if the list for `q` (narrowed by `narrow`) shows `downlink`."""
    params = {"q": q, "limit": "1000", **narrow}
    exchange, page = fetch_page(ctx, params)
    ids = [entry.get("id") for entry in page["items"]]
    if downlink["id"] in ids:
        ctx.fail(
            f"q={q!r} ({what}) listed a downlink it does not match: q reads only tag values "
            "(exactly), the networkId and the message",
            exchange,
            expected=f"{downlink['id']} not listed",
            actual=f"listed among {len(ids)}",
        )


@check("L1", "q matches no other field: externalReference, id, status, events, times", tag=Tag.SPEC)
def q_excludes_other_fields(ctx: Context) -> None:
    reference = marker(ctx, "xref-")
    created = ctx.create(externalReference=reference)
    since = {"createdSince": str(created["createdAt"])}
    # The marker sits only in the externalReference: neither networkId nor message has it.
    for q, what in (
        (reference, "the whole externalReference"),
        (reference[2:-2], "a part of the externalReference"),
        (str(created["id"]), "the downlink's id"),
        ("PENDING", "its status"),
        ("DOWNLINK_ACCEPTED", "an event of its logs"),
        ("SMS", "its method's protocol"),
        (str(created["createdAt"]), "its createdAt"),
    ):
        _expect_absent(ctx, created, q, what, **since)


@check("L1", "q matches tag values, never tag names", tag=Tag.SPEC, mode=Mode.FULL)
def q_excludes_tag_names(ctx: Context) -> None:
    tagged = ctx.network_id()
    name = marker(ctx, "tagname")
    ctx.seed_devices([{"networkId": tagged, "tags": {name: marker(ctx, "value-")}}])
    base = seed_base(ctx)
    # A message without the tag: only a (wrong) tag-name clause could match.
    (seeded,) = seed_at(ctx, tagged, [(base, base)], message=compact_json([{"n": "x", "v": 1}]))
    _expect_absent(
        ctx, seeded, name, "a tag's name, not its value", createdSince=seeded["createdAt"]
    )
