"""The pure oracle of list answers: filters (L1, L2), order (L4), walks (L3, L5, L6)."""

from __future__ import annotations

import pytest

from contract_tests import oracle
from contract_tests.oracle import Page


def item(id_: str, created: int, modified: int | None = None, **extra: object) -> dict:
    out = {
        "id": id_,
        "networkId": extra.pop("networkId", "urn:dev:DEVEUI:00000000000000aa:"),
        "status": extra.pop("status", "PENDING"),
        "message": extra.pop("message", ""),
        "createdAt": oracle.format_time(created),
        "modifiedAt": oracle.format_time(modified if modified is not None else created),
    }
    out.update(extra)
    return out


def test_t1_time_round_trip_and_offsets() -> None:
    ms = 1_736_587_646_272
    assert oracle.format_time(ms) == "2025-01-11T09:27:26.272Z"
    assert oracle.parse_time("2025-01-11T09:27:26.272Z") == ms
    assert oracle.parse_time(oracle.format_time(ms, 120)) == ms
    assert oracle.format_time(ms, 120).endswith(".272+02:00")
    assert oracle.parse_time(oracle.format_time(ms, -330)) == ms
    # Truncated, not rounded, to the millisecond (T1).
    assert oracle.parse_time("2025-01-11T09:27:26.2729Z") == ms
    assert oracle.parse_time("2025-01-11T09:27:26Z") == ms - 272


@pytest.mark.parametrize(
    "text", ["2025-05-01", "2025-05-01T00:00:00", "yesterday", "2025-13-01T00:00:00Z", ""]
)
def test_l2_bad_date_times_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        oracle.parse_time(text)


def test_l2_bounds_inclusive_and_exclusive() -> None:
    a = item("a", 1000, 5000)
    at = oracle.format_time(1000)
    assert oracle.matches(a, {"createdSince": at})
    assert not oracle.matches(a, {"createdBefore": at})
    assert oracle.matches(a, {"createdBefore": oracle.format_time(1001)})
    assert not oracle.matches(a, {"createdSince": oracle.format_time(1001)})
    m = oracle.format_time(5000)
    assert oracle.matches(a, {"modifiedSince": m})
    assert not oracle.matches(a, {"modifiedBefore": m})
    # An empty range (since >= before) selects nothing.
    assert not oracle.matches(a, {"createdSince": at, "createdBefore": at})


def test_l1_q_clauses() -> None:
    nid = "urn:dev:DEVEUI:0123456789abcdef:"
    a = item("a", 1, networkId=nid, message='[{"vs":"Hello"}]')
    tags = {nid: {"site": "Depot-7"}}
    assert oracle.matches(a, {"q": "89abc"})  # networkId, partially
    assert oracle.matches(a, {"q": "ell"})  # message, partially
    assert oracle.matches(a, {"q": "Depot-7"}, tags)  # tag, exactly
    assert not oracle.matches(a, {"q": "Depot"}, tags)  # tag: no partial match
    assert not oracle.matches(a, {"q": "89ABC"})  # case-sensitive
    assert not oracle.matches(a, {"q": "hello"})
    # AND with the time filters.
    assert not oracle.matches(a, {"q": "ell", "createdSince": oracle.format_time(2)})


def test_l4_parse_sort() -> None:
    assert oracle.parse_sort(None) == [oracle.SortKey("createdAt", False)]
    assert oracle.parse_sort("status,-id") == [
        oracle.SortKey("status", False),
        oracle.SortKey("id", True),
    ]
    with pytest.raises(ValueError, match="sortable"):
        oracle.parse_sort("name")


def test_l4_order_ties_fall_back_to_id_and_absent_sorts_smallest() -> None:
    b = item("b", 10, externalReference="B")
    a = item("a", 10)
    c = item("c", 5, externalReference="a")
    d = item("d", 10, externalReference="a")
    items = [b, a, c, d]
    ids = lambda xs: [x["id"] for x in xs]  # noqa: E731
    assert ids(oracle.sort_items(items, "createdAt")) == ["c", "a", "b", "d"]
    assert ids(oracle.sort_items(items, "-createdAt")) == ["a", "b", "d", "c"]
    # Code-point order: "B" < "a"; absent smallest, also when descending (then last).
    assert ids(oracle.sort_items(items, "externalReference")) == ["a", "b", "c", "d"]
    assert ids(oracle.sort_items(items, "-externalReference")) == ["c", "d", "b", "a"]
    assert ids(oracle.sort_items(items, "externalReference,-createdAt")) == ["a", "b", "d", "c"]


def test_l4_times_compare_as_instants() -> None:
    early = {"id": "x", "createdAt": "2025-01-01T01:00:00.000+02:00"}
    late = {"id": "y", "createdAt": "2025-01-01T00:00:00.000Z"}
    assert [i["id"] for i in oracle.sort_items([late, early], None)] == ["x", "y"]


def test_l4_order_problem() -> None:
    a, b = item("a", 1), item("b", 2)
    assert oracle.order_problem([a, b], "createdAt") is None
    problem = oracle.order_problem([b, a], "createdAt")
    assert problem is not None and "item 0 (id b" in problem
    tie1, tie2 = item("b", 1), item("a", 1)
    # Only the listed keys count without the tie-break.
    assert oracle.order_problem([tie1, tie2], "createdAt", tie_break=False) is None
    assert oracle.order_problem([tie1, tie2], "createdAt") is not None


