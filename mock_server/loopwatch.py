"""How late the event loop runs: a probe for benchmarks, off unless asked for.

With `DOWNLINKS_MOCK_LOOP_WATCH=1` in its environment the mock answers
`GET /__mock/loop` (read-only): a task that sleeps `INTERVAL` seconds again and again
and records, each time it wakes, how much later than asked it woke. A request that holds
the loop for 40 ms makes the next wake-up about 40 ms late, so the lateness is the time
other clients' requests waited for the loop. The figures (a histogram with about 4 %
resolution, its p50, p99 and maximum) stay in memory and cost a few hundred bytes; two
readings can be subtracted bucket by bucket to get the figures of the time between them
(`bench/soak.py` does).

A wake-up can also be late because the process waited for a CPU (a loaded machine), which
no request caused. So each wake-up is recorded twice: its lateness, and its lateness
capped at the CPU time the loop's thread used while the probe slept (`cpuBuckets`). The
second is what the mock's own work can account for: on an idle machine the two agree.

The task starts on the first `GET /__mock/loop`, so nothing runs, and no route exists,
in a mock started without the variable.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = [
    "ENV_VAR",
    "INTERVAL",
    "PATH",
    "LoopWatch",
    "enabled",
    "bucket_of",
    "bucket_upper_ms",
    "percentile_ms",
    "routes",
]

ENV_VAR = "DOWNLINKS_MOCK_LOOP_WATCH"
INTERVAL = 0.01  # seconds the probe sleeps between wake-ups
PATH = "/__mock/loop"
_STEPS = 16  # buckets per doubling: each bucket is 2 ** (1/16) = 4.4 % wide


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the probe is asked for (`DOWNLINKS_MOCK_LOOP_WATCH=1`)."""
    return (os.environ if environ is None else environ).get(ENV_VAR, "") == "1"


def bucket_of(lag_ms: float) -> int:
    """The histogram bucket of a lateness in ms; 0 holds everything up to 1 us."""
    lag_us = lag_ms * 1000.0
    if lag_us <= 1.0:
        return 0
    return 1 + math.floor(_STEPS * math.log2(lag_us))


def bucket_upper_ms(bucket: int) -> float:
    """The largest lateness (ms) bucket `bucket` holds."""
    if bucket <= 0:
        return 0.001
    return float(2.0 ** (bucket / _STEPS) / 1000.0)


def percentile_ms(buckets: Mapping[int, int], fraction: float) -> float:
    """The lateness (ms) that `fraction` of the samples do not exceed, rounded up to its
    bucket's upper edge (so never below the true figure); 0 without samples."""
    total = sum(buckets.values())
    if total <= 0:
        return 0.0
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for bucket in sorted(buckets):
        seen += buckets[bucket]
        if seen >= rank:
            return bucket_upper_ms(bucket)
    return bucket_upper_ms(max(buckets))


class LoopWatch:
    """The probe: `start()` it on a running loop; `record()` is what each wake-up does."""

    def __init__(self, interval: float = INTERVAL) -> None:
        self.interval = interval
        self.buckets: dict[int, int] = {}
        self.cpu_buckets: dict[int, int] = {}  # lateness capped at the thread's CPU time
        self.samples = 0
        self.max_ms = 0.0
        self.started_at: float | None = None  # time.monotonic() at start
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the probe on the running loop; a second call does nothing."""
        if self.running:
            return
        self.started_at = time.monotonic()
        self._task = asyncio.get_running_loop().create_task(self._watch())

    def stop(self) -> None:
        """Stop the probe (the figures stay)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def record(self, lag_ms: float, cpu_ms: float | None = None) -> None:
        """Count one wake-up that came `lag_ms` late, while the loop's thread used
        `cpu_ms` of CPU time (None: unknown, taken as all of the lateness)."""
        lag_ms = max(0.0, lag_ms)
        bucket = bucket_of(lag_ms)
        self.buckets[bucket] = self.buckets.get(bucket, 0) + 1
        busy = lag_ms if cpu_ms is None else min(lag_ms, max(0.0, cpu_ms))
        cpu_bucket = bucket_of(busy)
        self.cpu_buckets[cpu_bucket] = self.cpu_buckets.get(cpu_bucket, 0) + 1
        self.samples += 1
        self.max_ms = max(self.max_ms, lag_ms)

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked, cpu = loop.time(), time.thread_time()
            await asyncio.sleep(self.interval)
            lag = loop.time() - asked - self.interval
            self.record(lag * 1000.0, (time.thread_time() - cpu) * 1000.0)

    def to_json(self) -> dict[str, Any]:
        """The figures as `GET /__mock/loop` shows them."""
        return {
            "running": self.running,
            "intervalMs": self.interval * 1000.0,
            "uptimeSeconds": (
                round(time.monotonic() - self.started_at, 3) if self.started_at else 0.0
            ),
            "samples": self.samples,
            "p50Ms": percentile_ms(self.buckets, 0.50),
            "p99Ms": percentile_ms(self.buckets, 0.99),
            "maxMs": round(self.max_ms, 3),
            "cpuP99Ms": percentile_ms(self.cpu_buckets, 0.99),
            # bucket -> count; bucket b holds lateness up to 2 ** (b / 16) us
            "buckets": {str(b): n for b, n in sorted(self.buckets.items())},
            "cpuBuckets": {str(b): n for b, n in sorted(self.cpu_buckets.items())},
        }


def routes(watch: LoopWatch | None = None) -> list[Route]:
    """`GET /__mock/loop`, which starts `watch` (a new one if None) and shows its figures."""
    probe = watch or LoopWatch()

    async def loop_figures(request: Request) -> Response:
        probe.start()
        return Response(orjson.dumps(probe.to_json()), media_type="application/json")

    return [Route(PATH, loop_figures, methods=["GET"])]
