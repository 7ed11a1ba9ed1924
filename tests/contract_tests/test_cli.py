"""`downlinks-contract run`: exit codes 0/1/2, one-line errors, reports written."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from contract_tests.cli import run as cli_run
from contract_tests.cli.main import cli
from tests.contract_tests.fakes import fake_app, serving, tiny_registry, unused_url

M1 = {"status": "ok", "version": "1", "auth": "lenient"}


def _run(*args: str):
    return CliRunner().invoke(cli, ["run", *args], catch_exceptions=False)


def test_unreachable_target_exits_2_with_one_line_and_no_traceback() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "contract_tests.cli",
            "run",
            "--base-url",
            unused_url(),
            "--token",
            "t",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach http://127.0.0.1:")
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base-url", "ftp://x"], "--base-url must be an http(s) URL"),
        (["--base-url", "http://127.0.0.1:1", "--only", "Q9"], "unknown rule, group or check 'Q9'"),
        (["--base-url", "http://127.0.0.1:1", "--mode", "half"], "Invalid value for '--mode'"),
        (["--base-url", "http://127.0.0.1:1", "--max-examples", "0"], "Invalid value"),
        ([], "Missing option '--base-url'"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["run", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_exit_0_when_every_check_passes_with_reports(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(cli_run, "CHECKS", tiny_registry())
    junit, report = tmp_path / "j.xml", tmp_path / "r.md"
    with serving(fake_app(M1)) as url:
        result = _run(
            "--base-url",
            url,
            "--no-schemathesis",
            "--junit-xml",
            str(junit),
            "--report",
            str(report),
        )
    assert result.exit_code == 0, result.output
    assert "PASSED: 1 passed, 0 failed, 0 errors, 1 skipped" in result.output
    assert "full mode" in result.output
    cases = ET.parse(junit).getroot().iter("testcase")
    assert [c.get("name") for c in cases] == ["L3-list_answers", "Z1-schemathesis_run"]
    assert "| L3 | passed | 1 | 0 | 0 |" in report.read_text()


def test_exit_1_when_a_check_fails_and_the_finding_is_printed(monkeypatch) -> None:
    monkeypatch.setattr(cli_run, "CHECKS", tiny_registry(failing=True))
    with serving(fake_app(None)) as url:
        result = _run("--base-url", url, "--token", "secret", "--no-schemathesis", "--seed", "3")
    assert result.exit_code == 1
    assert "FAILED L5-always_fails" in result.output
    assert "broken on purpose" in result.output
    assert "black-box mode" in result.output
    assert "$DOWNLINKS_TOKEN" in result.output and "secret" not in result.output


def test_only_selects_and_reports_the_rest_as_skipped(monkeypatch) -> None:
    monkeypatch.setattr(cli_run, "CHECKS", tiny_registry(failing=True))
    with serving(fake_app(M1)) as url:
        result = _run("--base-url", url, "--only", "L3")
    assert result.exit_code == 0, result.output
    assert "not selected by --only" in result.output


def test_list_of_checks_names_rule_tag_and_mode() -> None:
    result = CliRunner().invoke(cli, ["checks"])
    assert result.exit_code == 0
    rows = {line.split()[0]: line.split()[1:4] for line in result.output.splitlines()[1:]}
    assert rows["A1-missing_token_is_401"] == ["A1", "spec", "black-box"]
    assert rows["T2-transitions_move_modified_at"] == ["T2", "convention", "full"]


def test_a_schemathesis_crash_is_an_error_result_not_a_traceback(monkeypatch) -> None:
    from contract_tests import schemathesis_run

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("generator broke")

    monkeypatch.setattr(cli_run, "CHECKS", tiny_registry())
    monkeypatch.setattr(schemathesis_run, "run_schemathesis", explode)
    with serving(fake_app(M1)) as url:
        result = _run("--base-url", url)
    assert result.exit_code == 1
    assert "ERROR Z1-schemathesis_run" in result.output
    assert "Schemathesis could not run: RuntimeError: generator broke" in result.output
