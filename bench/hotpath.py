"""CPU per request of the mock's hot paths, in process: no server, no socket, no wrk.

    python bench/hotpath.py --base 908920b          # this tree against a commit, same run
    python bench/hotpath.py --profile post          # cProfile's top frames of one kind

Drives the ASGI app of `create_app` (default MockConfig: lenient auth, real clock, the
journal on) with a minimal ASGI call loop, over a store filled as bench/serve.py fills it,
and takes `time.process_time()` around N requests of each kind: GET one, a 50-item page
rendered afresh (a new `createdBefore` past the newest downlink each time: no page-cache
hit), POST create, and the mixed 9 GET : 1 POST of bench/http_load.py. With `--base` the
same requests run against the code of that commit (`git archive`, in a child process),
alternating with this tree's, and the best round of each is compared.

`--setups` measures the same kinds on mocks set up otherwise, side by side in one child:
`default`, `no-journal` (`MockConfig(journal_size=0)`: the request journal off) and
`access-log` (the default app wrapped in `mock_server.accesslog.AccessLog`, as `serve`
runs it, writing to /dev/null): the cost of the journal and of the access log, in process.

    python bench/hotpath.py --setups default no-journal access-log --count 10000
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

__all__ = ["main"]

REPO = Path(__file__).resolve().parent.parent
KINDS = ("one", "page", "post", "mixed")
SETUPS = ("default", "no-journal", "access-log")
_END_MS = 1_764_000_000_000
_DAY = 86_400_000


def _requests(
    count: int, setup: str = "default"
) -> tuple[Any, dict[str, list[tuple[str, str, bytes]]]]:
    """The app over a filled store, and each kind's cycle of (method, path, query)."""
    from bench.dataset import SPAN_MS, create_body, make_devices, make_downlinks
    from mock_server.app import create_app
    from mock_server.config import MockConfig
    from mock_server.domain.timefmt import format_ms

    app = create_app(MockConfig(journal_size=0 if setup == "no-journal" else 1000))
    store = app.state.mock.store
    devices = make_devices()
    store.register_devices((d.network_id, d.tags) for d in devices)
    store.seed(make_downlinks(count, _END_MS, devices=devices))
    later = _END_MS + 3_600_000

    def iso(ms: int) -> str:
        return quote(format_ms(ms), safe="")

    page = [("GET", "/downlinks", f"createdBefore={iso(later + k)}") for k in range(20_000)]
    since = _END_MS - SPAN_MS // 2
    mixed: list[tuple[str, str, str]] = []
    for k, device in enumerate(devices):
        network = quote(device.network_id, safe="")
        mixed += [
            ("GET", "/downlinks", ""),
            ("GET", "/downlinks", "sort=-createdAt"),
            ("GET", "/downlinks", f"q={network}"),
            ("GET", "/downlinks", f"q={quote(device.tags['site'], safe='')}&sort=-modifiedAt"),
            ("GET", "/downlinks", f"createdSince={iso(since + k * _DAY // 10)}&limit=20"),
            ("GET", "/downlinks", f"sort=modifiedAt&q={network}"),
            ("GET", "/downlinks", f"q={quote(device.tags['name'], safe='')}"),
            ("GET", "/downlinks", "sort=-modifiedAt&limit=25"),
            ("GET", "/downlinks", f"modifiedSince={iso(since)}&sort=-createdAt"),
            ("POST", "/downlinks", ""),
        ]
    app.state.body = create_body(devices[0])
    cycles = {
        "page": page,
        "post": [("POST", "/downlinks", "")],
        "mixed": mixed,
    }
    return app, {k: [(m, p, q.encode()) for m, p, q in v] for k, v in cycles.items()}


class _Driver:
    """Calls the app as an ASGI server would, one request at a time."""

    def __init__(self, app: Any) -> None:
        from bench.dataset import OWNER
        from mock_server.http.auth import mint_token

        self.app = app
        self.body: bytes = app.state.body
        auth = f"Bearer {mint_token(OWNER)}".encode()
        self.get_headers = [(b"host", b"127.0.0.1:8080"), (b"authorization", auth)]
        self.post_headers = [
            *self.get_headers,
            (b"content-type", b"application/json"),
            (b"content-length", str(len(self.body)).encode()),
        ]

    async def call(self, method: str, path: str, query: bytes) -> tuple[int, bytes]:
        post = method == "POST"
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query,
            "root_path": "",
            "headers": self.post_headers if post else self.get_headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8080),
            "state": {},
        }
        sent = False
        body = self.body if post else b""
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)

    async def run(self, cycle: list[tuple[str, str, bytes]], n: int, start: int) -> None:
        for i in range(start, start + n):
            method, path, query = cycle[i % len(cycle)]
            status, body = await self.call(method, path, query)
            if status not in (200, 201):
                raise RuntimeError(f"{method} {path}?{query!r}: {status} {body[:300]!r}")


