"""Every view after every change (T2, R2): what a read, a list, a filtered, sorted or paged
list show of a downlink after it changes is one and the same new state.

A check lists and reads first (so an implementation that keeps answers would keep these),
then changes something through the public API (a cancel, a create), then asks the very
same requests again. Each must show the change: the new status, `modifiedAt` and logs (in
the order of the read alone), and the new downlink in every list whose filters it meets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contract_tests.checks.cancel import read
from contract_tests.context import Context, Exchange
from contract_tests.pages import Walk, create_many, describe_request, marker, walk
from contract_tests.registry import Skip, Tag, check

__all__: list[str] = []

_SHOWN = ("status", "modifiedAt", "logs")  # what a change moves (T2, X4)


def _views(mk: str, first: Mapping[str, Any]) -> list[dict[str, str]]:
    """One list request per way of looking: filtered, sorted both ways, paged, bounded."""
    return [
        {"q": mk},
        {"q": mk, "sort": "-modifiedAt"},
        {"q": mk, "sort": "status,-createdAt"},
        {"q": mk, "limit": "1"},
        {"q": mk, "createdSince": str(first["createdAt"])},
    ]


def _look(ctx: Context, views: list[dict[str, str]]) -> list[Walk]:
    return [walk(ctx, params) for params in views]


def _judge(
    ctx: Context,
    views: list[dict[str, str]],
    walks: list[Walk],
    truth: Mapping[str, dict[str, Any]],
    what: str,
) -> None:
    """Each downlink of `truth` (as read alone) is listed by every view, showing what the
    read shows."""
    for params, result in zip(views, walks, strict=True):
        listed = {entry["id"]: entry for entry in result.items}
        last: Exchange = result.exchanges[-1]
        for downlink_id, alone in truth.items():
            entry = listed.get(downlink_id)
            if entry is None:
                ctx.fail(
                    f"after {what}, {describe_request(params)} does not list {downlink_id}",
                    last,
                    expected="every downlink the filters select, as it is now",
                    actual=f"{len(listed)} listed, not this one",
                )
            for name in _SHOWN:
                if entry.get(name) != alone.get(name):
                    ctx.fail(
                        f"after {what}, {describe_request(params)} shows {downlink_id} with "
                        f"another `{name}` than a read of it alone: a kept (stale) answer",
                        last,
                        expected=f"{name} = {alone.get(name)!r} (GET /downlinks/{downlink_id})",
                        actual=f"{name} = {entry.get(name)!r}",
                    )


def _settled_reads(ctx: Context, ids: list[str]) -> dict[str, dict[str, Any]]:
    return {i: read(ctx, i)[1] for i in ids}


@check(
    "T2",
    "after a cancel and a create, reads and every list (filtered, sorted, paged) agree",
    tag=Tag.CONVENTION,
)
def views_agree_after_changes(ctx: Context) -> None:
    mk = marker(ctx, "view")
    network_id = ctx.network_id()
    made = create_many(ctx, 2, network_id, mk)
    views = _views(mk, made[0])
    # Look first, the same requests as afterwards: a target that keeps answers keeps these.
    _look(ctx, views)
    before = _settled_reads(ctx, [m["id"] for m in made])

    cancel = ctx.request("DELETE", f"/downlinks/{made[0]['id']}")
    if cancel.status != 202:
        raise Skip(
            f"the cancel answered {cancel.status}: the target moved the downlink on before "
            "it could be cancelled, so there is no change of ours to look for"
        )
    truth = _settled_reads(ctx, [m["id"] for m in made])
    if truth[made[0]["id"]].get("modifiedAt") == before[made[0]["id"]].get("modifiedAt"):
        return  # T2-cancel_moves_modified_at judges that; here only the views matter
    walks = _look(ctx, views)
    again = _settled_reads(ctx, [m["id"] for m in made])
    if again == truth:  # nothing moved on its own while the lists were read
        _judge(ctx, views, walks, truth, "a cancel")

    added = ctx.create(network_id, instruction=[{"bn": network_id}, {"n": "m0", "vs": mk}])
    truth = _settled_reads(ctx, [m["id"] for m in made] + [added["id"]])
    walks = _look(ctx, views)
    again = _settled_reads(ctx, list(truth))
    if again == truth:
        _judge(ctx, views, walks, truth, "a create")
