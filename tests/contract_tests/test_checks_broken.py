"""Groups A, E, R, T fail on a mock broken on purpose: each check can fail, and says why."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

import contract_tests.checks  # noqa: F401  (registers every check)
from contract_tests.registry import CHECKS, Mode
from tests.contract_tests.mock_target import Broken, Query, edit_json, outcome, serve, target_for

ONE = re.compile(r"^/downlinks/[^/]+$")
Rewrite = Callable[[str, str, Query, int, bytes], tuple[int, bytes]]


def _status(old: int, new: int, body: bytes = b"{}") -> Rewrite:
    """Every `old` answer becomes `new` with `body`."""

    def rewrite(method: str, path: str, query: Query, status: int, out: bytes) -> tuple[int, bytes]:
        return (new, body) if status == old else (status, out)

    return rewrite


def _json(when: Callable[[str, str, int], bool], change: Callable[[Any], Any]) -> Rewrite:
    def rewrite(method: str, path: str, query: Query, status: int, out: bytes) -> tuple[int, bytes]:
        return (status, edit_json(out, change)) if when(method, path, status) else (status, out)

    return rewrite


def _drop(key: str) -> Callable[[Any], Any]:
    def change(data: Any) -> None:
        data.pop(key, None)

    return change


def _seconds_only(data: Any) -> None:
    """Timestamps without milliseconds: 2026-01-01T00:00:00Z."""
    items = data.get("items", [data]) if isinstance(data, dict) else []
    for item in items:
        for key in ("createdAt", "modifiedAt"):
            if isinstance(item.get(key), str):
                item[key] = item[key][:19] + "Z"


def _modified_is_created(data: Any) -> None:
    if isinstance(data, dict) and "createdAt" in data:
        data["modifiedAt"] = data["createdAt"]


def _other_message(data: Any) -> None:
    if isinstance(data, dict):
        data["message"] = "[]"


def _status_number(data: Any) -> None:
    if isinstance(data, dict):
        data["status"] = 1


def _foreign_404_to_403(method: str, path: str, query: Query, status: int, out: bytes):
    if ONE.match(path) and status == 404:
        return 403, out
    return status, out


# check name -> (how the mock is broken, words the finding must contain)
CASES: dict[str, tuple[dict[str, Any], str]] = {
    "A1-missing_token_is_401": ({"drop_headers": ("www-authenticate",)}, "Bearer challenge"),
    "A1-unparsable_token_is_401": ({"response": _status(401, 200)}, "not 401"),
    "A2-create_needs_write_scope": ({"drop_headers": ("www-authenticate",)}, "downlink.write"),
    "A2-cancel_needs_delete_scope": ({"response": _status(403, 202, b"")}, "not 403"),
    "A2-read_needs_read_scope": ({"response": _status(403, 200)}, "not 403"),
    "A3-expired_token_is_401": ({"response": _status(401, 200)}, "not 401"),
    "A5-other_tenant_read_is_404": ({"response": _foreign_404_to_403}, "not 404"),
    "A5-other_tenant_cancel_is_404": ({"response": _foreign_404_to_403}, "not 404"),
    "E1-problem_on_400": (
        {"response": _json(lambda m, p, s: s == 400, _drop("instance"))},
        "instance",
    ),
    "E1-problem_on_404": ({"response": _json(lambda m, p, s: s == 404, _drop("title"))}, "title"),
    "E1-problem_on_405": ({"response": _json(lambda m, p, s: s == 405, _drop("detail"))}, "detail"),
    "E1-problem_on_409": ({"response": _json(lambda m, p, s: s == 409, _drop("type"))}, "type"),
    "E2-body_violations_all_reported": (
        {"response": _json(lambda m, p, s: s == 400, lambda d: d.update(errors=d["errors"][:1]))},
        "not every violation",
    ),
    "E2-forced_violation_reported": (
        {"response": _json(lambda m, p, s: s == 400, _drop("errors"))},
        "no `errors` array",
    ),
    "E3-wrong_content_type_is_415": ({"response": _status(415, 400)}, "not 415"),
    "E3-wrong_method_is_405_with_allow": ({"drop_headers": ("allow",)}, "Allow"),
    "E3-oversized_body_is_413": ({"response": _status(413, 400)}, "not 413"),
    "R1-read_created": (
        {"response": _json(lambda m, p, s: m == "GET" and bool(ONE.match(p)), _status_number)},
        "Downlink schema",
    ),
    "R2-read_equals_create": (
        {"response": _json(lambda m, p, s: m == "GET" and bool(ONE.match(p)), _other_message)},
        "`message` reads back",
    ),
    "T1-created_timestamps": (
        {"response": _json(lambda m, p, s: s == 201, _seconds_only)},
        "RFC 3339",
    ),
    "T1-listed_timestamps": (
        {"response": _json(lambda m, p, s: p == "/downlinks" and m == "GET", _seconds_only)},
        "RFC 3339",
    ),
    "T2-cancel_moves_modified_at": (
        {
            "response": _json(
                lambda m, p, s: m == "GET" and bool(ONE.match(p)), _modified_is_created
            )
        },
        "did not move forward",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_fails_on_a_broken_mock(name: str) -> None:
    entry = {c.name: c for c in CHECKS}[name]
    breakage, words = CASES[name]
    with serve(lambda app: Broken(app, **breakage)) as server:
        result, detail = outcome(entry, target_for(server, Mode.FULL))
    assert result == "fail", detail
    assert words in detail


def test_r2_a_status_s1_cannot_reach_is_a_finding() -> None:
    """R2 with S1: a read whose status differs must show a move S1 allows (not `pending`)."""
    entry = {c.name: c for c in CHECKS}["R2-read_equals_create"]

    def lower(data: Any) -> None:
        if isinstance(data, dict) and isinstance(data.get("status"), str):
            data["status"] = data["status"].lower()

    breakage = _json(lambda m, p, s: m == "GET" and bool(ONE.match(p)), lower)
    with serve(lambda app: Broken(app, response=breakage)) as server:
        result, detail = outcome(entry, target_for(server, Mode.BLACK_BOX))
    assert result == "fail", detail
    assert "which S1 does not reach from 'PENDING'" in detail
