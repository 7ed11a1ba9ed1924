"""Fixture files are checked by one JSON Schema and the same rules at `serve --fixtures`,
at `Mock` start and in `fixtures check` (M3, C6, T2): a bad file is a clean report, never
a traceback."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mock_server.app import create_app
from mock_server.cli.fixtures import fixtures_group
from mock_server.config import ClockMode, MockConfig
from mock_server.fixtureset.check import check_fixture_set
from mock_server.fixtureset.generate import generate
from mock_server.fixtureset.load import FixtureError, fixture_problems, load_fixture_file
from mock_server.fixtureset.render import write_fixture_set
from mock_server.openapi.control import control_spec, fixture_schema
from tests.mock_server.conftest import START_MS


def _duplicate_id(data: dict[str, Any]) -> None:
    data["downlinks"][1]["id"] = data["downlinks"][0]["id"]


def _repeated_reference(data: dict[str, Any]) -> None:
    first = data["downlinks"][0]
    other = next(r for r in data["downlinks"][1:] if r["owner"] == first["owner"])
    first["externalReference"] = other["externalReference"] = "WO-1"


def _schema_violation(data: dict[str, Any]) -> None:
    data["downlinks"][2]["status"] = "LOST"
    data["devices"][0]["tags"] = {"name": 5}


BAD_FILES = {
    "duplicate id": (_duplicate_id, ["downlinks[1]: duplicate id"]),
    "repeated externalReference": (_repeated_reference, ["externalReference 'WO-1'"]),
    "schema violation": (
        _schema_violation,
        ["downlinks[2].status: 'LOST' is not one of", "devices[0].tags.name: 5 is not of type"],
    ),
}


def _bad_file(tmp_path: Path, plant: Any) -> Path:
    data = generate(seed=3, devices=4, downlinks=12)
    plant(data)
    path = tmp_path / "bad.json"
    write_fixture_set(data, path)
    return path


@pytest.mark.rule("M3")
@pytest.mark.parametrize(("plant", "expected"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_m3_a_bad_fixture_file_is_a_fixture_error_at_mock_start(
    tmp_path: Path, plant: Any, expected: list[str]
) -> None:
    path = _bad_file(tmp_path, plant)
    config = MockConfig(clock_mode=ClockMode.MANUAL, clock_start=START_MS, fixtures=[path])
    with pytest.raises(FixtureError) as info:
        create_app(config)
    assert isinstance(info.value, ValueError)
    assert info.value.path == path
    message = str(info.value)
    assert all(part in message for part in expected), message
    # the same lines as `fixtures check`, which adds only its checks of history
    checked = check_fixture_set(json.loads(path.read_text(encoding="utf-8")))
    assert info.value.problems == [p for p in checked if p in info.value.problems]
    assert set(info.value.problems) <= set(checked)


@pytest.mark.rule("M3")
def test_m3_serve_with_a_bad_fixture_file_is_a_clean_error(tmp_path: Path) -> None:
    """End to end: `downlinks-mock serve --fixtures bad.json` names every problem, as
    `fixtures check` does, and stops without a traceback."""
    path = _bad_file(tmp_path, lambda d: (_duplicate_id(d), _repeated_reference(d)))
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "from mock_server.cli.main import main; main()",
            "serve",
            "--port",
            "0",
            "--fixtures",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr + run.stdout
    check = CliRunner().invoke(fixtures_group, ["check", str(path)])
    assert check.exit_code == 1
    lines = [line for line in check.output.splitlines() if line.startswith(str(path))]
    assert lines and all(line in run.stderr for line in lines), (lines, run.stderr)


@pytest.mark.rule("M3")
def test_m3_two_fixture_files_that_clash_are_a_fixture_error(tmp_path: Path) -> None:
    data = generate(seed=3, devices=4, downlinks=3)
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    write_fixture_set(data, first)
    write_fixture_set(copy.deepcopy(data), second)
    config = MockConfig(clock_mode=ClockMode.MANUAL, clock_start=START_MS, fixtures=[first, second])
    with pytest.raises(FixtureError, match="already stored") as info:
        create_app(config)
    assert info.value.path == second


def test_the_fixture_schema_takes_the_control_plane_s_records() -> None:
    """One definition: the fixture schema's records are M3's SeedDevice and SeedDownlink."""
    items = fixture_schema()["properties"]
    assert items["devices"]["items"]["$ref"].endswith("#/components/schemas/SeedDevice")
    assert items["downlinks"]["items"]["$ref"].endswith("#/components/schemas/SeedDownlink")
    spec = control_spec()
    record = {"networkId": "n", "colour": "red"}
    assert [v["pointer"] for v in spec.body_violations("seedDownlinks", [record])] == ["#/0/colour"]
    assert fixture_problems({"downlinks": [record]}) == [
        "downlinks[0].colour: 'colour' is not a known property; this object takes id, owner, "
        "networkId, externalReference, status, message, createdAt, modifiedAt, logs"
    ]


def test_a_sound_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "good.json"
    write_fixture_set(generate(seed=5, devices=3, downlinks=10), path)
    loaded = load_fixture_file(path)
    assert len(loaded.devices) == 3 and len(loaded.downlinks) == 10
