"""`all_fit`, the one-encode check before the path-tracking walk, agrees with
`unfit_values` (E2: what no JSON text can carry is reported, never rendered)."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.openapi.values import all_fit, unfit_values

CASES: list[list[Any]] = [
    [{"bn": "urn:dev:x:"}, {"n": "t", "v": 21.5}],
    [True, None, -0.0, 2**70, "é€😀", {"k": [1, 2, {"deep": "x"}]}],
    [float("nan")],
    [{"v": float("inf")}],
    [[-float("inf")]],
    [10**5000],
    ["lone \ud800 surrogate"],
    [{"label \udc00": 1}],
    [{"ok": "fine"}, ["a", {"b": "\udfff"}]],
]


@pytest.mark.rule("E2")
@pytest.mark.parametrize("values", CASES)
def test_all_fit_is_true_exactly_when_nothing_is_unfit(values: list[Any]) -> None:
    found, _ = unfit_values(((i,), v) for i, v in enumerate(values))
    assert all_fit(values) is (not found)
