"""The soak's printout: RSS over time, loop lag, answers in time, hostile outcomes, verdicts."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from mock_server.control.journal import BODY_LIMIT
from mock_server.loopwatch import percentile_ms

if TYPE_CHECKING:
    from bench.soak import Phase, Result

__all__ = ["report", "as_json", "rss_bound", "LAG_P99_MAX_MS"]

LAG_P99_MAX_MS = 50.0  # the target
BYTES_STORED = 1_337  # per stored downlink (docs/performance.md, Memory per stored downlink)
BYTES_JSON = 700  # per downlink whose JSON the store has cached (same section)
PAGE_CACHE = 1024  # pages the page cache keeps (MockConfig.page_cache, no serve flag)
_SPARK = " .:-=+*#%@"


def rss_bound(result: Result) -> dict[str, int]:
    """What the configured caps and the store allow above the RSS at ready, in KiB.

    The store: each downlink created during the run (stored, its JSON cached) and each
    one whose JSON a read cached. The caps: the journal's entries (two bodies of at most
    `BODY_LIMIT` and a head of at most `max_header_bytes` each), the page cache (at most
    `PAGE_CACHE` pages, none larger than the largest body answered), and each connection
    the cap allows holding one head and one body at their limits.
    """
    caps, seen = result.caps, result.seen
    store = len(seen.created) * BYTES_STORED + len(seen.ids) * BYTES_JSON
    # A create just under the body limit stores its message (about the body's size) and,
    # once read, its JSON (the same again).
    big_creates = sum(
        p.hostile["big body"]["201"] for p in result.phases if "big body" in p.hostile
    )
    store += big_creates * 2 * caps.max_body_bytes
    journal = caps.journal_size * (2 * BODY_LIMIT + caps.max_header_bytes)
    pages = PAGE_CACHE * seen.largest_body
    connections = caps.max_connections * (caps.max_header_bytes + caps.max_body_bytes)
    return {
        "store_kib": store // 1024,
        "journal_kib": journal // 1024,
        "page_cache_kib": pages // 1024,
        "connections_kib": connections // 1024,
        "total_kib": (store + journal + pages + connections) // 1024,
    }


def _lag(phase: Phase) -> tuple[float, float]:
    return percentile_ms(phase.lag, 0.50), percentile_ms(phase.lag, 0.99)


def _in_time_share(phase: Phase) -> float:
    answered, sent = phase.in_time()
    return answered / sent if sent else 0.0


def _ratio(new: float, old: float) -> str:
    return f"{new / old:.2f}" if old else "-"


def _sparkline(values: list[int]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1
    return "".join(_SPARK[round((v - low) / span * (len(_SPARK) - 1))] for v in values)


def _rss_lines(result: Result) -> list[str]:
    samples = result.rss
    mib = [kib / 1024 for _, _, kib in samples]
    lines = ["RSS of the mock (MiB), one sample a second:"]
    if not samples:
        return [*lines, "  (no samples)"]
    lines.append(
        f"  [{_sparkline([kib for _, _, kib in samples])}]  {min(mib):.1f} .. {max(mib):.1f}"
    )
    step = max(1, len(samples) // 16)
    lines.append(f"     t  {'phase':<24} RSS MiB")
    for i, (t, phase, kib) in enumerate(samples):
        if i % step == 0 or i == len(samples) - 1:
            lines.append(f"  {t:4.0f}s  {phase:<24} {kib / 1024:7.1f}")
    return lines


def _kinds_table(base: Phase, soak: Phase) -> list[str]:
    lines = [
        "Well-behaved requests ('in time': answered within the deadline; p50/p99 of every",
        "answer, late ones included, ms):",
        "  kind             | base n | in time | p50   | p99   || soak n | in time | p50   | p99   || p99 x",
    ]
    for kind in sorted(set(base.stats) | set(soak.stats)):
        cells = []
        for phase in (base, soak):
            s = phase.stats.get(kind)
            if s is None or not s.sent:
                cells.append(f"{'-':>6} | {'-':>7} | {'-':>5} | {'-':>5}")
                continue
            share = s.in_time / s.sent
            cells.append(f"{s.sent:6d} | {share:7.2%} | {s.pct(50):5.1f} | {s.pct(99):5.1f}")
        b, s = base.stats.get(kind), soak.stats.get(kind)
        ratio = _ratio(s.pct(99), b.pct(99)) if b and s else "-"
        lines.append(f"  {kind:<16} | {cells[0]} || {cells[1]} || {ratio:>5}")
    for phase in (base, soak):
        answered, sent = phase.in_time()
        statuses: dict[str, int] = {}
        for s in phase.stats.values():
            for code, n in s.statuses.items():
                statuses[code] = statuses.get(code, 0) + n
        retries = sum(s.retries for s in phase.stats.values())
        share = answered / sent if sent else 0.0
        lines.append(
            f"  {phase.name}: {answered}/{sent} answered in time ({share:.2%}), "
            f"{sent / phase.seconds:.0f} req/s, statuses {dict(sorted(statuses.items()))}, "
            f"{retries} retried on a new connection"
        )
    return lines


def report(result: Result) -> str:
    """The soak's printout."""
    base, soak = result.phases[:2]
    caps = result.caps
    lines = [
        f"Soak: {result.mode.stored:,} stored (ready in {result.load_seconds:.1f} s, "
        f"RSS {result.rss_ready_kib / 1024:.1f} MiB), {result.mode.seconds:g} s a phase, "
        f"{result.mode.clients} well-behaved clients (think {result.mode.think_s * 1000:.0f} ms, "
        f"deadline {result.mode.deadline_s:g} s); left out: {', '.join(result.mode.without) or 'none'}",
        f"Caps: {' '.join(caps.flags())}; load average {result.loadavg[0]} before, "
        f"{result.loadavg[1]} after",
        "",
        *_rss_lines(result),
        "",
        "Event-loop lag inside the mock (GET /__mock/loop, a 10 ms probe), ms; 'CPU-bound'",
        "caps each lateness at the CPU time the loop's thread used meanwhile (the mock's own",
        "work); 'waiting' is the share of the phase the thread was runnable but had no CPU:",
        f"  {'phase':<24} | s    | samples | p50    | p99    | CPU-bound p99 | CPU  | waiting "
        "| in time",
    ]
    for phase in result.phases:
        p50, p99 = _lag(phase)
        lines.append(
            f"  {phase.name:<24} | {phase.seconds:4.0f} | {sum(phase.lag.values()):7d} | "
            f"{p50:6.2f} | {p99:6.2f} | {percentile_ms(phase.cpu_lag, 0.99):13.2f} | "
            f"{phase.cpu_share:4.0%} | {phase.wait_share:7.0%} | {_in_time_share(phase):.2%}"
        )
    lines.append(
        f"  soak / baseline p99: {_ratio(_lag(soak)[1], _lag(base)[1])}; CPU-bound: "
        f"{_ratio(percentile_ms(soak.cpu_lag, 0.99), percentile_ms(base.cpu_lag, 0.99))}; "
        f"largest lag of the run {result.phases[-1].lag_max_ms:.1f} ms"
    )
    lines += ["", *_kinds_table(base, soak), "", "Hostile clients (what the server did):"]
    for phase in result.phases[1:]:
        for kind, outcomes in phase.hostile.items():
            lines.append(f"  {phase.name:<24} {kind:<17} {dict(sorted(outcomes.items()))}")
    bound = rss_bound(result)
    during = [kib for _, phase, kib in result.rss if phase != "ready"]
    peak = max(during, default=result.rss_ready_kib)
    grew = peak - result.rss_ready_kib
    end = result.rss[-1][2] if result.rss else result.rss_ready_kib
    _, soak_p99 = _lag(soak)
    soak_cpu = percentile_ms(soak.cpu_lag, 0.99)
    base_cpu = percentile_ms(base.cpu_lag, 0.99)
    worst_cpu = max(percentile_ms(p.cpu_lag, 0.99) for p in result.phases)
    answered, sent = soak.in_time()
    lines += [
        "",
        f"RSS: peak {peak / 1024:.1f} MiB, {grew / 1024:+.1f} MiB over ready; after the "
        f"cool-down {end / 1024:.1f} MiB. Allowed over ready: {bound['total_kib'] / 1024:.1f} MiB "
        f"(store {bound['store_kib'] / 1024:.1f}: {len(result.seen.created)} created, "
        f"{len(result.seen.ids)} read; journal {bound['journal_kib'] / 1024:.1f}; page cache "
        f"{bound['page_cache_kib'] / 1024:.1f}; connections at their limits "
        f"{bound['connections_kib'] / 1024:.1f})",
        f"  RSS within the caps plus the store: {'yes' if grew <= bound['total_kib'] else 'NO'}",
        # The CPU-bound figure is the mock's own: on a shared machine the wall-clock lag
        # also holds the time the loop's thread waited for a CPU.
        f"  CPU-bound lag p99 <= {LAG_P99_MAX_MS:g} ms in every phase: "
        f"{'yes' if worst_cpu <= LAG_P99_MAX_MS else 'NO'} (at most {worst_cpu:.2f} ms; "
        f"soak {soak_cpu:.2f} ms, baseline {base_cpu:.2f} ms)",
        f"  wall-clock lag p99 <= {LAG_P99_MAX_MS:g} ms during the soak: "
        f"{'yes' if soak_p99 <= LAG_P99_MAX_MS else 'NO'} ({soak_p99:.2f} ms); in the "
        f"baseline: {'yes' if _lag(base)[1] <= LAG_P99_MAX_MS else 'NO'} "
        f"({_lag(base)[1]:.2f} ms)",
        f"  well-behaved answered in time during the soak: {answered / sent if sent else 0:.2%}",
        f"  tracebacks in the mock's stderr: {result.tracebacks}",
    ]
    return "\n".join(lines)


