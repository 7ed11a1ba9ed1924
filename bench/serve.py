"""Server entry of the benchmark: fill a store, then serve it with uvicorn on loopback.

    python -m bench.serve mock --count 1000000 --end-ms 1764000000000
    python -m bench.serve baseline --one one.json --page page.json

The process binds 127.0.0.1 on a free port, loads its data, prints one JSON line
(`{"port": ..., "rss_kib": ..., "load_seconds": ...}`) on stdout and then serves until
SIGTERM: uvicorn with uvloop and httptools, one worker, no access log, for both apps.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette

__all__ = ["UVICORN_SETTINGS", "rss_kib", "main"]

UVICORN_SETTINGS: dict[str, Any] = {
    "loop": "uvloop",
    "http": "httptools",
    "workers": 1,
    "log_level": "warning",
    "access_log": False,
}
"""The settings both the mock and the baseline run under."""


def rss_kib() -> int:
    """This process's resident set size in KiB (Linux), 0 where /proc is not there."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _mock_app(count: int, end_ms: int, seed: int, page_cache: int) -> Starlette:
    from bench.dataset import make_devices, make_downlinks
    from mock_server.app import create_app
    from mock_server.config import MockConfig

    app = create_app(MockConfig(log_level="warning", page_cache=page_cache))
    store = app.state.mock.store
    devices = make_devices(seed=seed)
    store.register_devices((d.network_id, d.tags) for d in devices)
    store.seed(make_downlinks(count, end_ms, devices=devices, seed=seed))
    return app


def _baseline_app(one: Path, page: Path) -> Starlette:
    from bench.baseline import baseline_app

    return baseline_app(one.read_bytes(), page.read_bytes())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve", description=__doc__)
    sub = parser.add_subparsers(dest="app", required=True)
    mock = sub.add_parser("mock", help="the mock with COUNT stored downlinks")
    mock.add_argument("--count", type=int, required=True)
    mock.add_argument("--end-ms", type=int, required=True, help="newest createdAt, epoch ms")
    mock.add_argument("--seed", type=int, default=0)
    mock.add_argument("--page-cache", type=int, default=1024, help="0: render every page")
    bare = sub.add_parser("baseline", help="bare Starlette serving fixed bytes")
    bare.add_argument("--one", type=Path, required=True)
    bare.add_argument("--page", type=Path, required=True)
    args = parser.parse_args(argv)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    # Listening before the data is loaded is harmless: connections wait in the backlog.
    sock.listen(2048)
    started = time.perf_counter()
    if args.app == "mock":
        app = _mock_app(args.count, args.end_ms, args.seed, args.page_cache)
    else:
        app = _baseline_app(args.one, args.page)
    ready = {
        "port": sock.getsockname()[1],
        "rss_kib": rss_kib(),
        "load_seconds": round(time.perf_counter() - started, 2),
    }
    sys.stdout.write(orjson.dumps(ready).decode() + "\n")
    sys.stdout.flush()
    server = uvicorn.Server(uvicorn.Config(app, **UVICORN_SETTINGS))
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
