"""Where the mock's time goes under load: py-spy samples the server while wrk loads it.

    python bench/profile_load.py --count 1000000 --seconds 10 post page mixed

Starts the mock as bench/http_load.py does (`downlinks-mock serve`, defaults), builds the
same request kinds, and for each kind named runs wrk (1 thread, 32 connections) while
`py-spy record --format raw` samples the server (py-spy from PyPI; run as root). It
prints the frames with the largest shares of the samples: inclusive (the frame anywhere
on the stack) for the mock's own functions, and self (the frame on top) for everything.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dataset import OWNER
from bench.http_load import (
    CONNECTIONS,
    GET_ONE,
    MIXED,
    PAGE,
    POST,
    Q_NETWORK,
    Q_TAG,
    bench_server,
    find_targets,
    raise_priority,
)
from bench.loadgen import find_wrk, run_load
from mock_server.http.auth import mint_token

__all__ = ["main", "shares"]

KINDS = {"one": GET_ONE, "page": PAGE, "q": Q_NETWORK, "tag": Q_TAG, "post": POST, "mixed": MIXED}


def _frame(text: str) -> str:
    # py-spy raw frames read "function (path/file.py:line)"; keep function and file.
    name, _, where = text.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "python3.11/", "/perf/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})"


def shares(raw: str) -> tuple[int, Counter[str], Counter[str]]:
    """(samples, inclusive counts, self counts) from py-spy's collapsed stacks."""
    total = 0
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_frame(f) for f in stack.split(";") if f]
        for frame in set(frames):
            inclusive[frame] += count
        if frames:
            own[frames[-1]] += count
    return total, inclusive, own


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kinds", nargs="+", choices=sorted(KINDS))
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    args = parser.parse_args(argv)
    raise_priority()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    wrk = find_wrk()
    end_ms = time.time_ns() // 1_000_000
    token = mint_token(OWNER)
    with tempfile.TemporaryDirectory(prefix="profile-") as tmp:
        data = ["mock", "--count", str(args.count), "--end-ms", str(end_ms)]
        with bench_server("mock", data, Path(tmp, "mock.log"), 900) as mock:
            print(f"{args.count:,} stored, loaded in {mock.load_seconds} s", flush=True)
            targets = find_targets(mock.url, token, args.count, end_ms)
            for key in args.kinds:
                kind = KINDS[key]
                load = targets.loads[kind]
                run_load(wrk, mock.url, load, connections=CONNECTIONS, duration=2)
                out = Path(tmp, f"{key}.txt")
                spy_proc = subprocess.Popen(
                    [
                        spy,
                        "record",
                        "--pid",
                        str(mock.pid),
                        "--format",
                        "raw",
                        "--rate",
                        str(args.rate),
                        "--duration",
                        str(args.seconds),
                        "--output",
                        str(out),
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                result = run_load(
                    wrk, mock.url, load, connections=CONNECTIONS, duration=args.seconds
                )
                spy_proc.wait(timeout=args.seconds + 60)
                total, inclusive, own = shares(out.read_text() if out.exists() else "")
                print(
                    f"\n## {kind}: {result.rps:,.0f} req/s, p99 {result.p99_ms:.1f} ms; "
                    f"{total} samples",
                    flush=True,
                )
                if not total:
                    continue
                print("\ninclusive, the mock's own frames and the server's entry points:")
                mine = [
                    (f, n)
                    for f, n in inclusive.most_common()
                    if "mock_server/" in f or "starlette/" in f or "uvicorn/" in f
                ]
                for frame, n in mine[: args.top]:
                    print(f"  {n / total:6.1%}  {frame}")
                print("\nself (top of stack):")
                for frame, n in own.most_common(args.top):
                    print(f"  {n / total:6.1%}  {frame}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
