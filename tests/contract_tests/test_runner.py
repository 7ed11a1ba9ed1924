"""Selecting checks (profiles, --only/--skip, modes: K2) and running them (K3 findings)."""

from __future__ import annotations

import shlex
import threading

import httpx
import pytest

from contract_tests.context import Context, Target
from contract_tests.registry import Check, ContractError, Finding, Mode, Registry, Skip, Tag
from contract_tests.rules import RULES
from contract_tests.runner import (
    Outcome,
    Profile,
    Runner,
    exit_code,
    plan,
    run_check,
    validate_keys,
)


def _registry() -> Registry:
    reg = Registry()

    @reg.register("A1", "passes", tag=Tag.SPEC)
    def a1_passes(ctx: Context) -> None:
        ctx.request("GET", "/downlinks")

    @reg.register("L2", "fails", tag=Tag.SPEC, mode=Mode.FULL)
    def l2_fails(ctx: Context) -> None:
        ctx.fail("wrong", ctx.request("GET", "/downlinks"), expected="x", actual="y")

    @reg.register("E3", "mock only", tag=Tag.MOCK)
    def e3_mock(ctx: Context) -> None:
        raise Skip("not reachable")

    @reg.register("E1", "convention", tag=Tag.CONVENTION)
    def e1_crashes(ctx: Context) -> None:
        ctx.request("GET", "/downlinks").json()["missing"]

    return reg


def _target(mode: Mode = Mode.FULL) -> Target:
    return Target("http://target.test/", mode, "lenient", token="tok")


def _client(handler=None) -> httpx.Client:
    def default(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": []})

    return httpx.Client(transport=httpx.MockTransport(handler or default))


def test_profiles_enforce_growing_tag_sets() -> None:
    assert Profile.SPEC.tags == {Tag.SPEC}
    assert Profile.CONVENTION.tags == {Tag.SPEC, Tag.CONVENTION}
    assert Profile.MOCK.tags == set(Tag)


def test_k2_plan_skips_with_reasons_never_drops() -> None:
    reg = _registry()
    to_run, skipped = plan(reg, profile=Profile.CONVENTION, mode=Mode.BLACK_BOX)
    assert [c.name for c in to_run] == ["A1-a1_passes", "E1-e1_crashes"]
    reasons = {r.check.name: r.reason for r in skipped}
    assert "full mode" in reasons["L2-l2_fails"]
    assert "profile convention" in reasons["E3-e3_mock"]
    assert all(r.outcome is Outcome.SKIPPED for r in skipped)
    assert len(to_run) + len(skipped) == len(reg)


def test_plan_only_and_skip_by_rule_group_or_name() -> None:
    reg = _registry()
    to_run, skipped = plan(reg, profile=Profile.MOCK, only={"a", "e3"})
    assert [c.name for c in to_run] == ["A1-a1_passes", "E3-e3_mock"]
    assert {r.reason for r in skipped} == {"not selected by --only"}
    to_run, skipped = plan(reg, profile=Profile.MOCK, skip={"E", "L2-l2_fails"})
    assert [c.name for c in to_run] == ["A1-a1_passes"]
    assert {r.reason for r in skipped} == {"excluded by --skip"}


def test_validate_keys_splits_commas_and_rejects_unknown_ids() -> None:
    reg = _registry()
    assert validate_keys(["A1,l", " E3 ", "A1-a1_passes"], reg) == {"A1", "l", "E3", "A1-a1_passes"}
    with pytest.raises(ContractError, match="Q9"):
        validate_keys(["A1,Q9"], reg)


def test_k3_run_check_outcomes_carry_rule_text_curl_and_excerpt() -> None:
    reg = {c.rule: c for c in _registry()}
    client = _client()
    ctx = lambda c: Context(_target(), {}, name=c.name, client=client)  # noqa: E731
    passed = run_check(reg["A1"], ctx(reg["A1"]))
    assert passed.outcome is Outcome.PASSED and passed.requests == 1
    failed = run_check(reg["L2"], ctx(reg["L2"]))
    assert failed.outcome is Outcome.FAILED
    finding = failed.findings[0]
    assert finding.rule == "L2" and finding.rule_text == RULES["L2"]
    assert shlex.split(finding.request)[:5] == [
        "curl",
        "-i",
        "-X",
        "GET",
        "http://target.test/downlinks",
    ]
    assert finding.response.startswith("HTTP 200")
    assert (finding.expected, finding.actual) == ("x", "y")
    skipped = run_check(reg["E3"], ctx(reg["E3"]))
    assert (skipped.outcome, skipped.reason) == (Outcome.SKIPPED, "not reachable")
    crashed = run_check(reg["E1"], ctx(reg["E1"]))
    assert crashed.outcome is Outcome.ERROR and crashed.failed
    assert "KeyError" in crashed.findings[0].message and crashed.findings[0].request


def test_runner_runs_concurrently_keeps_order_and_reports_each() -> None:
    seen: list[str] = []
    lock = threading.Lock()
    reg = Registry()
    for i in range(8):

        def func(ctx: Context, i: int = i) -> None:
            if i % 3 == 0:
                raise Finding(f"bad {i}")

        func.__name__ = f"check_{i}"
        reg.register("R1", f"check {i}", tag=Tag.SPEC)(func)

    def record(result) -> None:
        with lock:
            seen.append(result.check.name)

    results = Runner(_target(), spec={}, workers=4, client=_client()).run(reg, on_result=record)
    assert [r.check.name for r in results] == [c.name for c in reg]
    assert sorted(seen) == sorted(c.name for c in reg)
    assert [r.outcome for r in results][:4] == [
        Outcome.FAILED,
        Outcome.PASSED,
        Outcome.PASSED,
        Outcome.FAILED,
    ]
    assert exit_code(results) == 1
    assert exit_code([r for r in results if not r.failed]) == 0


def test_each_check_gets_its_own_context_and_seeded_rng() -> None:
    ids: dict[str, list[str]] = {}
    reg = Registry()

    def draw(ctx: Context) -> None:
        ids.setdefault(ctx.name, []).append(ctx.network_id())

    reg.register("R1", "draws", tag=Tag.SPEC)(draw)
    check: Check = next(iter(reg))
    for _ in range(2):
        Runner(_target(), spec={}, seed=5, run_id="abcdef12", client=_client()).run([check])
    first, second = ids[check.name]
    assert first == second  # the same seed and run id draw the same device id
    assert first.startswith("urn:dev:DEVEUI:abcdef12") and first.endswith(":")
