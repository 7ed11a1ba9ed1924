"""A model of the shared store's throughput with W workers on one Redis, from measured costs.

Each worker is a Python process on a core of its own; Redis executes commands on one
thread. For a workload with a share `s` of writes:

    worker CPU per request   c_w(W) = c_w + (W - 1) * s * a_w
    Redis CPU per request    c_r(W) = c_r + (W - 1) * s * a_r
    throughput X(W) = min(W / c_w(W), 1 / c_r(W))

`c_w` and `c_r` are measured under load with one worker (bench/shared_store.py: the
workers' and redis-server's CPU seconds over a wrk run, divided by the requests). The
second terms are the fan-out of writes: every change one worker commits is read from the
change log and applied by each of the W - 1 others before their next request, and every
process plays every timeline's moves (they are not committed); `a_w` and `a_r` (worker
and Redis CPU per create applied, its moves played) are measured here by letting one
`Mock` commit creates and move the clock past their timelines, and another catch up. The 2-worker run checks the model (the
predicted and measured per-request costs are printed side by side), and gives a second,
pessimistic column: its whole extra per request over the 1-worker run, carried on to
every further worker (on two shared cores that extra also holds what sharing them costs,
and any work that each worker repeats for every other one). Not in the model:
the load generator and the proxy or kernel spreading connections (given cores of their
own), and Redis' network threads (one thread does all the work: `io-threads` 1).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from bench.http_load import GET_ONE, MIXED

__all__ = ["FanOut", "ModelRow", "measure_fanout", "model_rows", "model_table", "saturation"]

WRITE_SHARE = {GET_ONE: 0.0, MIXED: 0.1}  # creates among the requests of each workload


class Measured(Protocol):
    """What the model reads of a measured row (bench/shared_store.py Row)."""

    kind: str
    workers: int

    @property
    def mock_us(self) -> float: ...

    @property
    def redis_us(self) -> float: ...

    @property
    def rps(self) -> float: ...


@dataclass(frozen=True)
class FanOut:
    """CPU per change that another worker committed: to apply it (worker), to read it (Redis)."""

    worker_us: float
    redis_us: float
    changes: int


@dataclass(frozen=True)
class ModelRow:
    """The model's figures for one workload at W workers."""

    kind: str
    workers: int
    worker_us: float  # CPU per request over all workers
    redis_us: float
    workers_capacity: float  # req/s the workers could answer with Redis free
    redis_capacity: float  # req/s at which Redis' one thread is busy all the time
    measured_rps: float | None  # where a run measured it (1 and 2 workers, shared cores)
    # The same with the extra per request that the 2-worker run measured over the 1-worker
    # run carried on to each further worker (a pessimistic bound: on two shared cores that
    # extra also holds the cost of sharing them).
    slope_capacities: tuple[float, float] | None = None

    @property
    def rps(self) -> float:
        return min(self.workers_capacity, self.redis_capacity)

    @property
    def limit(self) -> str:
        return "Redis" if self.redis_capacity <= self.workers_capacity else "workers"

    @property
    def slope_rps(self) -> float | None:
        return min(self.slope_capacities) if self.slope_capacities else None

    @property
    def slope_limit(self) -> str:
        if not self.slope_capacities:
            return ""
        workers, redis = self.slope_capacities
        return "Redis" if redis <= workers else "workers"


def measure_fanout(store: str, prefix: str, redis_port: int, changes: int) -> FanOut:
    """Let one `Mock` commit `changes` creates and move the shared (manual) clock an hour
    on, then time another catching up with them: applying the creates and playing every
    move of their timelines, as each worker does for every downlink (its process CPU, and
    Redis' own execution time of the commands it sent: the CPU clock of /proc ticks too
    coarsely for these few milliseconds)."""
    from bench.dataset import OWNER, make_devices
    from bench.shared_procs import command_stats
    from mock_server.config import ClockMode, MockConfig
    from mock_server.domain.model import NewDownlink
    from mock_server.mock import Mock

    device = make_devices()[0]

    async def run() -> FanOut:
        config = MockConfig(
            store=store, store_prefix=prefix, scenario="default", clock_mode=ClockMode.MANUAL
        )
        writer, reader = Mock(config), Mock(config)
        assert writer.state.shared and reader.state.shared
        await writer.state.sync()
        await reader.state.sync()
        instruction: list[dict[str, Any]] = [
            {"bn": device.network_id},
            {"n": "setpoint", "u": "Cel", "v": 21.5},
        ]
        new = NewDownlink(
            network_id=device.network_id,
            message=orjson.dumps(instruction).decode(),
            method={"protocol": "LORA", "fPort": 10},
            external_reference=None,
            retry_limit=2,
            feedback_timeout_ms=None,
            parts=1,
            instruction=instruction,
        )
        for _ in range(changes):
            await writer.state.create(OWNER, new, writer.clock.now())
        await writer.state.change_clock(lambda clock: clock.advance(3_600_000))
        cpu, before = time.process_time(), command_stats(redis_port)
        await reader.state.sync()
        cpu, after = time.process_time() - cpu, command_stats(redis_port)
        usec = sum(u for _, u in after.values()) - sum(u for _, u in before.values())
        usec -= after.get("info", (0, 0))[1] - before.get("info", (0, 0))[1]
        return FanOut(cpu / changes * 1e6, usec / changes, changes)

    return asyncio.run(run())


