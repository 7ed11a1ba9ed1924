"""Memory per stored downlink: the resident set of a process before and after filling a
store with N realistic downlinks, divided by N.

    python -m bench.memory 1000000

Run in a process of its own, so nothing else the benchmark did is counted. It prints one
JSON line: the RSS (KiB) at the start, with the downlink objects made, once they are in
the store (list dropped, indexes built), and after every downlink's JSON is cached (what
a store that has answered for every downlink holds).
"""

from __future__ import annotations

import gc
import sys
import time

import orjson

from bench.dataset import make_devices, make_downlinks
from bench.serve import rss_kib
from mock_server.store.memory import MemoryStore

__all__ = ["measure", "main"]


def measure(count: int, end_ms: int | None = None) -> dict[str, float]:
    """RSS at each step (KiB) and the bytes per downlink they come to."""
    end_ms = end_ms or time.time_ns() // 1_000_000
    devices = make_devices()
    store = MemoryStore()
    store.register_devices((d.network_id, d.tags) for d in devices)
    gc.collect()
    start = rss_kib()
    downlinks = make_downlinks(count, end_ms, devices=devices)
    # The ids, to find every downlink again once the list is gone; the list of them is
    # not the store's, so its size is taken off below.
    ids = [dl.id for dl in downlinks]
    ids_kib = sys.getsizeof(ids) / 1024
    objects = rss_kib() - ids_kib
    store.seed(downlinks)
    del downlinks
    gc.collect()
    stored = rss_kib() - ids_kib
    for downlink_id in ids:  # every downlink's public JSON, as a GET caches it
        found = store.find(downlink_id)
        assert found is not None
        MemoryStore.encoded(found)
    encoded = rss_kib() - ids_kib
    per = 1024 / count
    return {
        "count": count,
        "rss_start_kib": start,
        "rss_objects_kib": round(objects),
        "rss_stored_kib": round(stored),
        "rss_encoded_kib": round(encoded),
        "bytes_objects": round((objects - start) * per),
        "bytes_stored": round((stored - start) * per),
        "bytes_indexes": round((stored - objects) * per),
        "bytes_with_json": round((encoded - start) * per),
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit() or int(args[0]) < 1:
        print("usage: python -m bench.memory COUNT", file=sys.stderr)
        return 2
    print(orjson.dumps(measure(int(args[0]))).decode(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
