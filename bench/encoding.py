"""orjson against the standard json module, on the mock's own payloads.

Encodes the public JSON of one downlink and of a 50-item page the way the mock would
(compact, UTF-8 bytes) with each library, and reports microseconds per encode and the
ratio json / orjson (how many times faster orjson is).
"""

from __future__ import annotations

import json
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson

from mock_server.domain.model import Downlink

__all__ = ["EncodeResult", "compare_encoders"]


@dataclass(frozen=True)
class EncodeResult:
    """One payload encoded both ways."""

    payload: str
    size: int  # bytes of the encoded payload
    json_us: float
    orjson_us: float

    @property
    def ratio(self) -> float:
        return self.json_us / self.orjson_us


def _stdlib(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _best_us(func: Callable[[], object], seconds: float) -> float:
    timer = timeit.Timer(func)
    number, took = timer.autorange()
    rounds = max(3, min(20, int(seconds / max(took, 1e-9))))
    return min(timer.repeat(rounds, number)) / number * 1e6


def compare_encoders(downlinks: list[Downlink], seconds: float = 1.0) -> list[EncodeResult]:
    """One downlink and a page of 50 (the first 50 of `downlinks`), encoded both ways."""
    one = downlinks[0].to_json()
    page = {"items": [dl.to_json() for dl in downlinks[:50]]}
    if _stdlib(one) != orjson.dumps(one) or _stdlib(page) != orjson.dumps(page):
        raise RuntimeError("json and orjson encode the payloads differently")
    out = []
    for name, value in (("one downlink", one), ("page of 50", page)):
        out.append(
            EncodeResult(
                name,
                len(orjson.dumps(value)),
                _best_us(partial(_stdlib, value), seconds / 4),
                _best_us(partial(orjson.dumps, value), seconds / 4),
            )
        )
    return out


def main() -> int:
    """`python -m bench.encoding`: the table of docs/performance.md, "orjson vs json"."""
    import time

    from bench.dataset import make_downlinks

    print("| payload | size | json | orjson | orjson faster by |")
    print("|---|---:|---:|---:|---:|")
    for e in compare_encoders(make_downlinks(50, time.time_ns() // 1_000_000)):
        print(
            f"| {e.payload} | {e.size:,} B | {e.json_us:.1f} us | {e.orjson_us:.2f} us "
            f"| {e.ratio:.1f}x |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
