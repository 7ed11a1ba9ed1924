"""Group X checks: they pass on the mock in both modes, and fail on a mock broken on purpose."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import contract_tests.checks.cancel  # noqa: F401  (registers the checks)
from contract_tests.registry import Check, Mode
from tests.contract_tests.mock_target import (
    Broken,
    Query,
    Servers,
    assert_caught,
    checks_of,
    edit_json,
    outcome,
    target_for,
)

CHECKS = checks_of("cancel")
BY_NAME = {c.name: c for c in CHECKS}
ONE = re.compile(r"^/downlinks/[^/]+$")


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    with Servers() as running:
        yield running


# Creates and cancels do not depend on how time runs: one full and one black-box run
# (the latter with downlinks progressing on their own) cover them.
@pytest.mark.parametrize(
    "setting", [("manual", "full"), ("manual", "black-box"), ("real", "black-box")], ids="-".join
)
@pytest.mark.parametrize("entry", CHECKS, ids=lambda c: c.name)
def test_x_checks_pass_on_the_mock(
    servers: Servers, entry: Check, setting: tuple[str, str]
) -> None:
    """Every X check passes on the mock; a full-mode check is skipped in black-box mode.

    On the real clock a fresh downlink may leave PENDING before its cancel arrives; the
    check then skips, saying so, and never reports a false finding."""
    clock, mode = setting
    result, detail = outcome(entry, target_for(servers[clock], Mode(mode)))
    if entry.mode is Mode.FULL and mode == "black-box":
        assert result == "skip" and "full mode" in detail
    elif clock == "real":
        assert result == "pass" or (result == "skip" and "before the cancel" in detail), detail
    else:
        assert result == "pass", detail


def test_every_x_rule_has_checks_with_its_tags() -> None:
    tags = {(c.rule, c.tag.value) for c in CHECKS}
    assert {r for r, _ in tags} == {"X1", "X2", "X3", "X4", "X5"}
    for pair in [
        ("X1", "spec"),
        ("X2", "convention"),
        ("X3", "mock"),
        ("X4", "convention"),
        ("X4", "mock"),
        ("X5", "spec"),
    ]:
        assert pair in tags


def test_x5_other_client_needs_a_second_client(servers: Servers) -> None:
    target = target_for(servers["manual"], Mode.BLACK_BOX)
    target.other_tenant_token = None
    result, detail = outcome(BY_NAME["X5-other_client_404"], target)
    assert result == "skip" and "second client" in detail


# -- broken implementations ---------------------------------------------------------------


def on_cancel(change: Callable[[int, bytes], tuple[int, bytes]]) -> Callable[..., Any]:
    def rewrite(method: str, path: str, query: Query, status: int, body: bytes) -> Any:
        if method == "DELETE" and ONE.match(path):
            return change(status, body)
        return status, body

    return rewrite


def on_read(change: Callable[[dict], Any]) -> Callable[..., Any]:
    def rewrite(method: str, path: str, query: Query, status: int, body: bytes) -> Any:
        if method == "GET" and ONE.match(path) and status == 200:
            body = edit_json(body, change)
        return status, body

    return rewrite


def forced_rewrite(change: Callable[[str], str | None]) -> Callable[..., Any]:
    def rewrite(method: str, path: str, query: Query, body: bytes) -> tuple[Query, bytes]:
        if method == "DELETE":
            out = []
            for k, v in query:
                if k == "forced":
                    changed = change(v)
                    if changed is None:
                        continue
                    v = changed
                out.append((k, v))
            query = out
        return query, body

    return rewrite


def renamed_cancel_event(downlink: dict) -> None:
    for entry in downlink.get("logs", []):
        if entry.get("errorCode") == "CANCELLED":
            entry["event"] = "DOWNLINK_CANCELLED"


counter = itertools.count()


def growing_logs(downlink: dict) -> None:
    downlink["logs"].append({"createdAt": downlink["modifiedAt"], "event": f"READ_{next(counter)}"})


class Shrug:
    """Answers 202 to every cancel and does nothing."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = app.state

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http" and scope["method"] == "DELETE" and ONE.match(scope["path"]):
            await send({"type": "http.response.start", "status": 202, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)


def broken(**kwargs: Any) -> Callable[[Any], Any]:
    return lambda app: Broken(app, **kwargs)


BROKEN: dict[str, tuple[Callable[[Any], Any], list[str]]] = {
    "refusals_answered_202": (
        broken(response=on_cancel(lambda s, b: (202, b"") if s == 409 else (s, b))),
        [
            "X1-refused_is_problem",
            "X2-cancel_twice",
            "X2-terminal_refuses",
            "X3-in_flight_needs_force",
        ],
    ),
    "conflict_not_a_problem": (
        broken(
            response=on_cancel(lambda s, b: (s, b'{"error": "conflict"}') if s == 409 else (s, b))
        ),
        ["X1-refused_is_problem"],
    ),
    "forced_ignored": (
        broken(request=forced_rewrite(lambda v: None)),
        ["X3-in_flight_needs_force", "X5-forced_must_be_boolean"],
    ),
    "forced_always": (
        broken(request=forced_rewrite(lambda v: "true")),
        ["X3-in_flight_needs_force"],
    ),
    "forced_lenient": (
        broken(request=forced_rewrite(lambda v: v if v in ("true", "false") else "false")),
        ["X5-forced_must_be_boolean"],
    ),
    "accepted_but_nothing_done": (
        Shrug,
        ["X2-cancel_twice", "X4-accepted_cancel_effects"],
    ),
    "cancel_event_renamed": (
        broken(response=on_read(renamed_cancel_event)),
        ["X4-accepted_cancel_logged_as_failed"],
    ),
    "modified_at_frozen": (
        broken(response=on_read(lambda d: {**d, "modifiedAt": d["createdAt"]})),
        ["X4-accepted_cancel_effects", "X4-accepted_cancel_effects_per_status"],
    ),
    "refusal_leaves_marks": (
        broken(response=on_read(growing_logs)),
        ["X4-refused_changes_nothing", "X4-refused_changes_nothing_per_status"],
    ),
    "not_found_is_403": (
        broken(response=on_cancel(lambda s, b: (403, b) if s == 404 else (s, b))),
        ["X5-unknown_id_404", "X5-other_client_404"],
    ),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_x_checks_fail_on_a_broken_mock(name: str) -> None:
    """Each deliberately broken cancel behaviour is caught by the checks of its rule."""
    wrap, expected = BROKEN[name]
    assert_caught(name, wrap, expected)
