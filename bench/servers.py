"""uvicorn against granian, for the mock and for the bare app alike, in one run.

    python bench/servers.py [--count 1000] [--rounds 2] [--duration 5]

Four servers side by side on 127.0.0.1: the mock's app (`create_app()` defaults, its store
filled as bench/http_load.py fills it) and the bare app (bench/baseline.py, the same
bytes), each under uvicorn (uvloop, httptools, one worker) and under granian (embedded,
ASGI interface, one worker), none with an access log. wrk loads each with GET one, a
rendered page, POST create, in interleaved rounds. The ratio granian / uvicorn per app
and request tells whether offering `serve --server granian` is worth it (the issue asks
for 20% or more).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dataset import OWNER
from bench.http_load import (
    GET_ONE,
    PAGE,
    PAGE_HIT,
    POST,
    Mode,
    Row,
    Server,
    bench_server,
    find_targets,
    raise_priority,
    run_rounds,
)
from bench.loadgen import find_wrk
from mock_server.http.auth import mint_token

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args(argv)
    raise_priority()
    mode = Mode("servers", (args.count, args.count), args.rounds, args.duration, 2.0)
    wrk = find_wrk()
    end_ms = time.time_ns() // 1_000_000
    token = mint_token(OWNER)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="servers-") as tmp_name, ExitStack() as stack:
        tmp = Path(tmp_name)
        data = ["--count", str(args.count), "--end-ms", str(end_ms)]
        servers: dict[str, Server] = {}
        for name in ("uvicorn", "granian"):
            servers[f"mock, {name}"] = stack.enter_context(
                bench_server(name, ["app", *data, "--server", name], tmp / f"mock-{name}.log", 600)
            )
        targets = find_targets(servers["mock, uvicorn"].url, token, args.count, end_ms)
        files = {}
        for key, body in (
            ("one", targets.one_body),
            ("page", targets.page_body),
            ("created", targets.created_body),
        ):
            files[key] = tmp / f"{key}.json"
            files[key].write_bytes(body)
        bare = ["baseline", *(f"--{k}={v}" for k, v in files.items())]
        for name in ("uvicorn", "granian"):
            servers[f"bare, {name}"] = stack.enter_context(
                bench_server(name, [*bare, "--server", name], tmp / f"bare-{name}.log", 60)
            )
        jobs = []
        for label, server in servers.items():
            kinds = (GET_ONE, PAGE, POST) if label.startswith("mock") else (GET_ONE, PAGE_HIT, POST)
            for kind in kinds:
                row = Row(args.count, label, kind)
                rows.append(row)
                jobs.append((row, server, targets.loads[kind], mode.warmup))
        # Reads first, creates last (they grow the store).
        run_rounds([j for j in jobs if j[0].kind != POST], wrk, mode)
        run_rounds([j for j in jobs if j[0].kind == POST], wrk, mode)
    by = {(r.server, r.kind): r for r in rows}
    print(
        "\n| app | request | uvicorn req/s | granian req/s | granian / uvicorn "
        "| uvicorn CPU us/req | granian CPU us/req | uvicorn p99 ms | granian p99 ms |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for app in ("mock", "bare"):
        for kind in (GET_ONE, PAGE if app == "mock" else PAGE_HIT, POST):
            u, g = by[(f"{app}, uvicorn", kind)], by[(f"{app}, granian", kind)]
            print(
                f"| {app} | {kind} | {u.rps:,.0f} | {g.rps:,.0f} | {g.rps / u.rps:.2f}x "
                f"| {u.cpu_us:,.0f} | {g.cpu_us:,.0f} | {u.p99_ms:.1f} | {g.p99_ms:.1f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
