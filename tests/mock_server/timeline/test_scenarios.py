"""Scenario files: the schema, loading, errors that name file, key and fix, rule matching (S4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from jsonschema import Draft202012Validator

from mock_server.cli.serve import build_config
from mock_server.domain.model import Downlink, Status
from mock_server.timeline.scenarios import (
    LIBRARY_DIR,
    SCHEMA_PATH,
    STATIC,
    ScenarioError,
    load_scenario,
    load_scenario_file,
    parse_duration,
    parse_scenario,
    scenario_names,
)

LIBRARY = sorted(p for p in LIBRARY_DIR.glob("*.yaml"))


def _downlink(
    nid: str = "urn:dev:DEVEUI:0004a30b001c0530:",
    protocol: str | None = "LORA",
    ref: str | None = None,
) -> Downlink:
    return Downlink(
        id="d",
        owner="c",
        network_id=nid,
        status=Status.PENDING,
        created_at=0,
        modified_at=0,
        external_reference=ref,
        method={"protocol": protocol} if protocol else None,
    )


def _errors(tmp_path: Path, document: Any, name: str = "broken.yaml") -> ScenarioError:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(ScenarioError) as info:
        load_scenario_file(path)
    return info.value


def _steps(*steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "x", "progressions": {"p": {"steps": list(steps), **extra}}}


# -- the schema and the library ---------------------------------------------------------


def test_schema_is_a_valid_2020_12_schema() -> None:
    Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text()))


def test_s4_library_has_at_least_eight_documented_scenarios() -> None:
    assert len(LIBRARY) >= 8
    for path in LIBRARY:
        scenario = load_scenario_file(path)
        assert scenario.name == path.stem, f"{path}: name must equal the file's stem"
        assert len(scenario.description) > 40, f"{path}: document the scenario"
        for progression in scenario.progressions.values():
            assert progression.description, f"{path}: {progression.name} has no description"
        # Editors find the schema through the first line.
        assert path.read_text().startswith("# yaml-language-server: $schema=./scenario.schema.json")


def test_s4_builtins_default_and_static() -> None:
    default = load_scenario(None)
    assert default.name == "default" and load_scenario("default").name == "default"
    happy = default.progressions[default.default]
    assert [s.target for s in happy.steps] == [
        Status.EXECUTING,
        Status.SENT_TO_CARRIER,
        Status.DELIVERED,
    ]
    assert sum(s.delay.high for s in happy.steps) <= 10_000  # "over a few seconds"
    static = load_scenario("static")
    assert static.progressions[static.default].still
    assert {"default", "static"} <= set(scenario_names())
    assert "scenario.schema" not in scenario_names()


def test_scenario_by_path_and_json(tmp_path: Path) -> None:
    document = _steps({"after": 5, "to": "EXECUTING"})
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(document))
    scenario = load_scenario(str(path))
    assert scenario.name == "x" and scenario.source.endswith("mine.json")
    assert scenario.progressions["p"].steps[0].delay.low == 5


@pytest.mark.parametrize(
    ("text", "ms"),
    [(250, 250), ("250ms", 250), ("2s", 2000), ("5m", 300_000), ("1h", 3_600_000)]
    + [("1d", 86_400_000), ("PT1.5S", 1500), ("PT10M", 600_000), ("P1DT", 86_400_000)],
)
def test_durations(text: int | str, ms: int) -> None:
    assert parse_duration(text) == ms


# -- errors name the file, the key and the fix ------------------------------------------


@pytest.mark.parametrize(
    ("document", "key", "fix"),
    [
        (
            {"name": "x", "progressions": {"p": {"stpes": []}}},
            "progressions.p.stpes",
            "did you mean 'steps'?",
        ),
        ({"name": "x", "progressions": {"p": {}}}, "progressions.p.steps", "add it"),
        (
            _steps({"after": "5 sec", "to": "EXECUTING"}),
            "progressions.p.steps[0].after",
            "write a duration such as 2s",
        ),
        (
            _steps({"after": {"min": "1s"}, "to": "EXECUTING"}),
            "progressions.p.steps[0].after.max",
            "add it",
        ),
        (
            _steps({"after": "1s", "to": "DONE"}),
            "progressions.p.steps[0].to",
            "move to one of EXECUTING",
        ),
        (
            _steps({"after": "1s"}),
            "progressions.p.steps[0]",
            "exactly one of `to` (a move) or `partsDelivered`",
        ),
        (
            _steps({"after": "1s", "to": "DELIVERED"}),
            "progressions.p.steps[0].to",
            "add a step to EXECUTING and SENT_TO_CARRIER before it",
        ),
        (
            _steps({"after": "1s", "to": "EXECUTING"}, {"after": "1s", "partsDelivered": 1}),
            "progressions.p.steps[1].partsDelivered",
            "move to SENT_TO_CARRIER first",
        ),
        (
            _steps({"after": "1s", "to": "EXECUTING", "errorCode": "X"}),
            "progressions.p.steps[0].errorCode",
            "remove it",
        ),
        (
            _steps({"after": "1s", "to": "FAILED"}, {"after": "1s", "to": "EXECUTING"}),
            "progressions.p.steps[1]",
            "never runs",
        ),
        (
            _steps({"after": {"min": "5s", "max": "1s"}, "to": "EXECUTING"}),
            "progressions.p.steps[0].after",
            "swap them",
        ),
        (
            _steps(
                {"after": "1s", "to": "EXECUTING"}, retrySteps=[{"after": 1, "to": "DELIVERED"}]
            ),
            "progressions.p.retrySteps[0].to",
            "add a step to EXECUTING and SENT_TO_CARRIER before it",
        ),
        (
            {**_steps(), "rules": [{"progression": "q"}]},
            "rules[0].progression",
            "use one of p, static",
        ),
        (
            {**_steps(), "rules": [{"networkId": {"regex": "("}, "progression": "p"}]},
            "rules[0].networkId.regex",
            "not a valid regular expression",
        ),
        (
            {**_steps(), "rules": [{"protocol": "LORAWAN", "progression": "p"}]},
            "rules[0].protocol",
            "use one of HTTP, LORA, MQTT, SMS",
        ),
        (
            {"name": "x", "progressions": {"a": {"steps": []}, "b": {"steps": []}}},
            "default",
            "add default: <one of a, b>",
        ),
        ({**_steps(), "default": "happy"}, "default", "no progression 'happy'"),
        ({**_steps(), "name": "My Scenario"}, "name", "lower-case letters"),
        (
            {"name": "x", "progressions": {"Bad Name": {"steps": []}}},
            "progressions.Bad Name",
            "dashes",
        ),
        ({**_steps(), "seed": "abc"}, "seed", "whole number"),
        ({"name": "x"}, "progressions", "add it"),
    ],
)
def test_s4_validation_names_file_key_and_fix(
    tmp_path: Path, document: dict[str, Any], key: str, fix: str
) -> None:
    error = _errors(tmp_path, document)
    assert error.source.endswith("broken.yaml")
    matching = [p for p in error.problems if p.key == key]
    assert matching, f"no problem at {key}: {error}"
    assert any(fix in p.detail for p in matching), str(error)
    # The message says all three in one line: file, key, fix.
    assert any(
        "broken.yaml" in line and key in line and fix in line for line in str(error).splitlines()
    )


def test_every_mistake_is_reported_at_once(tmp_path: Path) -> None:
    document = {
        "name": "x",
        "progressions": {
            "p": {"steps": [{"after": "soon", "to": "EXECUTING"}, {"after": 1, "to": "NOPE"}]}
        },
        "colour": "blue",
    }
    error = _errors(tmp_path, document)
    keys = {p.key for p in error.problems}
    assert {"colour", "progressions.p.steps[0].after", "progressions.p.steps[1].to"} <= keys
    assert {e["pointer"] for e in error.errors()} >= {"#/colour", "#/progressions/p/steps/1/to"}


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nprogressions: {p: [\n")
    with pytest.raises(ScenarioError, match=r"bad\.yaml: .*line 3"):
        load_scenario_file(path)


def test_unknown_name_suggests_the_closest(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="did you mean 'carrier-retries'"):
        load_scenario("carrier-retry")
    with pytest.raises(ScenarioError, match="cannot read the file"):
        load_scenario(str(tmp_path / "missing.yaml"))


def test_serve_scenario_option_fails_early_with_the_fix() -> None:
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "auth": "off",
        "secret": None,
        "jwks_file": None,
        "clock": "manual",
        "clock_start": None,
        "speed": 1.0,
        "fixtures": (),
        "log_level": "info",
        "public_url": None,
    }
    assert build_config(**options).scenario == "default"
    assert build_config(**options, scenario="fleet").scenario == "fleet"
    with pytest.raises(click.BadParameter, match="did you mean 'static'"):
        build_config(**options, scenario="statik")


# -- rules (S4: first match wins, with a default) ----------------------------------------


FLEET_LIKE = {
    "name": "rules",
    "progressions": {name: {"steps": []} for name in ("ff", "ref", "lora", "sms-mqtt", "other")},
    "rules": [
        {"networkId": "*:ff:", "progression": "ff"},
        {"externalReference": {"regex": "^vip-"}, "progression": "ref"},
        {"protocol": "LORA", "progression": "lora"},
        {"protocol": ["SMS", "MQTT"], "progression": "sms-mqtt"},
    ],
    "default": "other",
}


@pytest.mark.parametrize(
    ("nid", "protocol", "ref", "expected"),
    [
        ("urn:dev:DEVEUI:00:ff:", "LORA", "vip-1", "ff"),  # first rule wins over the rest
        ("urn:dev:DEVEUI:00ff:", "HTTP", None, "other"),  # "*:ff:" needs the colon
        ("urn:dev:DEVEUI:aa:ff:", "SMS", None, "ff"),
        ("urn:dev:DEVEUI:ff:aa:", "LORA", "vip-1", "ref"),  # a glob matches the whole id
        ("urn:dev:DEVEUI:01:", "LORA", "a-vip-1", "lora"),  # a regex anchored with ^
        ("urn:dev:DEVEUI:01:", "LORA", None, "lora"),  # no reference: the rule is skipped
        ("urn:dev:IMEI:01:", "MQTT", None, "sms-mqtt"),
        ("urn:dev:IMEI:01:", "SMS", "x", "sms-mqtt"),
        ("urn:dev:IMEI:01:", "HTTP", None, "other"),  # nothing matches: the default
        ("urn:dev:IMEI:01:", None, None, "other"),
    ],
)
def test_s4_rules_first_match_wins(
    nid: str, protocol: str | None, ref: str | None, expected: str
) -> None:
    scenario = parse_scenario(FLEET_LIKE)
    assert scenario.choose(_downlink(nid, protocol, ref)).name == expected


def test_s4_rule_conditions_combine_with_and() -> None:
    document = {
        **_steps(),
        "progressions": {"both": {"steps": []}, "rest": {"steps": []}},
        "rules": [{"networkId": {"regex": ":ff:$"}, "protocol": "LORA", "progression": "both"}],
        "default": "rest",
    }
    scenario = parse_scenario(document)
    assert scenario.choose(_downlink("urn:x:ff:", "LORA")).name == "both"
    assert scenario.choose(_downlink("urn:x:ff:", "SMS")).name == "rest"
    assert scenario.choose(_downlink("urn:x:fe:", "LORA")).name == "rest"


def test_static_is_always_available_and_a_lone_progression_is_the_default() -> None:
    scenario = parse_scenario(
        {
            **_steps({"after": 1, "to": "EXECUTING"}),
            "rules": [{"networkId": "a*", "progression": STATIC}],
        }
    )
    assert scenario.default == "p"
    assert scenario.choose(_downlink("abc")).still
    assert not scenario.choose(_downlink("xyz")).still
    assert scenario.summary()["progressions"] == ["p", STATIC]


# -- the documented recipes, as written in docs/scenarios.md ----------------------------

DOCS = Path(__file__).resolve().parents[3] / "docs" / "scenarios.md"
REAL_FF = "urn:dev:DEVEUI:0004a30b001c05ff:"  # a real EUI ending in ff


def _recipe_yaml(title: str) -> str:
    """The first ```yaml block after the heading `### {title}` in docs/scenarios.md."""
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index(f"### {title}") :]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def _manual_client(scenario: str = "static") -> Any:
    from starlette.testclient import TestClient

    from mock_server.app import create_app
    from mock_server.config import AuthMode, ClockMode, MockConfig

    config = MockConfig(auth_mode=AuthMode.OFF, clock_mode=ClockMode.MANUAL, scenario=scenario)
    return TestClient(create_app(config))


