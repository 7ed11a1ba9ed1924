"""What a correct cursor walk looks like (L3, L5, L6): pages of ids judged against the ids
the walk should yield, in order, each once, with `next` and `prev` where pages lie.

Pure (no HTTP) and written from behaviour.md alone, like `contract_tests.oracle`, which
re-exports everything here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ["first_difference", "Page", "WalkProblem", "walk_problems", "stable_walk_problems"]


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