def as_json(result: Result) -> dict[str, Any]:
    """Every figure, for --json."""
    phases = []
    for phase in result.phases:
        p50, p99 = _lag(phase)
        phases.append(
            {
                "name": phase.name,
                "seconds": phase.seconds,
                "lag_p50_ms": p50,
                "lag_p99_ms": p99,
                "lag_cpu_p99_ms": percentile_ms(phase.cpu_lag, 0.99),
                "cpu_share": phase.cpu_share,
                "wait_share": phase.wait_share,
                "kinds": {
                    k: {
                        "sent": s.sent,
                        "in_time": s.in_time,
                        "unanswered": s.unanswered,
                        "p50_ms": s.pct(50),
                        "p99_ms": s.pct(99),
                        "statuses": dict(s.statuses),
                        "retries": s.retries,
                    }
                    for k, s in phase.stats.items()
                },
                "hostile": {k: dict(v) for k, v in phase.hostile.items()},
            }
        )
    return {
        "mode": asdict(result.mode),
        "caps": asdict(result.caps),
        "load_seconds": result.load_seconds,
        "rss_ready_kib": result.rss_ready_kib,
        "rss": result.rss,
        "rss_bound": rss_bound(result),
        "created": len(result.seen.created),
        "read": len(result.seen.ids),
        "phases": phases,
        "tracebacks": result.tracebacks,
        "loadavg": result.loadavg,
    }
