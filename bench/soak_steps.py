"""How long a page built in steps holds the event loop: the CPU time of each step, in
process, on a store filled as the soak fills it, with a create between every two steps.

    python -m bench.soak_steps                    # 1,000,000 stored
    python -m bench.soak_steps --stored 200000

Each step of `MemoryStore.page_steps` runs under the store's lock with nothing else
between (store/steps.py drives it the same way, yielding to the loop in between), so its
CPU time is how long the loop is held by it. A create between every two steps (at the end
of the range, as a steady stream of creates lands) is what used to make a page start
again and, after three restarts, be built in one go. Printed per request: the steps, the
downlinks examined, the longest step and the whole page's CPU time (best of `--repeat`).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench.dataset import OWNER, make_devices, make_downlinks
from mock_server.domain.model import NewDownlink
from mock_server.domain.timefmt import format_ms
from mock_server.store.memory import MemoryStore
from mock_server.store.query import CursorCodec, ListQuery, build_query

__all__ = ["main"]

_DAY = 86_400_000
_CODEC = CursorCodec()


def _query(raw: dict[str, str], limit: int = 50) -> ListQuery:
    params: dict[str, Any] = {**raw, "limit": limit}
    return build_query(params, raw, _CODEC, OWNER)


def _requests(end_ms: int, devices: list[Any]) -> list[tuple[str, ListQuery]]:
    out = []
    for back in (2, 10, 28):
        since = end_ms - back * _DAY
        for sort in ("-modifiedAt", "modifiedAt"):
            raw = {
                "createdSince": format_ms(since),
                "createdBefore": format_ms(since + 2 * _DAY),
                "sort": sort,
            }
            out.append((f"2 days {back} days back, sort={sort}", _query(raw)))
    out.append(("sort=-createdAt, limit=100", _query({"sort": "-createdAt"}, 100)))
    out.append(("sort=status (no index serves it)", _query({"sort": "status"})))
    out.append(("q (one device)", _query({"q": devices[0].network_id}, 20)))
    return out


def _measure(store: MemoryStore, query: ListQuery, now: int) -> tuple[int, int, float, float]:
    """(steps, examined, longest step s, whole page s), creating between steps."""
    new = NewDownlink("urn:dev:DEVEUI:00000000000000ff:", "[]", None, None, 0, None, 1)
    steps = store.page_steps(OWNER, query)
    longest = total = 0.0
    n = 0
    while True:
        start = time.process_time()
        try:
            with store.lock:
                next(steps)
        except StopIteration as done:
            spent = time.process_time() - start
            return n + 1, done.value.examined, max(longest, spent), total + spent
        spent = time.process_time() - start
        longest, total, n = max(longest, spent), total + spent, n + 1
        store.create(OWNER, new, now + n)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    end_ms = 1_790_000_000_000
    devices = make_devices()
    store = MemoryStore()
    store.seed(make_downlinks(args.stored, end_ms, devices=devices))
    print(f"{args.stored:,} stored; per request: steps, examined, longest step, whole page")
    for name, query in _requests(end_ms, devices):
        best: tuple[int, int, float, float] | None = None
        for _ in range(args.repeat):
            got = _measure(store, query, end_ms)
            if best is None or got[2] < best[2]:
                best = got
        assert best is not None
        steps, examined, longest, total = best
        print(
            f"  {name:42} | {steps:4} steps | {examined:9,} examined | "
            f"longest {longest * 1e3:6.1f} ms | whole {total * 1e3:7.1f} ms"
        )


if __name__ == "__main__":
    main()
