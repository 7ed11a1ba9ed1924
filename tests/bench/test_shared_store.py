"""The shared-store benchmark (bench/shared_store.py) runs end to end in --quick mode.

A smoke run on a redis-server and wrk of this machine: it starts the memory mock and the
Redis mocks on 1 and 2 workers, loads each for a second, and prints every table with every
row. No assertion on any timing: the figures are measured by `python bench/shared_store.py`
(docs/performance.md, Shared store).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bench import shared_store
from bench.http_load import GET_ONE, MIXED, PAGE, POST
from bench.shared_model import FanOut, model_rows

_missing = [tool for tool in ("redis-server", "wrk") if shutil.which(tool) is None]


def _row(text: str, *cells: str) -> bool:
    """Whether a markdown table row starts with `cells` (and has figures after them)."""
    head = r"\|\s*" + r"\s*\|\s*".join(re.escape(c) for c in cells) + r"\s*\|\s*[\d,.]+"
    return re.search(head, text) is not None


@pytest.mark.skipif(
    bool(_missing),
    reason=f"the shared-store benchmark needs {' and '.join(_missing)} "
    "(apt-get install -y redis-server wrk)",
)
def test_the_quick_benchmark_prints_every_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = tmp_path / "performance.md"
    docs.write_text("# Performance\n")
    code = shared_store.main(["--quick", "--stored", "300", "--docs", str(docs)])
    out = capsys.readouterr().out
    assert code == 0, out
    # Memory against Redis: every kind on both stores, with its ratio and a verdict.
    for kind in (GET_ONE, PAGE, POST):
        assert _row(out, kind, "memory"), kind
        assert _row(out, kind, "redis, 1 worker"), kind
        assert re.search(
            rf"\| {re.escape(kind)}: mock \+ Redis CPU <= 2x memory \| (PASS|MISS) \|", out
        )
    # 1 and 2 workers: throughput and where the CPU went.
    for kind in (GET_ONE, MIXED):
        for workers in ("1", "2"):
            assert _row(out, kind, workers), (kind, workers)
        assert f"- {kind}, 1 worker(s):" in out and f"- {kind}, 2 worker(s):" in out
    # The model: every workload at 1, 2, 4, 8 and 16 workers, each with its limit.
    for kind in (GET_ONE, MIXED):
        for workers in ("1", "2", "4", "8", "16"):
            assert re.search(
                rf"\| {re.escape(kind)} \| {workers} \| [\d,.]+ \| [\d,.]+ \| [\d,.]+ "
                rf"\| [\d,.]+ \| [\d,.]+ \| (workers|Redis) \|",
                out,
            ), (kind, workers)
        assert f"- {kind}: Redis" in out
    # The report went into the docs between its markers.
    written = docs.read_text()
    assert (
        "<!-- shared-store quick: begin" in written
        and "<!-- shared-store quick: end -->" in written
    )


class _Measured:
    def __init__(self, kind: str, workers: int, mock_us: float, redis_us: float) -> None:
        self.kind, self.workers = kind, workers
        self.mock_us, self.redis_us, self.rps = mock_us, redis_us, 0.0


def test_the_model_scales_workers_until_redis_saturates() -> None:
    # 500 us of worker CPU and 50 us of Redis CPU per request: workers answer 2,000 req/s
    # each, Redis' thread 20,000 req/s in all, so Redis is the limit from 10 workers on.
    fanout = FanOut(worker_us=0.0, redis_us=0.0, changes=1)
    rows = model_rows([_Measured(GET_ONE, 1, 500.0, 50.0)], fanout, (1, 4, 8, 16))
    assert [round(r.rps) for r in rows] == [2_000, 8_000, 16_000, 20_000]
    assert [r.limit for r in rows] == ["workers", "workers", "workers", "Redis"]


def test_the_models_writes_are_applied_by_every_other_worker() -> None:
    # A write share of 10%: each of the W - 1 other workers applies every create (100 us)
    # and reads it from Redis (5 us).
    fanout = FanOut(worker_us=100.0, redis_us=5.0, changes=1)
    (row,) = model_rows([_Measured(MIXED, 1, 1_000.0, 100.0)], fanout, (5,))
    assert row.worker_us == pytest.approx(1_000.0 + 4 * 0.1 * 100.0)
    assert row.redis_us == pytest.approx(100.0 + 4 * 0.1 * 5.0)
