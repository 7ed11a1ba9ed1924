"""The runner as a new user meets it: an interrupted run is never green, a wrong URL is one
line, `--auth off` is judged as such, findings quote a rule once, the HTML report's anchors
are unique, nothing is left in the working directory, the documented commands parse."""

from __future__ import annotations

import functools
import html.parser
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from contract_tests import schemathesis_run
from contract_tests.cli import run as cli_run
from contract_tests.cli.main import cli
from contract_tests.context import Context, Target, load_spec
from contract_tests.registry import Check, Finding, Mode, Tag
from contract_tests.report.console import Reporter
from contract_tests.report.write import RunInfo, html_report, markdown
from contract_tests.rules import RULES
from contract_tests.runner import Outcome, Result, run_check
from mock_server.app import create_app
from mock_server.config import AuthMode, ClockMode, MockConfig
from mock_server.server import MockServer, free_port
from tests.contract_tests.fakes import fake_app, serving, tiny_registry

ROOT = Path(__file__).resolve().parents[2]
M1 = {"status": "ok", "version": "1", "auth": "lenient"}


# -- Ctrl-C: INTERRUPTED, exit 130, no pass line -------------------------------------------


def _interrupted_schemathesis(*args: Any, **kwargs: Any) -> schemathesis_run.SchemathesisRun:
    """What run_schemathesis gives back when SIGINT arrives mid-run: some checks passed so
    far, and the flag."""
    check = Check("Z1", "t", Tag.SPEC, Mode.BLACK_BOX, func=lambda ctx: None)
    passed = Result(check=check, outcome=Outcome.PASSED)
    return schemathesis_run.SchemathesisRun(results=[passed], interrupted=True)


def test_an_interrupted_schemathesis_phase_is_interrupted_with_exit_130(monkeypatch) -> None:
    monkeypatch.setattr(cli_run, "CHECKS", tiny_registry())
    monkeypatch.setattr(schemathesis_run, "run_schemathesis", _interrupted_schemathesis)
    with serving(fake_app(M1)) as url:
        result = CliRunner().invoke(cli, ["run", "--base-url", url], catch_exceptions=False)
    assert result.exit_code == 130, result.output
    assert "INTERRUPTED: " in result.output
    assert "PASSED:" not in result.output


def test_ctrl_c_while_checks_run_is_interrupted_with_exit_130(monkeypatch) -> None:
    def interrupt(*args: Any, **kwargs: Any) -> list[Result]:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_run, "CHECKS", tiny_registry())
    monkeypatch.setattr(cli_run.Runner, "run", interrupt)
    with serving(fake_app(M1)) as url:
        result = CliRunner().invoke(cli, ["run", "--base-url", url], catch_exceptions=False)
    assert result.exit_code == 130, result.output
    assert "INTERRUPTED: " in result.output and "PASSED:" not in result.output
    assert "the run was interrupted" in result.output  # Schemathesis not started after it


def test_schemathesis_interrupted_event_sets_the_flag(monkeypatch) -> None:
    """Schemathesis turns SIGINT into an `Interrupted` event and finishes normally: the
    run must notice it rather than count what it saw as a pass."""
    from schemathesis.engine import events

    class Engine:
        def execute(self) -> Iterator[Any]:
            yield events.Interrupted(phase=None)

    monkeypatch.setattr(schemathesis_run, "from_schema", lambda schema: Engine())
    target = Target("http://127.0.0.1:1", Mode.BLACK_BOX, None, token="t")
    outcome = schemathesis_run.run_schemathesis(
        target, load_spec(), run_id="r", network_id="urn:dev:DEVEUI:01:"
    )
    assert outcome.interrupted
    assert all(r.outcome is not Outcome.PASSED for r in outcome.results)


@contextmanager
def _mock(auth: AuthMode = AuthMode.LENIENT) -> Iterator[str]:
    config = MockConfig(clock_mode=ClockMode.MANUAL, auth_mode=auth)
    with MockServer(app=create_app(config)) as server:
        yield server.base_url


def test_sigint_during_the_schemathesis_phase_ends_interrupted_130(tmp_path) -> None:
    """The real thing: a subprocess run, SIGINT once the Schemathesis phase has begun."""
    with _mock() as url:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "contract_tests.cli", "run", "--base-url", url]
        command += ["--only", "Z1", "--max-examples", "500", "--seed", "1"]
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert process.stdout is not None
        seen: list[str] = []
        for line in process.stdout:
            seen.append(line)
            if "Schemathesis: generating requests" in line:
                break
        threading.Event().wait(1.0)  # let Schemathesis get under way
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    text = "".join(seen) + out
    assert process.returncode == 130, text + err
    assert "INTERRUPTED: " in text
    assert "PASSED:" not in text
    assert "Traceback" not in err


# -- not the Downlinks API: exit 2, one line -----------------------------------------------


