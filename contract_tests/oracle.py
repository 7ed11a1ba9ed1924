"""What a correct target answers to a list query, computed from the items themselves.

The contract checks compare a target's pages with this oracle: the filter predicate of L1
and L2, the total order of L4, and the analysis of a cursor walk (L3, L5, L6). It is pure
(no HTTP) and independent of any implementation, the mock included: it is written from
behaviour.md alone, so a misreading in an implementation is not copied here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from contract_tests.walks import (
    Page,
    WalkProblem,
    first_difference,
    stable_walk_problems,
    walk_problems,
)

__all__ = [
    "SORTABLE",
    "TIME_FILTERS",
    "STATUSES",
    "TERMINAL",
    "MOVES",
    "path_to",
    "parse_time",
    "format_time",
    "SortKey",
    "parse_sort",
    "sort_items",
    "order_problem",
    "mismatches",
    "matches",
    "select",
    "first_difference",
    "Page",
    "WalkProblem",
    "walk_problems",
    "stable_walk_problems",
]

# L4 [mock]: the fields a list may be sorted by.
SORTABLE: tuple[str, ...] = (
    "createdAt",
    "modifiedAt",
    "id",
    "networkId",
    "externalReference",
    "status",
)
_TIME_FIELDS = frozenset({"createdAt", "modifiedAt"})

# L2: each time filter -> (the item field it reads, whether the bound is inclusive).
TIME_FILTERS: dict[str, tuple[str, bool]] = {
    "createdSince": ("createdAt", True),  # >=
    "createdBefore": ("createdAt", False),  # <
    "modifiedSince": ("modifiedAt", True),  # >=
    "modifiedBefore": ("modifiedAt", False),  # <
}

# S1, as behaviour.md states it: the checks use it to reach a state through M4.
STATUSES: tuple[str, ...] = (
    "PENDING",
    "EXECUTING",
    "SENT_TO_CARRIER",
    "RETRY",
    "DELIVERED",
    "FAILED",
    "CANCELLED",
)
TERMINAL = frozenset({"DELIVERED", "FAILED", "CANCELLED"})
MOVES: dict[str, tuple[str, ...]] = {
    "PENDING": ("EXECUTING", "FAILED", "CANCELLED"),
    "EXECUTING": ("SENT_TO_CARRIER", "RETRY", "FAILED", "CANCELLED"),
    "SENT_TO_CARRIER": ("DELIVERED", "RETRY", "FAILED", "CANCELLED"),
    "RETRY": ("EXECUTING", "FAILED", "CANCELLED"),
    "DELIVERED": (),
    "FAILED": (),
    "CANCELLED": (),
}


def path_to(status: str, start: str = "PENDING") -> list[str]:
    """The shortest list of S1 moves from `start` to `status` (empty if equal).

    Raises ValueError if S1 allows no way there.
    """
    if status not in MOVES or start not in MOVES:
        raise ValueError(f"unknown status {status if status not in MOVES else start!r}")
    paths: dict[str, list[str]] = {start: []}
    frontier = [start]
    while frontier:
        nxt: list[str] = []
        for current in frontier:
            for target in MOVES[current]:
                if target not in paths:
                    paths[target] = [*paths[current], target]
                    nxt.append(target)
        frontier = nxt
    if status not in paths:
        raise ValueError(f"S1 allows no way from {start} to {status}")
    return paths[status]


# RFC 3339 date-time with a mandatory offset (L2, T1).
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$",
    re.ASCII,
)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_time(text: object) -> int:
    """Epoch milliseconds of an RFC 3339 date-time with offset, truncated to the ms (T1).

    Raises ValueError on anything else.
    """
    m = _RFC3339.match(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"{text!r} is not an RFC 3339 date-time with an offset")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    frac, offset = m.group(7), m.group(8)
    if offset in ("Z", "z"):
        tz = timezone.utc
    else:
        sign = 1 if offset[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
    try:
        dt = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=tz)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid date-time: {exc}") from None
    delta = dt - _EPOCH
    millis = int((frac or ".0")[1:4].ljust(3, "0"))
    return (delta.days * 86_400 + delta.seconds) * 1000 + millis


def format_time(ms: int, offset_minutes: int = 0) -> str:
    """Render epoch milliseconds as RFC 3339 with three fractional digits.

    `offset_minutes` writes the same instant in another offset (`+02:00`), which a target
    must read as the same instant (L2).
    """
    tz = timezone(timedelta(minutes=offset_minutes))
    dt = (_EPOCH + timedelta(milliseconds=ms)).astimezone(tz)
    if offset_minutes == 0:
        suffix = "Z"
    else:
        sign = "+" if offset_minutes > 0 else "-"
        hours, minutes = divmod(abs(offset_minutes), 60)
        suffix = f"{sign}{hours:02d}:{minutes:02d}"
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}{suffix}"


class SortKey(NamedTuple):
    """One field of a `sort` parameter (L4)."""

    field: str
    descending: bool

    def __str__(self) -> str:
        return f"-{self.field}" if self.descending else self.field


def parse_sort(text: str | None) -> list[SortKey]:
    """The keys of a `sort` value; None or empty means the default, `createdAt` (L4).

    Raises ValueError naming an unknown field.
    """
    if not text:
        return [SortKey("createdAt", False)]
    keys = []
    for part in text.split(","):
        descending = part.startswith("-")
        name = part[1:] if descending else part
        if name not in SORTABLE:
            raise ValueError(f"{name!r} is not sortable (sortable: {', '.join(SORTABLE)})")
        keys.append(SortKey(name, descending))
    return keys


def _value(item: Mapping[str, Any], name: str) -> tuple[int, Any]:
    """A comparable value: absent sorts smallest (L4), times compare as instants."""
    value = item.get(name)
    if value is None:
        return (0, 0)
    if name in _TIME_FIELDS:
        return (1, parse_time(value))
    return (1, value)  # str comparison is by code point


def _compare(a: Mapping[str, Any], b: Mapping[str, Any], keys: Sequence[SortKey]) -> int:
    for key in keys:
        va, vb = _value(a, key.field), _value(b, key.field)
        if va != vb:
            result = -1 if va < vb else 1
            return -result if key.descending else result
    return 0


def _with_tie_break(keys: Sequence[SortKey]) -> list[SortKey]:
    # L4 [mock]: ties always fall back to id ascending, so the order is total.
    return [*keys, SortKey("id", False)]


def sort_items(items: Iterable[Mapping[str, Any]], sort: str | None) -> list[Mapping[str, Any]]:
    """`items` in the total order L4 gives `sort` (id ascending breaks ties)."""
    keys = _with_tie_break(parse_sort(sort))

    def compare(a: Mapping[str, Any], b: Mapping[str, Any]) -> int:
        return _compare(a, b, keys)

    return sorted(items, key=functools.cmp_to_key(compare))


def order_problem(
    items: Sequence[Mapping[str, Any]], sort: str | None, *, tie_break: bool = True
) -> str | None:
    """The first adjacent pair of `items` that the order of `sort` forbids, or None.

    With `tie_break=False` only the listed keys are judged (what L4 [spec] promises);
    items equal on them may come in any order.
    """
    keys = parse_sort(sort)
    if tie_break:
        keys = _with_tie_break(keys)
    for i in range(len(items) - 1):
        a, b = items[i], items[i + 1]
        if _compare(a, b, keys) > 0:
            shown = ", ".join(str(k) for k in keys)
            return (
                f"item {i} (id {a.get('id')}, {_describe(a, keys)}) comes before item {i + 1} "
                f"(id {b.get('id')}, {_describe(b, keys)}), against the order {shown}"
            )
    return None


def _describe(item: Mapping[str, Any], keys: Sequence[SortKey]) -> str:
    return ", ".join(f"{k.field}={item.get(k.field)!r}" for k in keys if k.field != "id")


def mismatches(
    item: Mapping[str, Any],
    params: Mapping[str, str],
    tags: Mapping[str, Mapping[str, str]] | None = None,
) -> list[str]:
    """The filter clauses of `params` that `item` fails, in words (L1, L2); empty if it matches.

    `tags` maps a networkId to its device's tags (L1 [mock]: from the device registry).
    Parameters other than the filters (limit, sort, cursor) are ignored.
    """
    failed: list[str] = []
    q = params.get("q")
    if q is not None:
        network_id = item.get("networkId") or ""
        message = item.get("message") or ""
        device_tags = (tags or {}).get(network_id, {})
        if not (q in device_tags.values() or q in network_id or q in message):
            failed.append(
                f"q={q!r} is no tag value of its device, not in its networkId {network_id!r} "
                "and not in its message"
            )
    for name, (field_name, inclusive) in TIME_FILTERS.items():
        bound = params.get(name)
        if bound is None:
            continue
        value = parse_time(item[field_name])
        limit = parse_time(bound)
        if not (value >= limit if inclusive else value < limit):
            op = ">=" if inclusive else "<"
            failed.append(f"{field_name} {item[field_name]} is not {op} {name} {bound}")
    return failed


def matches(
    item: Mapping[str, Any],
    params: Mapping[str, str],
    tags: Mapping[str, Mapping[str, str]] | None = None,
) -> bool:
    """Whether a correct target lists `item` for the filters in `params` (L1, L2)."""
    return not mismatches(item, params, tags)


def select(
    items: Iterable[Mapping[str, Any]],
    params: Mapping[str, str],
    tags: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Mapping[str, Any]]:
    """The items a correct target lists for `params`, in order (L1, L2, L4)."""
    chosen = [item for item in items if matches(item, params, tags)]
    return sort_items(chosen, params.get("sort"))
