"""`downlinks-mock serve`: option errors, and a real start-up with its banner."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import httpx
import pytest

from mock_server.cli.serve import _banner, build_config, build_limits, is_loopback

DEFAULTS = dict(
    host="127.0.0.1",
    port=0,
    auth="lenient",
    secret=None,
    jwks_file=None,
    clock="real",
    clock_start=None,
    speed=1.0,
    fixtures=(),
    log_level="warning",
    public_url=None,
)


@pytest.mark.parametrize(
    ("changes", "hint"),
    [
        ({"auth": "hs256"}, "--secret"),
        ({"auth": "jwks"}, "--jwks-file"),
        ({"clock_start": "tomorrow"}, "--clock-start"),
        ({"speed": -1.0, "clock": "scaled"}, "--speed"),
        ({"fixtures": ("/no/such/file.json",)}, "--fixtures"),
    ],
)
def test_serve_option_errors_name_the_option(changes: dict, hint: str) -> None:
    with pytest.raises(click.BadParameter) as info:
        build_config(**{**DEFAULTS, **changes})
    assert hint in info.value.format_message() or hint == info.value.param_hint


def test_serve_defaults() -> None:
    config = build_config(**{**DEFAULTS, "fixtures": ("default",)})
    assert config.fixtures[0].name == "default.json" and config.fixtures[0].is_file()


def test_serve_starts_prints_banner_and_answers(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from mock_server.cli.main import main; main()",
            "serve",
            "--port",
            "0",
            "--clock",
            "manual",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = [proc.stdout.readline() for _ in range(5)]
        url = banner[0].split(" on ")[1].split()[0]
        token = banner[2].strip()
        assert banner[4].strip().startswith("curl -s -H 'Authorization: Bearer ")
        deadline = time.monotonic() + 15
        while True:
            try:
                r = httpx.get(f"{url}/downlinks", headers={"Authorization": f"Bearer {token}"})
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert r.status_code == 200 and r.json() == {"items": []}
        assert httpx.get(f"{url}/__mock/clock").json()["mode"] == "manual"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_bad_fixture_file_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"downlinks": [{"status": "PENDING"}]}')
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from mock_server.cli.main import main; main()",
            "serve",
            "--fixtures",
            str(bad),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert str(bad) in proc.stderr and "networkId" in proc.stderr


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from mock_server.cli.main import main; main()", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_on_a_busy_port_fails_first_with_one_line_and_no_banner() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _serve("--port", str(port), "--log-level", "warning")
    assert proc.returncode == 2
    assert proc.stdout == ""  # no banner, no token, no curl line
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and f"127.0.0.1:{port}" in errors[0] and "--port" in errors[0]


def test_serve_refuses_speed_with_a_manual_clock() -> None:
    with pytest.raises(click.BadParameter) as info:
        build_config(**{**DEFAULTS, "clock": "manual", "speed": 60.0})
    assert info.value.param_hint == "--speed" and "manual" in info.value.format_message()
    # The default speed with a manual clock is fine.
    assert build_config(**{**DEFAULTS, "clock": "manual"}).speed == 1.0


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True)]
    + [("0.0.0.0", False), ("::", False)],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_banner_warns_loudly_when_not_on_loopback() -> None:
    shared = build_config(**{**DEFAULTS, "host": "0.0.0.0"})
    local = build_config(**DEFAULTS)
    warning = _banner(shared, "http://0.0.0.0:8080")
    assert "WARNING: listening on 0.0.0.0" in warning and "docs/security.md" in warning
    assert "any well-formed token (--auth lenient)" in warning
    assert "WARNING" not in _banner(local, "http://127.0.0.1:8080")


def test_off_loopback_the_banner_prints_the_admin_token() -> None:
    shared = build_config(**{**DEFAULTS, "host": "0.0.0.0"})
    assert shared.admin_token  # generated: the control plane is not open off loopback
    banner = _banner(shared, "http://0.0.0.0:8080")
    assert f"  {shared.admin_token}" in banner.splitlines()
    chosen = build_config(**{**DEFAULTS, "host": "0.0.0.0", "admin_token": "team-secret"})
    assert chosen.admin_token == "team-secret"
    local = build_config(**DEFAULTS)
    assert local.admin_token is None and "Admin token" not in _banner(local, "http://x")
    allowed = build_config(**{**DEFAULTS, "allowed_host": ("mock.internal",)})
    assert allowed.allowed_hosts == ("mock.internal",)


def test_serve_has_a_flag_for_every_server_limit() -> None:
    from click.testing import CliRunner

    from mock_server.cli.serve import serve_command

    text = CliRunner().invoke(serve_command, ["--help"]).output
    flags = ("--max-header-bytes", "--idle-timeout", "--header-timeout", "--max-connections")
    for flag in (*flags, "--max-body-bytes", "--body-timeout"):
        assert flag in text
    assert build_config(**{**DEFAULTS, "max_body_bytes": 4096}).body_limit == 4096
    limits = build_limits(
        max_header_bytes=2048, idle_timeout=1.5, header_timeout=3.0, max_connections=7
    )
    assert (limits.max_header_bytes, limits.max_connections) == (2048, 7)


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("memory", "memory"),
        ("Memory", "memory"),
        ("redis://localhost", "redis://localhost:6379/0"),
        ("REDIS://u:p@h:7000/2", "redis://u:p@h:7000/2"),
        ("rediss://:pw@h/3", "rediss://:pw@h:6379/3"),
        ("redis://h?db=4", "redis://h:6379/4"),
        ("redis://[::1]:7000/1", "redis://[::1]:7000/1"),
        ("redis://h/1?socket_timeout=2", "redis://h:6379/1?socket_timeout=2"),
        ("unix:///run/redis.sock", "unix:///run/redis.sock?db=0"),
        ("unix:///run/redis.sock?db=2", "unix:///run/redis.sock?db=2"),
    ],
)
def test_store_urls_are_normalised(given: str, normalised: str) -> None:
    from mock_server.config import parse_store

    assert parse_store(given) == normalised
    assert parse_store(normalised) == normalised  # a fixed point


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("", "neither memory nor a Redis URL"),
        ("redis.example:6379", "neither memory nor a Redis URL"),
        ("http://h:6379/0", "neither memory nor a Redis URL"),
        ("redis:/h", "neither memory nor a Redis URL"),
        ("redis://", "names no host"),
        ("redis://h:0/0", "from 1 to 65535"),
        ("redis://h:99999/0", "from 1 to 65535"),
        ("redis://h:port/0", "from 1 to 65535"),
        ("redis://h/zero", "must be a number"),
        ("redis://h/1?db=2", "not both"),
        ("redis://h?db=1&db=2", "once"),
        ("redis://h/0#x", "fragment"),
        ("unix://host/run/redis.sock", "absolute path and no host"),
        ("unix:///run/redis.sock?db=x", "must be a number"),
    ],
)
def test_bad_store_urls_name_the_flag_and_the_fix(given: str, says: str) -> None:
    from mock_server.config import MockConfig, parse_store

    with pytest.raises(ValueError) as info:
        parse_store(given)
    assert str(info.value).startswith("--store: ") and says in str(info.value)
    with pytest.raises(click.BadParameter) as option:
        build_config(**{**DEFAULTS, "store": given})
    assert option.value.param_hint == "--store" and says in option.value.format_message()
    with pytest.raises(ValueError):
        MockConfig(store=given)


def test_the_banner_masks_the_store_password_and_counts_the_workers() -> None:
    config = build_config(**{**DEFAULTS, "store": "redis://app:s3cret@h:6380/1", "workers": 3})
    assert config.store == "redis://app:s3cret@h:6380/1"  # the real one reaches the store
    banner = _banner(config, "http://127.0.0.1:8080", [11, 12, 13])
    first = banner.splitlines()[0]
    assert "store redis://app:***@h:6380/1 prefix downlinks-mock, 3 workers" in first
    assert "s3cret" not in banner
    assert "Workers: 3 processes on one port (pids 11 12 13)" in banner.splitlines()
    query = build_config(**{**DEFAULTS, "store": "unix:///r.sock?password=s3cret"})
    assert "s3cret" not in _banner(query, "http://x") and "password=***" in _banner(query, "x")
    assert "store memory)" in _banner(build_config(**DEFAULTS), "http://x").splitlines()[0]


@pytest.mark.parametrize("prefix", ["a", "downlinks-mock:team.a_1", "x" * 64])
def test_store_prefixes_allowed(prefix: str) -> None:
    assert build_config(**{**DEFAULTS, "store_prefix": prefix}).store_prefix == prefix


@pytest.mark.parametrize("prefix", ["", "x" * 65, "a b", "a/b", "ключ", "a*"])
def test_store_prefix_refused_names_the_flag(prefix: str) -> None:
    with pytest.raises(click.BadParameter) as info:
        build_config(**{**DEFAULTS, "store_prefix": prefix})
    assert info.value.param_hint == "--store-prefix"
    assert "1-64 characters" in info.value.format_message()


def test_workers_need_a_redis_store() -> None:
    from mock_server.config import MockConfig

    with pytest.raises(click.BadParameter) as info:
        build_config(**{**DEFAULTS, "workers": 2})
    message = info.value.format_message()
    assert info.value.param_hint == "--workers"
    assert "own downlinks" in message and "--store redis://" in message
    for count in (0, 65):
        with pytest.raises(click.BadParameter):
            build_config(**{**DEFAULTS, "store": "redis://h:1/0", "workers": count})
    with pytest.raises(ValueError, match="--workers"):
        MockConfig(workers=2)
    assert build_config(**{**DEFAULTS, "store": "redis://h:1/0", "workers": 64}).workers == 64


def test_serve_workers_with_the_memory_store_exits_2_with_one_line() -> None:
    proc = _serve("--workers", "2", "--port", "0")
    assert proc.returncode == 2 and proc.stdout == ""
    errors = [line for line in proc.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and "--workers" in errors[0] and "--store redis://" in errors[0]
    assert "Traceback" not in proc.stderr


def test_serve_has_the_store_and_worker_flags() -> None:
    from click.testing import CliRunner

    from mock_server.cli.serve import serve_command

    text = CliRunner().invoke(serve_command, ["--help"]).output
    for flag in ("--store memory|URL", "--store-prefix PREFIX", "--workers"):
        assert flag in text
    assert "docs/shared-mock.md" in text


def test_serve_with_workers_reports_a_bad_fixture_file_as_one_line(
    tmp_path: Path, redis_url: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"downlinks": [{"status": "PENDING"}]}')
    proc = _serve("--workers", "2", "--store", redis_url, "--port", "0", "--fixtures", str(bad))
    assert proc.returncode == 2 and proc.stdout == ""  # no banner: no worker answered
    errors = [line for line in proc.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and "--fixtures" in errors[0] and str(bad) in errors[0]
    assert "Traceback" not in proc.stderr
