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
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

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


def parse_time(text: str) -> int:
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
    return sorted(items, key=functools.cmp_to_key(lambda a, b: _compare(a, b, keys)))


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


def first_difference(actual: Sequence[str], expected: Sequence[str]) -> str | None:
    """Where two id sequences first differ, in words, or None if equal."""
    if list(actual) == list(expected):
        return None
    missing = [i for i in expected if i not in set(actual)]
    extra = [i for i in actual if i not in set(expected)]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)}: {_ids(missing)}")
        if extra:
            parts.append(f"unexpected {len(extra)}: {_ids(extra)}")
        if len(actual) != len(set(actual)):
            parts.append("with duplicates")
        return "; ".join(parts)
    if len(actual) != len(set(actual)):
        dupes = sorted({i for i in actual if list(actual).count(i) > 1})
        return f"duplicated: {_ids(dupes)}"
    for i, (a, e) in enumerate(zip(actual, expected, strict=False)):
        if a != e:
            return f"same items, other order: position {i} holds {a}, expected {e}"
    return "same items, other length"  # unreachable for equal sets without duplicates


def _ids(ids: Sequence[str], shown: int = 5) -> str:
    head = ", ".join(ids[:shown])
    return head + (f" and {len(ids) - shown} more" if len(ids) > shown else "")


@dataclass(frozen=True)
class Page:
    """One page of a walk as the target answered it."""

    ids: list[str]
    next: str | None  # the `next` link, None when absent
    prev: str | None  # the `prev` link, None when absent

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Page:
        """A page from a `PageOfDownlinks` body."""
        items = body.get("items") or []
        ids = [str(i.get("id")) if isinstance(i, Mapping) else repr(i) for i in items]
        return cls(ids=ids, next=body.get("next"), prev=body.get("prev"))


class WalkProblem(NamedTuple):
    """One thing wrong with a walk: the rule it breaks, the page it shows on, in words."""

    rule: str  # "L3", "L5" or "L6"
    page: int  # index into the pages as given
    text: str


def walk_problems(
    pages: Sequence[Page], expected: Sequence[str], *, limit: int, direction: str = "next"
) -> list[WalkProblem]:
    """What is wrong with a complete walk over a fixed set (L3, L5, L6).

    `pages` are in the order they were fetched by following `direction` links ("prev":
    from the last page back); `expected` is every matching id in sort order. Empty when
    the walk is right.
    """
    problems: list[WalkProblem] = []
    count = len(pages)
    # Work in forward order; report indexes as given.
    forward = list(pages) if direction == "next" else list(reversed(pages))

    def given(i: int) -> int:
        return i if direction == "next" else count - 1 - i

    # L5: links exist exactly where a page lies beyond; an empty page has neither.
    for i, page in enumerate(forward):
        for name, present, wanted in (
            ("next", page.next is not None, i < count - 1),
            ("prev", page.prev is not None, i > 0),
        ):
            if present != wanted:
                problems.append(WalkProblem("L5", given(i), _link_problem(name, present, i, count)))
        if not page.ids and count > 1:
            problems.append(
                WalkProblem(
                    "L5",
                    given(i),
                    f"page {i} of {count} is empty: the page before it had a link to it "
                    "although no item lay beyond",
                )
            )

    # L3: every page holds min(limit, remaining).
    remaining = len(expected)
    for i, page in enumerate(forward):
        want = min(limit, max(remaining, 0))
        if len(page.ids) != want:
            problems.append(
                WalkProblem(
                    "L3",
                    given(i),
                    f"page {i} of {count} holds {len(page.ids)} items, expected "
                    f"min(limit={limit}, remaining={remaining}) = {want}",
                )
            )
        remaining -= len(page.ids)

    # L6: every matching item exactly once, in sort order.
    seen = [i for page in forward for i in page.ids]
    difference = first_difference(seen, expected)
    if difference:
        problems.append(
            WalkProblem("L6", 0, f"the pages together differ from the expected list: {difference}")
        )
    return problems


def _link_problem(name: str, present: bool, index: int, count: int) -> str:
    where = f"page {index} of {count}"
    if present:
        return f"{where} has a `{name}` link although no page lies that way"
    return f"{where} has no `{name}` link although a page lies that way"


def stable_walk_problems(pages: Sequence[Page], stable: Sequence[str]) -> list[WalkProblem]:
    """What is wrong with a `next` walk during which other items were created (L6).

    `stable` are the ids present for the whole walk, in sort order: each must come
    exactly once and in that order; no id may come twice.
    """
    problems: list[WalkProblem] = []
    seen: dict[str, int] = {}
    for index, page in enumerate(pages):
        for item_id in page.ids:
            if item_id in seen:
                problems.append(
                    WalkProblem(
                        "L6",
                        index,
                        f"{item_id} came again on page {index} (first on page {seen[item_id]})",
                    )
                )
            else:
                seen[item_id] = index
    missing = [i for i in stable if i not in seen]
    if missing:
        problems.append(
            WalkProblem(
                "L6",
                len(pages) - 1,
                f"skipped {len(missing)} items present for the whole walk: {_ids(missing)}",
            )
        )
    else:
        wanted = set(stable)
        got = list(dict.fromkeys(i for page in pages for i in page.ids if i in wanted))
        if got != list(stable):
            difference = first_difference(got, stable)
            problems.append(
                WalkProblem(
                    "L6", 0, f"items present for the whole walk came out of order: {difference}"
                )
            )
    return problems
