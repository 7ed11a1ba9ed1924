"""The soak (bench/soak.py) runs end to end in --quick mode and prints its figures.

A smoke run: a few hundred stored, one-second phases, no assertion on any timing; the
figures themselves are measured by `python -m bench.soak` (docs/performance.md, Soak).
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from bench import soak
from bench.soak_hostile import HOSTILE_KINDS
from bench.soak_load import WELL_KINDS


def test_the_quick_soak_runs_and_prints_its_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = tmp_path / "soak.json"
    code = soak.main(
        ["--quick", "--stored", "300", "--seconds", "1", "--alone", "0", "--json", str(figures)]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    for heading in (
        "RSS of the mock (MiB), one sample a second:",
        "Event-loop lag inside the mock",
        "Well-behaved requests",
        "Hostile clients (what the server did):",
        "RSS within the caps plus the store:",
        "lag p99 <= 50 ms during the soak:",
    ):
        assert heading in out
    data = orjson.loads(figures.read_bytes())
    assert [p["name"] for p in data["phases"]] == ["baseline", "soak"]
    baseline, hostile = data["phases"]
    assert set(baseline["kinds"]) <= set(WELL_KINDS)
    assert sum(k["sent"] for k in baseline["kinds"].values()) > 0
    assert baseline["hostile"] == {}
    # Every hostile kind ran, and an oversized head got its 431 (docs/security.md).
    assert set(hostile["hostile"]) == set(HOSTILE_KINDS)
    assert hostile["hostile"]["oversized header"].get("431", 0) >= 1
    assert data["rss_ready_kib"] > 0 and len(data["rss"]) >= 3
    assert data["tracebacks"] == 0


def test_a_mock_that_cannot_start_is_one_line_and_exit_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def cannot(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the mock exited with 2 before its banner")

    monkeypatch.setattr(soak, "run_soak", cannot)
    assert soak.main(["--quick"]) == 1
    assert "could not run: the mock exited with 2" in capsys.readouterr().err
