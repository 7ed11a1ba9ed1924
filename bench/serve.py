"""Server entry of the benchmark: fill a store, then serve it on loopback.

    python -m bench.serve mock --count 1000000 --end-ms 1764000000000 --port P --ready F
    python -m bench.serve mock ... -- --log-level warning      # any `serve` option
    python -m bench.serve app --server granian --count ... --port P --ready F
    python -m bench.serve baseline --one one.json --page page.json --created c.json ...

`mock` is the mock as a user starts it: `downlinks-mock serve` run through the CLI's own
click command with its defaults (uvicorn, access log on, log level info, real clock,
default scenario, request journal), plus whatever serve options follow `--`. The only
difference from typing the command is how the stored downlinks get there: a fixture file
of a million records takes minutes to validate (`control/seeding.py`, about 240 us a
record, twice), so the store is filled directly (`Store.seed`) right after `create_app`,
before the server listens; the downlinks are the same either way.

`app` serves the mock (`create_app` with the default MockConfig) with an explicit server,
`uvicorn` or `granian`, both without an access log: the server comparison. `baseline` is
the bare app serving fixed bytes (bench/baseline.py) on the same server choice.

Each process writes one JSON line (`{"port", "pid", "rss_kib", "load_seconds"}`) to the
`--ready` file once its data is loaded, then serves until SIGTERM. `--gc` prototypes the
garbage-collector settings the mock could apply after loading (`freeze`: `gc.freeze()`;
`tuned`: freeze plus a higher gen-0 threshold); `--journal off` serves the mock with its
request journal off (`MockConfig(journal_size=0)`, what `serve --journal-size 0` gives),
to measure what the journal costs.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import sys
import time
from pathlib import Path
from typing import Any

import orjson

__all__ = ["UVICORN_SETTINGS", "rss_kib", "apply_gc", "main"]

UVICORN_SETTINGS: dict[str, Any] = {
    "loop": "uvloop",
    "http": "httptools",
    "workers": 1,
    "log_level": "warning",
    "access_log": False,
}
"""The settings of `app` and `baseline` under uvicorn (what `serve`'s defaults pick too,
less the access log)."""

GC_CHOICES = ("default", "freeze", "tuned")


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


def apply_gc(choice: str) -> None:
    """The collector settings to try after loading: move every object made so far to the
    permanent generation (never traversed again), and with `tuned` also collect gen 0
    less often."""
    if choice == "default":
        return
    gc.collect()
    gc.freeze()
    if choice == "tuned":
        gc.set_threshold(50_000, 20, 100)


def _seed(app: Any, count: int, end_ms: int, seed: int) -> None:
    from bench.dataset import make_devices, make_downlinks

    store = app.state.mock.store
    devices = make_devices(seed=seed)
    store.register_devices((d.network_id, d.tags) for d in devices)
    store.seed(make_downlinks(count, end_ms, devices=devices, seed=seed))


def _write_ready(path: Path, port: int, started: float) -> None:
    import os

    ready = {
        "port": port,
        "pid": os.getpid(),
        "rss_kib": rss_kib(),
        "load_seconds": round(time.perf_counter() - started, 2),
    }
    path.write_bytes(orjson.dumps(ready) + b"\n")


def _run_cli(args: argparse.Namespace, serve_options: list[str]) -> int:
    """`downlinks-mock serve --port P [options]`, its store filled on creation."""
    import mock_server.app
    from mock_server.cli.main import cli

    started = time.perf_counter()
    create_app = mock_server.app.create_app

    def create_and_fill(config: Any = None, **kw: Any) -> Any:
        if args.journal == "off":
            config = dataclasses.replace(config, journal_size=0)
        app = create_app(config, **kw)
        _seed(app, args.count, args.end_ms, args.seed)
        apply_gc(args.gc)
        _write_ready(args.ready, args.port, started)
        return app

    mock_server.app.create_app = create_and_fill  # `serve` imports it when it runs
    code: Any = 0
    try:
        cli.main(["serve", "--port", str(args.port), *serve_options], prog_name="downlinks-mock")
    except SystemExit as exc:
        code = exc.code
    return int(code or 0)


def _serve(app: Any, server: str, port: int) -> None:
    if server == "granian":
        import asyncio

        from granian.constants import Interfaces
        from granian.server.embed import Server

        asyncio.run(Server(app, address="127.0.0.1", port=port, interface=Interfaces.ASGI).serve())
        return
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=port, **UVICORN_SETTINGS)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    serve_options: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, serve_options = argv[:at], argv[at + 1 :]
    parser = argparse.ArgumentParser(prog="python -m bench.serve", description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    mock = sub.add_parser("mock", help="`downlinks-mock serve` with COUNT stored downlinks")
    app = sub.add_parser("app", help="the mock's app on an explicit server, no access log")
    for p in (mock, app):
        p.add_argument("--count", type=int, required=True)
        p.add_argument("--end-ms", type=int, required=True, help="newest createdAt, epoch ms")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--gc", choices=GC_CHOICES, default="default")
    mock.add_argument(
        "--journal",
        choices=("on", "off"),
        default="on",
        help="off: the request journal off (MockConfig(journal_size=0)), to measure its cost",
    )
    bare = sub.add_parser("baseline", help="bare Starlette serving fixed bytes")
    bare.add_argument("--one", type=Path, required=True)
    bare.add_argument("--page", type=Path, required=True)
    bare.add_argument("--created", type=Path, required=True)
    for p in (mock, app, bare):
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--ready", type=Path, required=True)
    for p in (app, bare):
        p.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn")
    args = parser.parse_args(argv)

    if args.what == "mock":
        return _run_cli(args, serve_options)
    started = time.perf_counter()
    if args.what == "app":
        from mock_server.app import create_app

        served = create_app()
        _seed(served, args.count, args.end_ms, args.seed)
        apply_gc(args.gc)
    else:
        from bench.baseline import baseline_app

        served = baseline_app(
            args.one.read_bytes(), args.page.read_bytes(), args.created.read_bytes()
        )
    _write_ready(args.ready, args.port, started)
    _serve(served, args.server, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