def _child(
    count: int, n: int, rounds: int, kinds: list[str], setup: str = "default"
) -> dict[str, list[float]]:
    app, cycles = _requests(count, setup)
    driver = _Driver(app)
    if setup == "access-log":
        from mock_server.accesslog import AccessLog

        driver.app = AccessLog(app, stream=open(os.devnull, "w"))  # noqa: SIM115
    loop = asyncio.new_event_loop()
    one_id = orjson.loads(loop.run_until_complete(driver.call("GET", "/downlinks", b""))[1])[
        "items"
    ][25]["id"]
    cycles["one"] = [("GET", f"/downlinks/{one_id}", b"")]
    out: dict[str, list[float]] = {k: [] for k in kinds}
    offset = dict.fromkeys(kinds, 0)
    for kind in kinds:  # warm-up: caches, lazily built tables
        loop.run_until_complete(driver.run(cycles[kind], 200, offset[kind]))
        offset[kind] += 200
    for _ in range(rounds):
        for kind in kinds:
            started = time.process_time()
            loop.run_until_complete(driver.run(cycles[kind], n, offset[kind]))
            out[kind].append((time.process_time() - started) / n * 1e6)
            offset[kind] += n
    loop.close()
    return out


def _profile(count: int, n: int, kind: str, top: int) -> None:
    app, cycles = _requests(count)
    driver = _Driver(app)
    loop = asyncio.new_event_loop()
    one_id = orjson.loads(loop.run_until_complete(driver.call("GET", "/downlinks", b""))[1])[
        "items"
    ][25]["id"]
    cycles["one"] = [("GET", f"/downlinks/{one_id}", b"")]
    loop.run_until_complete(driver.run(cycles[kind], 200, 0))
    profiler = cProfile.Profile()
    profiler.enable()
    loop.run_until_complete(driver.run(cycles[kind], n, 200))
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(out.getvalue())


def _run_tree(root: Path, args: argparse.Namespace, setup: str) -> dict[str, list[float]]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        str(root),
        "--count",
        str(args.count),
        "-n",
        str(args.n),
        "--rounds",
        str(args.rounds),
        *args.kinds,
        *(["--setup", setup] if setup != "default" else []),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, check=True)
    result: dict[str, list[float]] = orjson.loads(done.stdout.splitlines()[-1])
    return result


def _extract(commit: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=REPO, capture_output=True, check=True
    ).stdout
    into.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kinds", nargs="*", default=list(KINDS))
    parser.add_argument("--count", type=int, default=100_000, help="stored downlinks")
    parser.add_argument("-n", type=int, default=2000, help="requests per kind and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--base", help="a commit to compare with (git archive)")
    parser.add_argument("--head", help="a commit to measure in place of this tree")
    parser.add_argument("--repeat", type=int, default=2, help="child runs per tree")
    parser.add_argument("--profile", metavar="KIND", help="cProfile one kind, this tree")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument(
        "--setups",
        nargs="+",
        choices=SETUPS,
        help="measure this tree set up in these ways, side by side (not with --base/--head)",
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--setup", choices=SETUPS, default="default", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        sys.path.insert(0, str(args.child))
        result = _child(args.count, args.n, args.rounds, args.kinds, args.setup)
        print(orjson.dumps(result).decode())
        return 0
    sys.path.insert(0, str(REPO))
    if args.profile:
        _profile(args.count, args.n, args.profile, args.top)
        return 0
    best: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        trees = [("this tree", REPO, "default")]
        if args.setups:
            trees = [(setup, REPO, setup) for setup in args.setups]
        elif args.head:
            trees = [(args.head, _extract(args.head, Path(tmp) / "head"), "default")]
        if args.base and not args.setups:
            trees.insert(0, (args.base, _extract(args.base, Path(tmp) / "base"), "default"))
        for _ in range(args.repeat):
            for name, root, setup in trees:
                for kind, rounds in _run_tree(root, args, setup).items():
                    seen = best.setdefault(name, {})
                    seen[kind] = min(seen.get(kind, float("inf")), *rounds)
    names = [name for name, _, _ in trees]
    print(
        f"CPU per request, best round of {args.rounds} x {args.repeat} runs, N = {args.n}, "
        f"{args.count:,} stored"
    )
    header = f"{'kind':<8}" + "".join(f"{n:>14}" for n in names)
    compared = bool(args.base) and not args.setups
    print(header + ("   this / base" if compared else ""))
    for kind in args.kinds:
        row = f"{kind:<8}" + "".join(f"{best[n][kind]:>11.1f} us" for n in names)
        if compared:
            row += f"   {best[names[1]][kind] / best[names[0]][kind]:>10.2f}x"
        elif args.setups and len(names) > 1:
            # What each other setup saves against the first: the cost of what it leaves out.
            first = best[names[0]][kind]
            row += "".join(f"   {1 - best[n][kind] / first:>+6.1%}" for n in names[1:])
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
