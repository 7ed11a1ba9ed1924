"""Group C checks: they pass on the mock in both modes, and fail on a mock broken on purpose."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import contract_tests.checks.create  # noqa: F401  (registers the checks)
import contract_tests.checks.created  # noqa: F401
from contract_tests import oracle
from contract_tests.registry import Check, Mode
from tests.contract_tests.mock_target import (
    Broken,
    Query,
    Servers,
    assert_caught,
    checks_of,
    edit_json,
    outcome,
    serve,
    target_for,
)

CHECKS = checks_of("create") + checks_of("created")
BY_NAME = {c.name: c for c in CHECKS}


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    with Servers() as running:
        yield running


# Creates and cancels do not depend on how time runs: one full and one black-box run
# (the latter with downlinks progressing on their own) cover them.
@pytest.mark.parametrize("setting", [("manual", "full"), ("real", "black-box")], ids="-".join)
@pytest.mark.parametrize("entry", CHECKS, ids=lambda c: c.name)
def test_c_checks_pass_on_the_mock(
    servers: Servers, entry: Check, setting: tuple[str, str]
) -> None:
    """Every C check passes on the mock; a full-mode check is skipped in black-box mode."""
    clock, mode = setting
    result, detail = outcome(entry, target_for(servers[clock], Mode(mode)))
    if entry.mode is Mode.FULL and mode == "black-box":
        assert result == "skip" and "full mode" in detail
    else:
        assert result == "pass", detail


def test_every_c_rule_has_checks_with_its_tags() -> None:
    tags = {(c.rule, c.tag.value) for c in CHECKS}
    assert {r for r, _ in tags} == {f"C{i}" for i in range(1, 10)}
    for pair in [
        ("C1", "spec"),
        ("C1", "mock"),
        ("C2", "spec"),
        ("C2", "mock"),
        ("C3", "convention"),
        ("C3", "mock"),
        ("C4", "spec"),
        ("C4", "mock"),
        ("C5", "mock"),
        ("C6", "spec"),
        ("C7", "convention"),
        ("C8", "mock"),
        ("C9", "convention"),
    ]:
        assert pair in tags


def test_c6_needs_a_second_client(servers: Servers) -> None:
    """Without a second client's token the per-client check skips, saying why (K2)."""
    target = target_for(servers["manual"], Mode.BLACK_BOX)
    target.other_tenant_token = None
    result, detail = outcome(BY_NAME["C6-reference_per_client"], target)
    assert result == "skip" and "second client" in detail


# -- broken implementations ---------------------------------------------------------------


def on_create(change: Callable[[Any], Any]) -> Callable[[str, str, Query, bytes], Any]:
    """Rewrite each create body (a JSON value) before the mock sees it."""

    def rewrite(method: str, path: str, query: Query, body: bytes) -> tuple[Query, bytes]:
        if method == "POST" and path == "/downlinks":
            try:
                body = edit_json(body, change)
            except ValueError:
                pass
        return query, body

    return rewrite


def on_created(change: Callable[[Any], Any], status: int = 201) -> Callable[..., tuple[int, bytes]]:
    """Rewrite each create answer with `status`."""

    def rewrite(method: str, path: str, query: Query, code: int, body: bytes) -> tuple[int, bytes]:
        if method == "POST" and path == "/downlinks" and code == status:
            body = edit_json(body, change)
        return code, body

    return rewrite


def clamp_retry_limit(body: Any) -> None:
    if isinstance(body, dict) and isinstance(body.get("retryLimit"), int):
        body["retryLimit"] = max(body["retryLimit"], 0)


def drop(field: str) -> Callable[[Any], None]:
    def change(body: Any) -> None:
        if isinstance(body, dict):
            body.pop(field, None)

    return change


def clamp_port(body: Any) -> None:
    method = body.get("method") if isinstance(body, dict) else None
    if isinstance(method, dict) and isinstance(method.get("fPort"), int):
        method["fPort"] = min(max(method["fPort"], 1), 223)


def upper_protocol(body: Any) -> None:
    method = body.get("method") if isinstance(body, dict) else None
    if isinstance(method, dict) and isinstance(method.get("protocol"), str):
        method["protocol"] = method["protocol"].upper()


def strip_labels(body: Any) -> None:
    for record in body.get("instruction") or [] if isinstance(body, dict) else []:
        if isinstance(record, dict):
            for key in [k for k in record if k.endswith("_") and k != "i_"]:
                del record[key]