def _create(http: Any, nid: str, **extra: Any) -> str:
    pack = [{"bn": nid}, {"n": "led", "vb": True}]
    answer = http.post(
        "/downlinks", json={"instruction": pack, "method": {"protocol": "SMS"}, **extra}
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


@pytest.mark.rule("S4")
def test_docs_ff_recipe_fails_a_real_device_ending_in_ff(tmp_path: Path) -> None:
    recipe = _recipe_yaml("Make every device whose EUI ends in `ff` fail")
    (tmp_path / "ff-fails.yaml").write_text(recipe)
    with _manual_client() as http:
        # Loaded as the docs say: PUT with the YAML file as the body.
        loaded = http.put(
            "/__mock/scenario", content=recipe, headers={"content-type": "application/yaml"}
        )
        assert loaded.status_code == 200, loaded.text
        failing = _create(http, REAL_FF)
        upper = _create(http, REAL_FF.upper().replace("URN:DEV:DEVEUI", "urn:dev:DEVEUI"))
        fine = _create(http, "urn:dev:DEVEUI:0004a30b001c0530:")
        http.post("/__mock/clock", json={"advance": "PT7S"})
        for downlink_id in (failing, upper):
            downlink = http.get(f"/downlinks/{downlink_id}").json()
            assert downlink["status"] == "FAILED"
            assert downlink["logs"][-1]["errorCode"] == "RETRY_LIMIT_EXCEEDED"
        assert http.get(f"/downlinks/{fine}").json()["status"] == "DELIVERED"
    # The same file through serve --scenario, and the regex the docs offer instead.
    scenario = load_scenario(tmp_path / "ff-fails.yaml")
    assert scenario.choose(_downlink(REAL_FF)).name == "refused"
    document = yaml.safe_load(recipe)
    document["rules"][0]["networkId"] = {"regex": "(?i)ff:$"}
    assert parse_scenario(document).choose(_downlink(REAL_FF)).name == "refused"
    assert parse_scenario(document).choose(_downlink("urn:dev:DEVEUI:01:")).name == "happy"


@pytest.mark.rule("S4")
def test_library_fleet_sends_a_real_device_ending_in_ff_to_the_carrier_failures() -> None:
    fleet = load_scenario("fleet")
    assert fleet.choose(_downlink(REAL_FF, "LORA")).name == "refused"
    assert fleet.choose(_downlink("urn:dev:DEVEUI:0004a30b001c0530:", "LORA")).name != "refused"


def _flaky_run(http: Any) -> list[tuple[str, list[tuple[str, str | None]]]]:
    ids = [_create(http, f"urn:dev:DEVEUI:{n:016x}:", retryLimit=3) for n in range(12)]
    http.post("/__mock/clock", json={"advance": "PT5M"})
    out = []
    for downlink_id in ids:
        downlink = http.get(f"/downlinks/{downlink_id}").json()
        logs = [(entry["event"], entry.get("errorCode")) for entry in downlink["logs"]]
        out.append((downlink["status"], logs))
    return out


@pytest.mark.rule("S4")
def test_docs_flaky_recipe_replays_the_same_luck_after_a_reset() -> None:
    """Started with --scenario flaky-network, a reset before each run gives the same run."""
    with _manual_client("flaky-network") as http:
        first = _flaky_run(http)
        assert http.post("/__mock/reset").status_code == 204
        again = _flaky_run(http)
    assert first == again
    # The luck is real: some tries failed and were retried, and some went through.
    assert any(("DOWNLINK_PART_FAILED", "NETWORK_ERROR") in logs for _, logs in first)
    assert any(status == "DELIVERED" for status, _ in first)


@pytest.mark.rule("M6")
def test_docs_flaky_recipe_with_a_scenario_loaded_at_run_time() -> None:
    """Loaded with M6, the scenario is loaded again before each run (a reset alone returns
    to the scenario of the start-up, as the docs now say)."""
    with _manual_client() as http:
        runs = []
        for _ in range(2):
            loaded = http.put("/__mock/scenario", json={"name": "flaky-network"})
            assert loaded.status_code == 200
            runs.append(_flaky_run(http))
        http.post("/__mock/reset")
        assert http.get("/__mock/scenario").json()["name"] == "static"
    first, again = runs
    # Created later on the clock, so compare what happened, not when.
    assert first == again