def model_rows(
    scaled: Sequence[Measured], fanout: FanOut, workers: Sequence[int]
) -> list[ModelRow]:
    """The model at each W for each workload of the 1-worker runs of `scaled`."""
    measured = {(r.kind, r.workers): r for r in scaled}
    out: list[ModelRow] = []
    for (kind, count), base in measured.items():
        if count != 1:
            continue
        share = WRITE_SHARE.get(kind, 0.0)
        for w in workers:
            worker_us = base.mock_us + (w - 1) * share * fanout.worker_us
            redis_us = base.redis_us + (w - 1) * share * fanout.redis_us
            run = measured.get((kind, w))
            two = measured.get((kind, 2))
            slope: tuple[float, float] | None = None
            if two is not None:
                w_us = base.mock_us + (w - 1) * max(0.0, two.mock_us - base.mock_us)
                r_us = base.redis_us + (w - 1) * max(0.0, two.redis_us - base.redis_us)
                slope = (w / w_us * 1e6, 1e6 / r_us if r_us else float("inf"))
            out.append(
                ModelRow(
                    kind,
                    w,
                    worker_us,
                    redis_us,
                    w / worker_us * 1e6 if worker_us else float("inf"),
                    1e6 / redis_us if redis_us else float("inf"),
                    run.rps if run is not None else None,
                    slope,
                )
            )
    return out


def model_table(rows: Sequence[ModelRow]) -> str:
    lines = [
        "| request | workers | worker CPU us/req | Redis CPU us/req | workers could answer "
        "| Redis could answer | model req/s | limit | with the 2-worker extra: req/s, limit "
        "| measured here (2 shared cores) |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|---:|",
    ]
    for r in rows:
        measured = f"{r.measured_rps:,.0f}" if r.measured_rps is not None else ""
        slope = f"{r.slope_rps:,.0f}, {r.slope_limit}" if r.slope_rps is not None else ""
        lines.append(
            f"| {r.kind} | {r.workers} | {r.worker_us:,.0f} | {r.redis_us:,.1f} "
            f"| {r.workers_capacity:,.0f} | {r.redis_capacity:,.0f} | {r.rps:,.0f} "
            f"| {r.limit} | {slope} | {measured} |"
        )
    return "\n".join(lines)


def saturation(scaled: Sequence[Measured], fanout: FanOut) -> list[str]:
    """Per workload: the number of workers at which Redis' thread becomes the limit, and
    the 2-worker run's costs against the model's."""
    out = [
        f"Fan-out, measured in process over {fanout.changes:,} creates: another worker "
        f"applies a create and plays its timeline's moves in {fanout.worker_us:.0f} us of "
        f"CPU, Redis executes its reading in {fanout.redis_us:.1f} us."
    ]
    measured = {(r.kind, r.workers): r for r in scaled}
    for (kind, count), base in measured.items():
        if count != 1:
            continue
        share = WRITE_SHARE.get(kind, 0.0)
        at = None
        for w in range(1, 1025):
            rows = model_rows([base], fanout, [w])
            if rows[0].limit == "Redis":
                at = rows[0]
                break
        two = measured.get((kind, 2))
        slope_at = None
        if two is not None:
            for w in range(1, 1025):
                (row,) = model_rows([base, two], fanout, [w])
                if row.slope_limit == "Redis":
                    slope_at = row
                    break
        if at is None:
            out.append(f"- {kind}: Redis does not become the limit below 1,024 workers.")
        else:
            out.append(
                f"- {kind}: Redis' thread becomes the limit at {at.workers} workers, "
                f"about {at.rps:,.0f} req/s ({at.redis_us:.1f} us of Redis CPU per request)."
            )
        if two is not None and slope_at is not None and slope_at.slope_rps is not None:
            out.append(
                f"  With the 2-worker run's extra per request carried on: Redis becomes the "
                f"limit at {slope_at.workers} workers, about {slope_at.slope_rps:,.0f} req/s."
            )
        elif two is not None:
            out.append(
                "  With the 2-worker run's extra per request carried on, the workers stay the "
                "limit below 1,024 workers."
            )
        if two is not None:
            predicted = model_rows([base], fanout, [2])[0]
            out.append(
                f"  2 workers: the model {predicted.worker_us:,.0f} us of worker CPU and "
                f"{predicted.redis_us:.1f} us of Redis CPU per request, measured "
                f"{two.mock_us:,.0f} and {two.redis_us:.1f} (write share {share:.0%})."
            )
    return out
