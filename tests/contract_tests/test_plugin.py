"""The pytest plugin: silent without --downlinks-base-url; one test per check with it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from contract_tests import pytest_plugin
from tests.contract_tests.fakes import fake_app, serving, tiny_registry, unused_url

pytest_plugins = ["pytester"]

M1 = {"status": "ok", "version": "1", "auth": "lenient"}


def test_without_base_url_it_collects_nothing_and_leaves_other_tests_alone(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile("def test_mine():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    collected = pytester.runpytest_inprocess("--collect-only", "-q", "-p", "no:cacheprovider")
    assert "downlinks_contract" not in collected.stdout.str()


def test_with_base_url_one_test_per_check_and_junit_by_group(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pytest_plugin, "CHECKS", tiny_registry(failing=True))
    pytester.makepyfile("def test_mine():\n    pass\n")
    junit = pytester.path / "out.xml"
    with serving(fake_app(M1)) as url:
        result = pytester.runpytest_inprocess(
            "--downlinks-base-url", url, f"--junitxml={junit}", "-p", "no:cacheprovider"
        )
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*L5-always_fails failed: always fails*", "*broken on purpose*"])
    assert "Traceback" not in result.stdout.str()
    cases = {c.get("name"): c.get("classname") for c in ET.parse(junit).getroot().iter("testcase")}
    assert cases == {
        "test_mine": "test_with_base_url_one_test_per_check_and_junit_by_group",
        "L3-list_answers": "downlinks_contract.L",
        "L5-always_fails": "downlinks_contract.L",
    }


def test_marker_and_k_select_checks(pytester: pytest.Pytester, monkeypatch) -> None:
    monkeypatch.setattr(pytest_plugin, "CHECKS", tiny_registry(failing=True))
    pytester.makepyfile("def test_mine():\n    pass\n")
    with serving(fake_app(M1)) as url:
        result = pytester.runpytest_inprocess(
            "--downlinks-base-url",
            url,
            "-m",
            "downlinks_contract",
            "-k",
            "L3",
            "-p",
            "no:cacheprovider",
        )
    result.assert_outcomes(passed=1, deselected=2)


def test_profile_and_mode_skips_carry_reasons(pytester: pytest.Pytester, monkeypatch) -> None:
    from contract_tests.registry import Mode, Registry, Tag

    reg = Registry()

    @reg.register("L7", "mock rule", tag=Tag.MOCK)
    def mock_rule(ctx: object) -> None:
        raise AssertionError("never run under the convention profile")

    @reg.register("L2", "needs hooks", tag=Tag.SPEC, mode=Mode.FULL)
    def needs_hooks(ctx: object) -> None:
        raise AssertionError("never run in black-box mode")

    monkeypatch.setattr(pytest_plugin, "CHECKS", reg)
    with serving(fake_app(None)) as url:
        result = pytester.runpytest_inprocess(
            "--downlinks-base-url", url, "--downlinks-token", "t", "-rs", "-p", "no:cacheprovider"
        )
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*not enforced by profile convention*", "*needs full mode*"])


def test_unreachable_target_fails_each_check_with_one_line(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        "--downlinks-base-url",
        unused_url(),
        "--downlinks-token",
        "t",
        "-k",
        "A1-missing_token_is_401 or R1-read_unknown_is_404",
        "-p",
        "no:cacheprovider",
    )
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 2 and outcomes["deselected"] >= 1
    result.stdout.fnmatch_lines(["downlinks-contract: cannot reach http://127.0.0.1:*"] * 2)
    assert "Traceback" not in result.stdout.str()


def test_a_malformed_base_url_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess(
        "--downlinks-base-url", "ftp://x", "-p", "no:cacheprovider"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--base-url must be an http(s) URL*"])
