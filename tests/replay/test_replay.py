"""Replay: clean against the mock, clear differences against an altered one, the matchers
for what legitimately varies, scripts, and exit codes 0/1/2."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.cli.main import cli, main
from mock_server.config import REPO_ROOT, ClockMode, MockConfig
from mock_server.http.auth import mint_token
from mock_server.server import MockServer, free_port
from replay.cassette import load_steps
from replay.recording import FIXTURES_DIR
from replay.runner import Replayer, replay
from tests.mock_server.conftest import START_MS

SCRIPTS = REPO_ROOT / "scenarios" / "replays"


def fresh_app() -> Any:
    return create_app(MockConfig(clock_mode=ClockMode.MANUAL, clock_start=START_MS))


def run_cli(*args: str) -> Any:
    return CliRunner().invoke(cli, ["replay", *args])


def altered(app: Any, change: Callable[[str, str, int, Any], tuple[int, Any]]) -> Any:
    """`app` with its JSON answers passed through `change(method, path, status, body)`."""

    async def wrapper(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await app(scope, receive, capture)
        raw = b"".join(chunks)
        try:
            data = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            data = raw.decode()
        status, data = change(scope["method"], scope["path"], start["status"], data)
        out = orjson.dumps(data) if data is not None else b""
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(out)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": out})

    wrapper.state = app.state  # type: ignore[attr-defined]
    return wrapper


def test_shipped_recordings_replay_clean_against_a_fresh_mock():
    for path in sorted(FIXTURES_DIR.glob("*.jsonl")):
        report = replay(load_steps(path), client=TestClient(fresh_app()))
        assert report.ok, f"{path.name}:\n{report.render()}"


def test_shipped_scripts_replay_clean():
    for path in sorted(SCRIPTS.glob("*.yaml")):
        report = replay(load_steps(path), client=TestClient(fresh_app()))
        assert report.ok, f"{path.name}:\n{report.render()}"


def test_altered_mock_shows_a_clear_difference_with_exit_1():
    """A mock that drops `externalReference` from reads and answers a cancel with 200."""

    def change(method: str, path: str, status: int, data: Any) -> tuple[int, Any]:
        if method == "GET" and isinstance(data, dict) and "id" in data:
            data.pop("externalReference", None)
        if method == "DELETE" and status == 202:
            status = 200
        return status, data

    cassette = FIXTURES_DIR / "create-read-cancel.jsonl"
    with MockServer(app=altered(fresh_app(), change)) as server:
        result = run_cli(str(cassette), "--base-url", server.base_url)
    assert result.exit_code == 1, result.output
    out = result.output
    assert "step 2: GET /downlinks/" in out and f"({cassette}:2)" in out
    assert '$.externalReference: recorded "order-1", actual (absent)' in out
    assert "status: recorded 202, actual 200" in out
    assert "with differences" in out.splitlines()[-1]


def test_ids_are_mapped_from_recorded_to_new():
    """A recorded id is learned from the create and substituted in later paths."""
    steps = load_steps(FIXTURES_DIR / "create-read-cancel.jsonl")
    replayer = Replayer(TestClient(fresh_app()))
    first = replayer.run(steps[0])
    recorded_id = steps[0].expect.body["id"]
    new_id = replayer.matcher.ids[recorded_id]
    assert first.ok and new_id != recorded_id
    second = replayer.run(steps[1])
    assert second.sent == f"GET /downlinks/{new_id}" and second.ok


def test_an_id_that_comes_back_different_is_a_difference():
    def change(method: str, path: str, status: int, data: Any) -> tuple[int, Any]:
        if method == "GET" and isinstance(data, dict) and "id" in data:
            data["id"] = "00000000-0000-4000-8000-00000000000f"
        return status, data

    steps = load_steps(FIXTURES_DIR / "create-read-cancel.jsonl")
    report = replay(steps[:2], client=TestClient(altered(fresh_app(), change)))
    assert [d.where for d in report.failed[0].differences] == ["$.id"]


def test_timestamps_match_any_t1_time_but_not_another_format():
    def change(method: str, path: str, status: int, data: Any) -> tuple[int, Any]:
        if isinstance(data, dict) and "createdAt" in data:
            data["createdAt"] = "2031-02-03T04:05:06.007Z"  # another time: fine
            data["modifiedAt"] = "2031-02-03T04:05:06Z"  # no milliseconds: not T1
        return status, data

    steps = load_steps(FIXTURES_DIR / "conflict.jsonl")
    report = replay(steps[:1], client=TestClient(altered(fresh_app(), change)))
    diffs = report.failed[0].differences
    assert [d.where for d in diffs] == ["$.modifiedAt"]
    assert "T1" in diffs[0].note


def test_paging_cursors_are_learned_and_order_is_checked():
    """next/prev compare without the cursor; a page in the wrong order is a difference."""
    steps = load_steps(FIXTURES_DIR / "paging.jsonl")
    assert replay(steps, client=TestClient(fresh_app())).ok

    def change(method: str, path: str, status: int, data: Any) -> tuple[int, Any]:
        if isinstance(data, dict) and len(data.get("items", [])) == 2:
            data["items"].reverse()
        return status, data

    report = replay(steps, client=TestClient(altered(fresh_app(), change)))
    wheres = {d.where for r in report.failed for d in r.differences}
    assert wheres == {"$.items order"}


def test_ties_may_trade_places():
    """The last paging step sorts by createdAt, where every item ties (manual clock)."""
    steps = load_steps(FIXTURES_DIR / "paging.jsonl")

    def change(method: str, path: str, status: int, data: Any) -> tuple[int, Any]:
        if isinstance(data, dict) and len(data.get("items", [])) == 5:
            data["items"].reverse()
        return status, data

    assert replay(steps, client=TestClient(altered(fresh_app(), change))).ok


def test_problem_text_is_free_but_violations_are_compared():
    steps = load_steps(FIXTURES_DIR / "validation.jsonl")

    def change(method: str, path: str, status: int, data: Any) -> tuple[int, Any]:
        if isinstance(data, dict) and "errors" in data:
            data["detail"] = "said differently"
            data["title"] = "Another title"
            data["errors"] = [e for e in data["errors"] if e.get("pointer") != "#/method/protocol"]
        return status, data

    report = replay(steps, client=TestClient(altered(fresh_app(), change)))
    wheres = [d.where for r in report.failed for d in r.differences]
    assert wheres == ["$.errors[#/method/protocol]"]


def test_scripts_check_subsets_and_save_variables(tmp_path):
    script = tmp_path / "s.yaml"
    script.write_text(
        """
