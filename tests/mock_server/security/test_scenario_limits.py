"""Hostile scenarios (S4, M6): patterns that would backtrack, retries that loop without
the clock moving, numbers and text that cannot be stored or read back, YAML bombs.
Each is refused with a clear problem and never stored (docs/security.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.cli.serve import build_config
from mock_server.config import AuthMode, ClockMode, MockConfig
from mock_server.domain.model import Downlink, Status
from mock_server.timeline.scenario_patterns import PatternKind, compile_pattern
from mock_server.timeline.scenarios import ScenarioError, parse_scenario, parse_text

HAPPY = [
    {"after": "1s", "to": "EXECUTING"},
    {"after": "1s", "to": "SENT_TO_CARRIER"},
    {"after": "1s", "to": "DELIVERED"},
]


def _doc(**extra: Any) -> dict[str, Any]:
    return {"name": "hostile", "progressions": {"p": {"steps": HAPPY}}, **extra}


def _problems(document: Any) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(document)
    return [(p.key, p.detail) for p in info.value.problems]


def _downlink(nid: str) -> Downlink:
    return Downlink(
        id="d",
        owner="c",
        network_id=nid,
        status=Status.PENDING,
        created_at=0,
        modified_at=0,
        method={"protocol": "LORA"},
    )


@pytest.fixture
def http() -> Any:
    app = create_app(
        MockConfig(auth_mode=AuthMode.OFF, clock_mode=ClockMode.MANUAL, scenario="static")
    )
    with TestClient(app) as client:
        yield client


# -- patterns ----------------------------------------------------------------------------


@pytest.mark.rule("S4")
def test_a_catastrophic_regex_runs_in_linear_time() -> None:
    """`^(a+)+$` took Python's re 6 s on 28 characters (and doubles per character): 60
    would not finish in a lifetime. RE2 answers at once."""
    scenario = parse_scenario(
        _doc(
            progressions={"p": {"steps": HAPPY}, "q": {"steps": []}},
            rules=[{"networkId": {"regex": "^(a+)+$"}, "progression": "q"}],
            default="p",
        )
    )
    assert scenario.choose(_downlink("a" * 60 + "!")).name == "p"
    assert scenario.choose(_downlink("a" * 60)).name == "q"


def test_globs_compile_to_linear_time_patterns_too() -> None:
    glob = compile_pattern(PatternKind.GLOB, "*a*a*a*a*a*a*a*a*b")
    assert not glob.matches("a" * 5000)
    assert glob.matches("a" * 5000 + "b")


@pytest.mark.parametrize("regex", [r"(a)\1", "(?=a)a", "(?<!x)a"])
def test_a_regex_that_needs_backtracking_is_refused_with_the_fix(regex: str) -> None:
    rules = [{"networkId": {"regex": regex}, "progression": "p"}]
    [(key, detail)] = _problems(_doc(rules=rules))
    assert key == "rules[0].networkId.regex" and "RE2" in detail and "glob" in detail


# -- retries and their bounds ------------------------------------------------------------


@pytest.mark.rule("S3")
def test_a_retry_that_fails_at_the_instant_it_starts_is_refused() -> None:
    """With zero delays, a retryLimit of 1e6 made a million moves at one instant."""
    loop = [{"after": 0, "to": "EXECUTING"}, {"after": "0s", "to": "RETRY"}]
    problems = _problems(_doc(progressions={"p": {"steps": loop, "retrySteps": loop}}))
    assert [key for key, _ in problems] == ["progressions.p.retrySteps[1].after"]
    assert "delay above 0" in problems[0][1]
    # The default retry (steps from their first EXECUTING on) is checked the same way.
    steps = [{"after": 0, "to": "EXECUTING"}, {"after": 0, "to": "RETRY"}]
    problems = _problems(_doc(progressions={"p": {"steps": steps}}))
    assert [key for key, _ in problems] == ["progressions.p.steps[1].after"]


def test_a_retry_that_surely_takes_a_millisecond_is_fine() -> None:
    loop = [{"after": 1, "to": "EXECUTING"}, {"after": 0, "to": "RETRY"}]
    parse_scenario(_doc(progressions={"p": {"steps": loop, "retrySteps": loop}}))
    # A range whose min is 0 may draw 0: that is refused too.
    ranged = [{"after": {"min": 0, "max": "1s"}, "to": "EXECUTING"}, {"after": 0, "to": "RETRY"}]
    assert _problems(_doc(progressions={"p": {"steps": loop, "retrySteps": ranged}}))


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ({"seed": 2**64}, "seed"),
        ({"seed": -1}, "seed"),
        ({"progressions": {"p": {"steps": [{"after": 2**70, "to": "EXECUTING"}]}}}, None),
        ({"progressions": {"p": {"steps": [{"after": "99999999999d", "to": "EXECUTING"}]}}}, None),
        ({"progressions": {"p": {"steps": [{"after": "1s", "to": "EXECUTING"}] * 101}}}, None),
        ({"rules": [{"networkId": "x" * 1001, "progression": "p"}]}, None),
        ({"description": 3.5}, "description"),
    ],
)
def test_numbers_and_sizes_out_of_bounds_are_refused(extra: dict[str, Any], key: str) -> None:
    problems = _problems(_doc(**extra))
    assert problems
    if key is not None:
        assert [k for k, _ in problems] == [key]


def test_the_largest_seed_loads_and_reads_back(http: TestClient) -> None:
    seed = 2**53 - 1
    assert http.put("/__mock/scenario", json=_doc(seed=seed)).status_code == 200
    answer = http.get("/__mock/scenario")
    assert answer.status_code == 200 and answer.json()["seed"] == seed


# -- representability (M6 and serve --scenario) -------------------------------------------

SURROGATE_JSON = (
    '{"name": "x", "description": "bad \\ud800 text", "progressions": {"p": {"steps": []}}}'
)


@pytest.mark.rule("M6")
@pytest.mark.parametrize(
    ("content", "media"),
    [
        (SURROGATE_JSON, "application/json"),
        (SURROGATE_JSON, "application/yaml"),
        ('{"name": "x", "progressions": {"p\\udfff": {"steps": []}}}', "application/json"),
        ("name: x\nprogressions: {p: {steps: []}}\n1: 2\n", "application/yaml"),
        ("name: x\nprogressions: {p: {steps: []}}\ndescription: 2025-01-01\n", "application/yaml"),
        (
            '{"name": "x", "seed": 18446744073709551616, "progressions": {"p": {"steps": []}}}',
            "application/json",
        ),
    ],
)
def test_m6_refuses_what_cannot_be_stored_and_keeps_the_old_scenario(
    http: TestClient, content: str, media: str
) -> None:
    answer = http.put("/__mock/scenario", content=content, headers={"content-type": media})
    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"]
    current = http.get("/__mock/scenario")
    assert current.status_code == 200 and current.json()["name"] == "static"


@pytest.mark.rule("M6")
def test_m6_refuses_a_yaml_alias_bomb(http: TestClient) -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 12)]
    bomb = "\n".join(lines) + "\nname: x\nprogressions: {p: {steps: []}}\n"
    answer = http.put("/__mock/scenario", content=bomb, headers={"content-type": "text/yaml"})
    assert answer.status_code == 400 and "aliases" in answer.text


def test_deep_nesting_is_a_problem_not_a_crash(http: TestClient) -> None:
    deep = "[" * 5000 + "]" * 5000
    answer = http.put(
        "/__mock/scenario",
        content=f"description: {deep}\n",
        headers={"content-type": "application/yaml"},
    )
    assert answer.status_code == 400
    with pytest.raises(ScenarioError):
        parse_text("x: " + "[" * 100_000 + "]" * 100_000, "deep.yaml")


def test_serve_scenario_refuses_a_lone_surrogate_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(SURROGATE_JSON)
    assert "\\ud800" in path.read_text()  # the escape, as a hand-written file has it
    from tests.mock_server.cli.test_cli_serve import DEFAULTS

    with pytest.raises(click.BadParameter) as info:
        build_config(**DEFAULTS, scenario=str(path))
    assert "lone surrogate" in info.value.format_message() and "description" in str(
        info.value.format_message()
    )
    json.loads(SURROGATE_JSON)  # JSON itself accepts it: the check is the mock's