def first_bn_only(body: Any) -> None:
    seen = False
    for record in body.get("instruction") or [] if isinstance(body, dict) else []:
        if isinstance(record, dict) and "bn" in record:
            if seen:
                del record["bn"]
            seen = True


def later(text: str) -> str:
    return oracle.format_time(oracle.parse_time(text) + 1)


def loose_message(body: Any) -> None:
    body["message"] = json.dumps(json.loads(body["message"]), indent=1)


class StoreFirst:
    """Stores every create with its retryLimit dropped, then answers the original: a
    refused create that leaves a downlink behind."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = app.state

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) != ("POST", "/downlinks"):
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)

        def feed(data: bytes) -> Callable:
            async def receive_once() -> dict:
                return {"type": "http.request", "body": data, "more_body": False}

            return receive_once

        async def discard(message: dict) -> None:
            pass

        try:
            await self.app(scope, feed(edit_json(body, drop("retryLimit"))), discard)
        except ValueError:
            pass
        await self.app(scope, feed(body), send)


def broken(**kwargs: Any) -> Callable[[Any], Any]:
    return lambda app: Broken(app, **kwargs)


BROKEN: dict[str, tuple[Callable[[Any], Any], list[str]]] = {
    "negative_retry_limit_taken": (
        broken(request=on_create(clamp_retry_limit)),
        ["C1-retry_limit_bounds", "C8-dry_run"],
    ),
    "lower_case_protocol_taken": (
        broken(request=on_create(upper_protocol)),
        ["C1-protocol_one_of_four"],
    ),
    "instruction_optional": (
        broken(
            request=on_create(
                lambda b: (
                    b
                    if "instruction" in b
                    else {**b, "instruction": [{"bn": "urn:dev:DEVEUI:0000000000000001:"}]}
                )
            )
        ),
        ["C1-instruction_and_method_required"],
    ),
    "short_feedback_timeout_taken": (
        broken(request=on_create(drop("feedbackTimeout"))),
        ["C4-feedback_timeout_bounds"],
    ),
    "error_without_hints": (
        broken(
            response=lambda m, p, q, code, body: (
                code,
                body.replace(b"P1DT", b"").replace(b"HTTP", b"").replace(b"MQTT", b"")
                if code == 400
                else body,
            )
        ),
        ["C4-day_duration_hint", "C1-unknown_protocol_names_the_four"],
    ),
    "any_port_taken": (broken(request=on_create(clamp_port)), ["C5-lora_port_bounds"]),
    "must_understand_ignored": (
        broken(request=on_create(strip_labels)),
        ["C3-must_understand_labels"],
    ),
    "two_devices_taken": (broken(request=on_create(first_bn_only)), ["C2-one_device_per_pack"]),
    "reference_not_unique": (
        broken(request=on_create(drop("externalReference"))),
        ["C6-reference_unique", "C6-reference_unique_in_terminal_states", "C7-created_answer"],
    ),
    "conflicts_answered_201": (
        broken(response=lambda m, p, q, code, body: (201 if code == 409 else code, body)),
        ["C6-reference_under_concurrency", "C6-reference_unique"],
    ),
    "no_location": (broken(drop_headers=("location",)), ["C7-created_answer"]),
    "loose_message": (broken(response=on_created(loose_message)), ["C7-created_answer"]),
    "no_logs": (
        broken(response=on_created(lambda b: {**b, "logs": []})),
        ["C7-created_answer"],
    ),
    "modified_after_created": (
        broken(response=on_created(lambda b: {**b, "modifiedAt": later(b["modifiedAt"])})),
        ["C7-created_answer"],
    ),
    "dry_run_stored": (broken(request=on_create(drop("dryRun"))), ["C8-dry_run"]),
    "read_only_taken": (
        broken(response=on_created(lambda b: {**b, "status": "DELIVERED"})),
        ["C9-read_only_ignored", "C7-created_answer"],
    ),
    "refused_but_stored": (StoreFirst, ["C1-retry_limit_bounds"]),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_c_checks_fail_on_a_broken_mock(name: str) -> None:
    """Each deliberately broken create behaviour is caught by the checks of its rule."""
    wrap, expected = BROKEN[name]
    assert_caught(name, wrap, expected, clock="scaled")


def test_c1_refused_but_stored_is_named_as_such() -> None:
    """A 400 that still stored the downlink is reported as a stored refusal."""
    with serve(StoreFirst, clock="scaled") as running:
        result, detail = outcome(BY_NAME["C1-retry_limit_bounds"], target_for(running, Mode.FULL))
    assert result == "fail"
    assert "stored a downlink anyway" in detail