def test_select_filters_and_orders() -> None:
    items = [item("c", 3), item("a", 1), item("b", 2)]
    got = oracle.select(items, {"createdSince": oracle.format_time(2), "sort": "-createdAt"})
    assert [i["id"] for i in got] == ["c", "b"]


def test_first_difference() -> None:
    assert oracle.first_difference(["a", "b"], ["a", "b"]) is None
    assert "missing 1: b" in (oracle.first_difference(["a"], ["a", "b"]) or "")
    assert "unexpected 1: z" in (oracle.first_difference(["a", "z"], ["a"]) or "")
    assert "duplicated: a" in (oracle.first_difference(["a", "a", "b"], ["a", "b"]) or "")
    assert "position 0" in (oracle.first_difference(["b", "a"], ["a", "b"]) or "")


def rules(problems: list[oracle.WalkProblem]) -> set[str]:
    return {p.rule for p in problems}


def test_walk_right() -> None:
    pages = [Page(["a", "b"], "n1", None), Page(["c", "d"], "n2", "p1"), Page(["e"], None, "p2")]
    assert oracle.walk_problems(pages, list("abcde"), limit=2) == []
    back = list(reversed(pages))
    assert oracle.walk_problems(back, list("abcde"), limit=2, direction="prev") == []


def test_l5_next_on_an_exactly_full_last_page() -> None:
    # The walk followed a `next` that led to an empty page.
    pages = [Page(["a", "b"], "n1", None), Page(["c", "d"], "n2", "p1"), Page([], None, "p2")]
    problems = oracle.walk_problems(pages, list("abcd"), limit=2)
    assert "L5" in rules(problems)
    assert any("empty" in p.text for p in problems)


def test_l5_prev_on_first_page_and_missing_prev() -> None:
    pages = [Page(["a", "b"], "n1", "p0"), Page(["c"], None, None)]
    texts = [p.text for p in oracle.walk_problems(pages, list("abc"), limit=2)]
    assert any("page 0 of 2 has a `prev`" in t for t in texts)
    assert any("page 1 of 2 has no `prev`" in t for t in texts)


def test_l5_empty_page_has_no_links() -> None:
    assert oracle.walk_problems([Page([], None, None)], [], limit=5) == []
    assert "L5" in rules(oracle.walk_problems([Page([], "n", None)], [], limit=5))


def test_l3_short_page_inside_the_walk() -> None:
    pages = [Page(["a"], "n1", None), Page(["b", "c"], None, "p1")]
    problems = oracle.walk_problems(pages, list("abc"), limit=2)
    assert [p.rule for p in problems] == ["L3"]
    assert "holds 1 items" in problems[0].text


def test_l6_gap_duplicate_and_order() -> None:
    gap = [Page(["a", "b"], "n", None), Page(["d"], None, "p")]
    assert "L6" in rules(oracle.walk_problems(gap, list("abcd"), limit=2))
    dup = [Page(["a", "b"], "n", None), Page(["b", "c"], None, "p")]
    assert any("duplicate" in p.text for p in oracle.walk_problems(dup, list("abc"), limit=2))
    swapped = [Page(["b", "a"], None, None)]
    assert any("order" in p.text for p in oracle.walk_problems(swapped, list("ab"), limit=2))


def test_l6_stable_walk() -> None:
    # "x" and "y" were created during the walk; they may come or not, but never twice.
    ok = [Page(["x", "a"], "n", None), Page(["b", "y"], "n", "p"), Page(["c"], None, "p")]
    assert oracle.stable_walk_problems(ok, list("abc")) == []
    repeated = [Page(["a", "b"], "n", None), Page(["b", "c"], None, "p")]
    assert oracle.stable_walk_problems(repeated, list("abc"))
    skipped = [Page(["a", "x"], "n", None), Page(["c"], None, "p")]
    assert any("skipped" in p.text for p in oracle.stable_walk_problems(skipped, list("abc")))
    disorder = [Page(["b", "a"], "n", None), Page(["c"], None, "p")]
    assert any("order" in p.text for p in oracle.stable_walk_problems(disorder, list("abc")))


@pytest.mark.parametrize(
    ("status", "path"),
    [
        ("PENDING", []),
        ("RETRY", ["EXECUTING", "RETRY"]),
        ("SENT_TO_CARRIER", ["EXECUTING", "SENT_TO_CARRIER"]),
        ("DELIVERED", ["EXECUTING", "SENT_TO_CARRIER", "DELIVERED"]),
        ("FAILED", ["FAILED"]),
        ("CANCELLED", ["CANCELLED"]),
    ],
)
def test_s1_paths(status: str, path: list[str]) -> None:
    assert oracle.path_to(status) == path


def test_s1_no_way_out_of_a_terminal_state() -> None:
    with pytest.raises(ValueError, match="no way"):
        oracle.path_to("PENDING", start="DELIVERED")


def test_mismatches_name_the_clause() -> None:
    a = item("a", 1000)
    at = oracle.format_time(1000)
    (why,) = oracle.mismatches(a, {"createdBefore": at})
    assert why == f"createdAt {at} is not < createdBefore {at}"
    (why,) = oracle.mismatches(a, {"q": "zz"})
    assert "q='zz'" in why
