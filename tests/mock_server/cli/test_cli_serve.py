"""`downlinks-mock serve`: option errors, and a real start-up with its banner."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import click
import httpx
import pytest

from mock_server.cli.serve import build_config

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
