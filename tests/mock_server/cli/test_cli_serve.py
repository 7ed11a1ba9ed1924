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