steps:
  - request:
      method: POST
      path: /downlinks
      json: {instruction: [{bn: "urn:dev:DEVEUI:01:"}], method: {protocol: SMS}}
    expect: {status: 201, body: {status: PENDING, id: <uuid>}}
    save: {dl: /id}
  - name: wrong on purpose
    request: {method: GET, path: "/downlinks/${dl}"}
    expect: {status: 200, body: {status: DELIVERED, externalReference: <absent>, logs: [{}]}}
  - request: {method: GET, path: "/downlinks/${nope}"}
    expect: {status: 200}
"""
    )
    report = replay(load_steps(script), client=TestClient(fresh_app()))
    rendered = report.render()
    assert [r.step.index for r in report.failed] == [2, 3]
    assert '$.status: expected "DELIVERED", actual "PENDING"' in rendered
    assert "${nope} set" in rendered


def test_script_errors_exit_2_naming_the_place(tmp_path):
    script = tmp_path / "bad.yaml"
    script.write_text("steps:\n  - request: {method: FETCH, path: /x}\n    expect: {}\n")
    result = run_cli(str(script), "--base-url", "http://127.0.0.1:9")
    assert result.exit_code == 2
    assert "/steps/0/request/method" in result.output
    assert "/steps/0/expect" in result.output


def test_bad_cassette_line_exits_2(tmp_path):
    cassette = tmp_path / "c.jsonl"
    cassette.write_text('{"request": {"method": "GET", "path": "/"}}\n')
    result = run_cli(str(cassette), "--base-url", "http://127.0.0.1:9")
    assert result.exit_code == 2
    assert f"{cassette}:1: not an exchange" in result.output


@pytest.mark.parametrize("name", ["c.txt", "missing.jsonl"])
def test_unknown_or_missing_file_exits_2(tmp_path, name):
    path = tmp_path / name
    if name.endswith(".txt"):
        path.write_text("x")
    result = run_cli(str(path), "--base-url", "http://127.0.0.1:9")
    assert result.exit_code == 2
    assert str(path) in result.output


def test_unreachable_target_exits_2_with_one_line():
    port = free_port()
    result = run_cli(str(FIXTURES_DIR / "conflict.jsonl"), "--base-url", f"http://127.0.0.1:{port}")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert f"cannot reach http://127.0.0.1:{port}" in result.output


def test_opaque_tokens_need_a_token_option(tmp_path):
    line = {
        "request": {
            "method": "GET",
            "path": "/downlinks",
            "headers": {"authorization": "Bearer <redacted>"},
            "auth": {"opaque": True},
        },
        "response": {
            "status": 200,
            "headers": {"content-type": "application/json"},
            "body": {"items": []},
        },
    }
    cassette = tmp_path / "opaque.jsonl"
    cassette.write_bytes(orjson.dumps(line) + b"\n")
    with MockServer(MockConfig(clock_mode=ClockMode.MANUAL)) as server:
        without = run_cli(str(cassette), "--base-url", server.base_url)
        token = mint_token("someone")
        with_token = run_cli(str(cassette), "--base-url", server.base_url, "--token", token)
    assert without.exit_code == 2 and "--token" in without.output
    assert with_token.exit_code == 0, with_token.output


def test_reset_option_calls_m2(tmp_path: Path):
    cassette = FIXTURES_DIR / "conflict.jsonl"
    with MockServer(MockConfig(clock_mode=ClockMode.MANUAL)) as server:
        assert run_cli(str(cassette), "--base-url", server.base_url).exit_code == 0
        again = run_cli(str(cassette), "--base-url", server.base_url)
        assert again.exit_code == 1  # the reference is taken now (C6)
        reset = run_cli(str(cassette), "--base-url", server.base_url, "--reset")
        assert reset.exit_code == 0, reset.output


def test_exit_codes_through_the_console_entry_point(monkeypatch):
    """`downlinks-mock replay` itself (not only click's runner) exits 0, then 1, then 2."""
    cassette = str(FIXTURES_DIR / "conflict.jsonl")

    def exit_code(*args: str) -> int:
        monkeypatch.setattr(sys, "argv", ["downlinks-mock", "replay", cassette, *args])
        try:
            main()
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0

    with MockServer(MockConfig(clock_mode=ClockMode.MANUAL)) as server:
        assert exit_code("--base-url", server.base_url) == 0
        assert exit_code("--base-url", server.base_url) == 1  # C6: the reference is taken
    assert exit_code("--base-url", f"http://127.0.0.1:{free_port()}") == 2
