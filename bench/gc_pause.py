"""How long the garbage collector stops the mock, with and without `gc.freeze()`.

    python bench/gc_pause.py 1000000

Fills a store as bench/http_load.py does, then times full (generation 2) collections and
young (generation 0) ones, first as the mock runs today and then after `gc.freeze()`
(which moves every object alive at that point into a permanent generation that the
collector never traverses again). A full collection runs by itself once the objects that
survived since the last one reach a quarter of the long-lived ones: with a million
downlinks that is every few hundred thousand creates, and each one stops every request
for as long as it takes. It also counts the objects the collector tracks per downlink.

Then it runs the create path without HTTP (`Spec.validate_create`, `Store.create`,
`Store.encoded`) `--creates` times under three settings in turn: as today, after
`gc.freeze()`, and after freeze with a gen-0 threshold of 50,000 (instead of 700); it
records every collection with `gc.callbacks` and prints, per setting, the collections by
generation, their longest pause, and the create's p50, p99 and longest time.
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

__all__ = ["main"]


def _timed(generation: int, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        gc.collect(generation)
        best = min(best, time.perf_counter() - began)
    return best * 1000


def _creates(app: object, n: int) -> tuple[list[float], dict[int, list[float]]]:
    """`n` creates through the spec and the store; (each one's seconds, pauses by gen)."""
    import orjson

    from bench.dataset import OWNER, create_body, make_devices

    mock = app.state.mock  # type: ignore[attr-defined]
    body = orjson.loads(create_body(make_devices()[0]))
    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    began = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            pauses[info["generation"]].append(time.perf_counter() - began[0])

    took: list[float] = []
    gc.callbacks.append(callback)
    try:
        for _ in range(n):
            start = time.perf_counter()
            new, _errors = mock.spec.validate_create(body)
            dl = mock.store.create(OWNER, new, mock.clock.now())
            mock.store.encoded(dl)
            took.append(time.perf_counter() - start)
    finally:
        gc.callbacks.remove(callback)
    return took, pauses


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    creates = 20_000
    if "--creates" in args:
        at = args.index("--creates")
        creates = int(args[at + 1])
        args = args[:at] + args[at + 2 :]
    count = int(args[0]) if args else 1_000_000
    from bench.dataset import make_devices, make_downlinks
    from mock_server.app import create_app

    app = create_app()
    store = app.state.mock.store
    devices = make_devices()
    store.register_devices((d.network_id, d.tags) for d in devices)
    before = len(gc.get_objects())
    store.seed(make_downlinks(count, time.time_ns() // 1_000_000, devices=devices))
    gc.collect()
    tracked = len(gc.get_objects()) - before
    print(
        f"{count:,} stored: {tracked:,} objects tracked by the collector "
        f"({tracked / count:.1f} per downlink); thresholds {gc.get_threshold()}"
    )
    print("| collection | as today | after gc.freeze() |")
    print("|---|---:|---:|")
    full, young = _timed(2), _timed(0, 20)
    gc.freeze()
    full_frozen, young_frozen = _timed(2), _timed(0, 20)
    print(f"| full (generation 2) | {full:,.1f} ms | {full_frozen:,.2f} ms |")
    print(f"| young (generation 0) | {young:,.3f} ms | {young_frozen:,.3f} ms |")
    print(f"frozen: {gc.get_freeze_count():,} objects")

    gc.unfreeze()
    print(f"\n{creates:,} creates (validate, store, encode) under each setting:\n")
    print("| setting | collections gen 0 / 1 / 2 | longest pause | create p50 | p99 | longest |")
    print("|---|---|---:|---:|---:|---:|")
    for label in ("as today", "after gc.freeze()", "freeze, gen-0 threshold 50,000"):
        if label != "as today":
            gc.collect()
            gc.freeze()
        if label.startswith("freeze,"):
            gc.set_threshold(50_000, 10, 10)
        took, pauses = _creates(app, creates)
        took.sort()
        longest = max((max(v) for v in pauses.values() if v), default=0.0)
        counts = " / ".join(str(len(pauses[g])) for g in (0, 1, 2))
        print(
            f"| {label} | {counts} | {longest * 1000:.2f} ms | {took[len(took) // 2] * 1e6:.0f} us "
            f"| {took[int(len(took) * 0.99)] * 1e6:.0f} us | {took[-1] * 1000:.2f} ms |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