@contextmanager
def _static_files(root: Path) -> Iterator[str]:
    """Python's own static file server on a free loopback port."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_static_file_server_is_one_line_and_exit_2(tmp_path) -> None:
    (tmp_path / "index.html").write_text("<h1>hello</h1>")
    with _static_files(tmp_path) as url:
        done = subprocess.run(
            [sys.executable, "-m", "contract_tests.cli", "run", "--base-url", url, "--token", "t"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "does not look like the Downlinks API" in lines[0]
    assert "GET /downlinks answered 404 text/html" in lines[0]
    assert done.stdout == ""  # no rule was judged


def test_a_refused_test_hook_is_an_error_not_a_rule_failure() -> None:
    """Set-up failures (a hook that refuses) are errors: the check never reached its rule."""
    with _mock() as url:
        target = Target(url, Mode.FULL, "lenient", token="")
        target.token = target.mint("c", ("downlink.read",)) or ""

        def moves_an_unknown_downlink(ctx: Context) -> None:
            ctx.transition("00000000-0000-4000-8000-000000000000", "EXECUTING")

        check = Check("X4", "t", Tag.SPEC, Mode.FULL, func=moves_an_unknown_downlink)
        with Context(target, name="x") as ctx:
            result = run_check(check, ctx)
    assert result.outcome is Outcome.ERROR
    assert result.reason.startswith("set-up failed: set-up: the M4 test hook refused")


# -- --auth off: Schemathesis' auth checks follow the target's auth mode; no leftovers -----


def test_auth_off_skips_schemathesis_auth_checks_and_leaves_no_files(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with _mock(AuthMode.OFF) as url:
        target = Target(url, Mode.FULL, "off", token="")
        target.token = target.mint("contract-a", ("downlink.read",)) or ""
        outcome = schemathesis_run.run_schemathesis(
            target, load_spec(), run_id="r", network_id="urn:dev:DEVEUI:00aa:",
            max_examples=3, seed=1, stateful=False,
        )  # fmt: skip
    by_name = {r.check.name: r for r in outcome.results}
    failed = {n: r.findings[0].message for n, r in by_name.items() if r.failed}
    assert not failed
    for name in ("ignored_auth", "missing_required_header"):
        skipped = by_name[f"Z1-schemathesis_{name}"]
        assert skipped.outcome is Outcome.SKIPPED and "auth is off" in skipped.reason
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no .hypothesis, .schemathesis


def test_auth_checks_stay_on_where_the_target_checks_tokens() -> None:
    lenient = Target("http://x", Mode.FULL, "lenient", token="t")
    off = Target("http://x", Mode.FULL, "off", token="t")
    assert "ignored_auth" not in schemathesis_run.excluded_checks(lenient)
    assert {"ignored_auth", "missing_required_header"} <= set(schemathesis_run.excluded_checks(off))


# -- reports: a rule quoted once per check, unique anchors --------------------------------


def _z1_failures() -> list[Result]:
    def check(name: str) -> Check:
        def func(ctx: Any) -> None:
            raise NotImplementedError

        func.__name__ = name
        return Check("Z1", name, Tag.SPEC, Mode.BLACK_BOX, func=func)

    def finding(n: int) -> Finding:
        f = Finding(f"problem {n}", expected="e", actual="a", request="curl x")
        f.rule, f.rule_text = "Z1", RULES["Z1"]
        return f

    results = [Result(check("schemathesis_a"), Outcome.FAILED, [finding(i) for i in range(3)])]
    results.append(Result(check("schemathesis_b"), Outcome.FAILED, [finding(9)]))
    results.append(Result(check("schemathesis_a"), Outcome.FAILED, [finding(7)]))
    return results


def test_each_check_quotes_its_rule_once_on_the_console_and_in_markdown() -> None:
    results = _z1_failures()
    info = RunInfo(base_url="http://x", mode="full", profile="mock", run_id="r")
    out = StringIO()
    Reporter(out, force_plain=True).summary(results, info)
    console = out.getvalue()
    assert console.count(RULES["Z1"]) == 3  # once per failed check, not once per finding
    assert console.count("rule Z1 (quoted above)") == 2
    assert markdown(results, info).count(RULES["Z1"]) == 3


class _Ids(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value is not None:
                self.ids.append(value)
            if name == "href" and value and value.startswith("#"):
                self.links.append(value[1:])


def test_html_report_anchor_ids_are_unique_and_links_resolve() -> None:
    info = RunInfo(base_url="http://x", mode="full", profile="mock", run_id="r")
    page = html_report(_z1_failures(), info)
    parser = _Ids()
    parser.feed(page)
    assert parser.ids and len(parser.ids) == len(set(parser.ids)), parser.ids
    assert set(parser.links) <= set(parser.ids)


# -- the documented commands parse --------------------------------------------------------

_PROGRAMS = {"downlinks-mock", "downlinks-contract", "pytest", "export", "curl", "python", "pip"}


def _commands(markdown_text: str) -> Iterator[str]:
    """Each command of every ```sh block, continuation lines joined as a shell joins them
    (only a backslash that ends the line continues it)."""
    for block in re.findall(r"```sh\n(.*?)```", markdown_text, flags=re.S):
        text = block.replace("\\\n", "")
        for line in text.splitlines():
            line = line.strip().rstrip("&").strip()
            if line and not line.startswith("#"):
                yield line


@pytest.mark.parametrize(
    "command", list(_commands((ROOT / "docs" / "contract-tests.md").read_text()))
)
def test_docs_commands_are_runnable_as_pasted(command: str) -> None:
    words = shlex.split(command, comments=True)
    assert words[0] in _PROGRAMS, f"not a command a reader can paste: {command!r}"
    if words[:2] == ["downlinks-contract", "run"]:
        ctx = cli.commands["run"].make_context("run", words[2:])  # raises on a bad option
        assert ctx.params["base_url"].startswith("http")
