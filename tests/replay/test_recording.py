"""The recording proxy: a client talks through it, every exchange lands in the cassette,
and the cassette replays clean against a fresh mock."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from click.testing import CliRunner

from mock_server.cli.main import cli
from mock_server.config import ClockMode, MockConfig
from mock_server.server import MockServer, free_port
from replay.cassette import CassetteWriter, load_steps
from replay.recording import FIXTURES_DIR, create_proxy, make_fixtures
from tests.mock_server.conftest import START_MS, auth, body

NID = "urn:dev:DEVEUI:00000000000000F1:"


def mock_config() -> MockConfig:
    return MockConfig(clock_mode=ClockMode.MANUAL, clock_start=START_MS)


@pytest.fixture
def target() -> Iterator[MockServer]:
    with MockServer(mock_config()) as server:
        yield server


def record(target: MockServer, path: Path, session) -> list[dict]:
    cassette = CassetteWriter(path)
    with MockServer(app=create_proxy(target.base_url, cassette)) as proxy:
        with httpx.Client(base_url=proxy.base_url, headers=auth("rec-client")) as client:
            session(client, proxy)
    cassette.close()
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def session(client: httpx.Client, proxy: MockServer) -> None:
    created = client.post("/downlinks", json=body(NID, externalReference="r-1"))
    assert created.status_code == 201
    client.post("/downlinks", json=body(NID, externalReference="r-2"))
    client.post("/downlinks", json=body(NID, externalReference="r-3"))
    page = client.get("/downlinks", params={"q": NID, "limit": "2", "sort": "-externalReference"})
    following = page.json()["next"]
    assert following.startswith(proxy.base_url)  # links point at the proxy, not the target
    client.get(following)
    client.get(created.headers["location"])
    client.delete(created.headers["location"])
    client.delete(created.headers["location"])  # 409
    client.post("/downlinks", json=body(NID, externalReference="r-2"))  # 409 (C6)
    client.post("/downlinks", json={"method": {"protocol": "SMS"}})  # 400


def test_record_through_the_proxy(target, tmp_path):
    lines = record(target, tmp_path / "session.jsonl", session)
    assert [(x["request"]["method"], x["response"]["status"]) for x in lines] == [
        ("POST", 201),
        ("POST", 201),
        ("POST", 201),
        ("GET", 200),
        ("GET", 200),
        ("GET", 200),
        ("DELETE", 202),
        ("DELETE", 409),
        ("POST", 409),
        ("POST", 400),
    ]
    first = lines[0]
    assert first["request"]["path"] == "/downlinks"
    assert first["request"]["body"]["externalReference"] == "r-1"
    assert first["request"]["auth"]["client"] == "rec-client"
    assert first["response"]["headers"]["content-type"] == "application/json"
    assert first["response"]["body"]["status"] == "PENDING"
    assert lines[3]["request"]["query"].startswith("q=")
    # The cassette keeps the target's own answer.
    assert lines[3]["response"]["body"]["next"].startswith(target.base_url)


def test_tokens_never_reach_the_cassette(target, tmp_path):
    token = auth("rec-client")["Authorization"].split(" ", 1)[1]
    path = tmp_path / "session.jsonl"
    lines = record(target, path, lambda client, proxy: client.get("/downlinks"))
    assert token.encode() not in path.read_bytes()
    assert lines[0]["request"]["headers"]["authorization"] == "Bearer <redacted>"


def test_recorded_session_replays_clean_against_a_fresh_mock(target, tmp_path):
    path = tmp_path / "session.jsonl"
    record(target, path, session)
    with MockServer(mock_config()) as fresh:
        result = CliRunner().invoke(cli, ["replay", str(path), "--base-url", fresh.base_url])
    assert result.exit_code == 0, result.output
    assert "10 steps, all match" in result.output


def test_proxy_answers_502_when_the_target_is_down(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    cassette = CassetteWriter(tmp_path / "none.jsonl")
    with MockServer(app=create_proxy(dead, cassette)) as proxy:
        answer = httpx.get(f"{proxy.base_url}/downlinks")
    cassette.close()
    assert answer.status_code == 502
    assert answer.headers["content-type"] == "application/problem+json"
    assert dead in answer.json()["detail"]
    assert (tmp_path / "none.jsonl").read_bytes() == b""


def test_non_json_bodies_are_kept_as_text(target, tmp_path):
    def send(client: httpx.Client, proxy: MockServer) -> None:
        client.post("/downlinks", content=b"{oops", headers={"content-type": "application/json"})
        client.post("/downlinks", content=b"hello", headers={"content-type": "text/plain"})

    broken, plain = record(target, tmp_path / "text.jsonl", send)
    assert broken["request"]["text"] == "{oops" and "body" not in broken["request"]
    assert plain["request"]["text"] == "hello"
    assert (broken["response"]["status"], plain["response"]["status"]) == (400, 415)
    steps = load_steps(tmp_path / "text.jsonl")
    assert steps[0].request.content() == b"{oops"


def test_make_fixtures_writes_replayable_cassettes(tmp_path):
    written = make_fixtures(tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in FIXTURES_DIR.glob("*.jsonl"))
    with MockServer(mock_config()) as fresh:
        for path in written:
            fresh.mock.reset()
            result = CliRunner().invoke(cli, ["replay", str(path), "--base-url", fresh.base_url])
            assert result.exit_code == 0, f"{path.name}: {result.output}"


def test_shipped_recordings_cover_the_listed_cases():
    """create, list, read, cancel, a 409, a 400 and paging are all in fixtures/recordings."""
    seen = set()
    for path in FIXTURES_DIR.glob("*.jsonl"):
        for step in load_steps(path):
            seen.add((step.method, step.path.count("/"), step.expect.status))
            if "cursor=" in step.query:
                seen.add("paging")
    assert {
        ("POST", 1, 201),
        ("GET", 1, 200),
        ("GET", 2, 200),
        ("DELETE", 2, 202),
        ("POST", 1, 409),
        ("POST", 1, 400),
        "paging",
    } <= seen


def test_record_command_rejects_a_bad_target():
    result = CliRunner().invoke(cli, ["record", "--target", "ftp://x"])
    assert result.exit_code == 2
    assert "--target" in result.output


def test_record_on_a_busy_port_keeps_the_cassette_and_says_so_in_one_line(tmp_path):
    cassette = tmp_path / "keep.jsonl"
    cassette.write_text('{"an": "exchange recorded earlier"}\n')
    before = cassette.read_bytes()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            cli,
            ["record", "--target", "http://127.0.0.1:9", "--port", str(port)]
            + ["--cassette", str(cassette)],
        )
    assert result.exit_code == 2
    assert cassette.read_bytes() == before  # untouched: not emptied, not appended to
    assert "Recording proxy on" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and f"127.0.0.1:{port}" in errors[0]
