"""The event-loop probe behind `GET /__mock/loop` (mock_server/loopwatch.py)."""

from __future__ import annotations

import asyncio
import time

import pytest
from starlette.testclient import TestClient

from mock_server import loopwatch
from mock_server.app import create_app
from mock_server.config import MockConfig
from mock_server.loopwatch import LoopWatch, bucket_of, bucket_upper_ms, percentile_ms


@pytest.mark.parametrize("lag_ms", [0.0, 0.0005, 0.002, 0.5, 1.0, 9.99, 50.0, 51.3, 4000.0])
def test_a_bucket_holds_its_lateness_within_five_percent(lag_ms: float) -> None:
    upper = bucket_upper_ms(bucket_of(lag_ms))
    assert upper >= lag_ms
    assert upper <= max(lag_ms * 1.05, 0.001)


def test_buckets_grow_with_the_lateness() -> None:
    lags = [0.01 * 1.3**i for i in range(60)]
    buckets = [bucket_of(lag) for lag in lags]
    assert buckets == sorted(buckets)
    assert len(set(buckets)) == len(buckets)  # 30 % apart: never the same bucket


def test_percentiles_read_the_histogram() -> None:
    watch = LoopWatch()
    for _ in range(98):
        watch.record(1.0)
    watch.record(20.0)
    watch.record(300.0)
    assert percentile_ms(watch.buckets, 0.50) == bucket_upper_ms(bucket_of(1.0))
    assert percentile_ms(watch.buckets, 0.99) == bucket_upper_ms(bucket_of(20.0))
    assert percentile_ms(watch.buckets, 1.0) == bucket_upper_ms(bucket_of(300.0))
    assert percentile_ms({}, 0.99) == 0.0
    assert watch.samples == 100 and watch.max_ms == 300.0


def test_lateness_is_capped_at_the_cpu_time_for_the_cpu_bound_figure() -> None:
    watch = LoopWatch()
    watch.record(80.0, cpu_ms=2.0)  # late because the process waited for a CPU
    watch.record(30.0, cpu_ms=45.0)  # late because the loop itself was busy
    watch.record(-0.5, cpu_ms=1.0)  # early wake-ups count as on time
    figures = watch.to_json()
    assert percentile_ms(watch.buckets, 1.0) == bucket_upper_ms(bucket_of(80.0))
    assert percentile_ms(watch.cpu_buckets, 1.0) == bucket_upper_ms(bucket_of(30.0))
    assert sorted(watch.cpu_buckets) == sorted({bucket_of(0.0), bucket_of(2.0), bucket_of(30.0)})
    assert figures["samples"] == 3 and figures["maxMs"] == 80.0


def test_a_blocked_loop_shows_as_a_late_wake_up() -> None:
    async def scenario() -> LoopWatch:
        watch = LoopWatch(interval=0.005)
        watch.start()
        watch.start()  # a second start does nothing
        await asyncio.sleep(0.02)
        time.sleep(0.08)  # holds the loop, as a slow request would
        await asyncio.sleep(0.02)
        assert watch.running
        watch.stop()
        return watch

    watch = asyncio.run(scenario())
    assert not watch.running
    assert watch.samples >= 2
    # The wake-up due during the 80 ms block came at least about 70 ms late.
    assert watch.max_ms >= 70.0
    assert percentile_ms(watch.buckets, 1.0) >= 70.0


def test_the_route_exists_only_when_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(loopwatch.ENV_VAR, raising=False)
    with TestClient(create_app(MockConfig())) as client:
        assert client.get(loopwatch.PATH).status_code == 404
    monkeypatch.setenv(loopwatch.ENV_VAR, "1")
    with TestClient(create_app(MockConfig())) as client:
        first = client.get(loopwatch.PATH)
        assert first.status_code == 200
        figures = first.json()
        assert figures["running"] is True
        assert {"samples", "p50Ms", "p99Ms", "maxMs", "cpuP99Ms", "buckets", "cpuBuckets"} <= set(
            figures
        )
        assert client.post(loopwatch.PATH).status_code == 405  # read-only


def test_the_switch_is_exactly_one() -> None:
    assert loopwatch.enabled({loopwatch.ENV_VAR: "1"})
    assert not loopwatch.enabled({loopwatch.ENV_VAR: "0"})
    assert not loopwatch.enabled({loopwatch.ENV_VAR: "yes"})
    assert not loopwatch.enabled({})
