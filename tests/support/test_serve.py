"""`Serve`, a `downlinks-mock serve` child process (tests/support/serve.py)."""

from __future__ import annotations

import httpx

from tests.support.serve import Serve


def test_serve_reads_the_banner_and_stops_on_leaving() -> None:
    with Serve("--clock", "manual") as mock:
        assert mock.url.startswith("http://127.0.0.1:") and mock.pids == []
        listed = httpx.get(f"{mock.url}/downlinks", headers=mock.auth)
        assert listed.status_code == 200 and listed.json() == {"items": []}
    assert mock.process is not None and mock.process.poll() is not None
    assert "Traceback" not in mock.stderr
