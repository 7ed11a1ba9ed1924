"""How long the garbage collector stops the mock, with and without `gc.freeze()`.

    python bench/gc_pause.py 1000000

Fills a store as bench/http_load.py does, then times full (generation 2) collections and
young (generation 0) ones, first as the mock runs today and then after `gc.freeze()`
(which moves every object alive at that point into a permanent generation that the
collector never traverses again). A full collection runs by itself once the objects that
survived since the last one reach a quarter of the long-lived ones: with a million
downlinks that is every few hundred thousand creates, and each one stops every request
for as long as it takes. It also counts the objects the collector tracks per downlink.
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


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
