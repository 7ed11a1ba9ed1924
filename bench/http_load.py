"""HTTP load on the mock as users start it, against a bare app and WireMock in the same run.

    python bench/http_load.py              # 1,000 and 1,000,000 stored (about 12 minutes)
    python bench/http_load.py --quick      # 1,000 and 100,000 stored (about 4 minutes)
    python bench/http_load.py --variants   # also: --log-level warning, gc.freeze()
    python bench/http_load.py --no-costs   # without the access log's and journal's costs

For each store size three servers run side by side on 127.0.0.1, each in a process of its
own (bench/serve.py):

- the mock, started as `downlinks-mock serve` starts it (the CLI's own command, every
  default: uvicorn, access log on, log level info, request journal, real clock), its
  store filled before it listens (bench/dataset.py);
- the bare baseline: Starlette on uvicorn (uvloop, httptools, no access log) answering
  the very bytes the mock answered (one downlink, a 50-item page, a create's 201);
- the mock again with `--no-access-log`, and again with its request journal off
  (`serve --journal-size 0`): what the access log and the journal cost, as the share of
  the default mock's CPU per request (and req/s) that each takes;
- WireMock standalone (where Java and its jar are found; the npm package `wiremock`
  ships the jar, installed into a cache outside the repository) answering the same bytes
  as static stubs, its request journal bounded to 1,000 entries like the mock's.

The load comes from wrk (installed with apt-get when missing and running as root), one
thread, 32 keep-alive connections; every request kind gets a warm-up, then rounds
interleaved with every other kind so that a busy spell of the machine hits them alike.
Every figure is printed with its ratio to the bare app measured in the same run (by req/s
and by the server's CPU time per request). Every wait has a deadline; the script exits
0 whether the targets are met or not (1 only when it could not run), and writes its
tables into docs/performance.md between markers, with the command that made them.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

if __package__ in (None, ""):
    # Run as a script: make `bench` importable from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import orjson

from bench.dataset import DEVICE_COUNT, OWNER, SPAN_MS, create_body, make_devices
from bench.loadgen import Load, LoadResult, find_wrk, run_load
from bench.wiremock import find_wiremock, wiremock_server
from mock_server.domain.timefmt import format_ms
from mock_server.http.auth import mint_token
from mock_server.server import free_port

__all__ = ["main"]

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs" / "performance.md"
CONNECTIONS = 32
_DAY = 24 * 3_600_000
DISTINCT_PAGES = 4096  # more than the page cache holds (1,024): every page is rendered

# The targets.
GET_ONE_MIN = 0.6  # x bare
PAGE_MIN = 0.5
POST_MIN = 0.3
MIXED_MIN = 0.35
VS_WIREMOCK_MIN = 1.0
P99_MAX_MS = 20.0
Q_SCALE_MAX = 2.0  # q at the large store / q at the small one, CPU per request


@dataclass(frozen=True)
class Mode:
    """How big and how long."""

    name: str
    sizes: tuple[int, int]
    rounds: int  # each kind is run this many times, interleaved with the others
    duration: float  # seconds of each measured run
    warmup: float  # seconds of load before the first round, not measured


FULL = Mode("full", (1_000, 1_000_000), 2, 5.0, 2.0)
QUICK = Mode("quick", (1_000, 100_000), 1, 3.0, 1.0)

# Request kinds, in the order of the tables.
GET_ONE = "GET one"
PAGE_HIT = "page (cache hit)"
PAGE = "page (every page rendered)"
Q_NETWORK = "q = networkId"
Q_TAG = "q = tag value"
POST = "POST create"
MIXED = "mixed 9 GET : 1 POST"
READS = (GET_ONE, PAGE_HIT, PAGE, Q_NETWORK, Q_TAG)
WRITES = (MIXED, POST)  # the mixed load first: the POST run adds thousands of live downlinks
# What each kind is compared with on the bare app and on WireMock (the same bytes).
BARE_KIND = {
    GET_ONE: GET_ONE,
    PAGE_HIT: PAGE_HIT,
    PAGE: PAGE_HIT,
    Q_NETWORK: PAGE_HIT,
    Q_TAG: PAGE_HIT,
    POST: POST,
    MIXED: MIXED,
}


@dataclass
class Row:
    """One request kind on one server at one store size, over several rounds."""

    stored: int
    server: str  # mock, bare, wiremock, or a variant of the mock
    kind: str
    runs: list[LoadResult] = field(default_factory=list)
    cpu_seconds: float = 0.0  # the server's CPU time over every round
    vs_bare: float | None = None  # req/s against the bare app's
    vs_bare_cpu: float | None = None  # the bare app's CPU per request / this one's
    vs_wiremock: float | None = None  # req/s against WireMock's

    @property
    def rps(self) -> float:
        """Requests per second over every round."""
        seconds = sum(r.seconds for r in self.runs)
        return sum(r.requests for r in self.runs) / seconds if seconds else 0.0

    @property
    def p50_ms(self) -> float:
        return max(r.p50_ms for r in self.runs)

    @property
    def p99_ms(self) -> float:
        """The worst round's p99: a stall shows, whichever round it fell in."""
        return max(r.p99_ms for r in self.runs)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.runs)

    @property
    def cpu_us(self) -> float:
        """Server CPU time per request (user + system), over every round."""
        requests = sum(r.requests for r in self.runs)
        return self.cpu_seconds / requests * 1e6 if requests else 0.0


@dataclass(frozen=True)
class Server:
    """A running server: its name, base URL and process id (for its CPU time)."""

    name: str
    url: str
    pid: int
    load_seconds: float = 0.0
    rss_kib: int = 0


# -- servers ----------------------------------------------------------------------


@contextmanager
def bench_server(name: str, args: list[str], log: Path, timeout: float) -> Iterator[Server]:
    """Start `python -m bench.serve ARGS` with its output into `log`; yield it; stop it."""
    port = free_port()
    ready_file = log.with_suffix(".ready")
    command = [sys.executable, "-m", "bench.serve", *_with_port(args, port, ready_file)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while not ready_file.exists() or not ready_file.read_bytes().endswith(b"\n"):
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited: {log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not load its data within {timeout:.0f} s")
            time.sleep(0.1)
        ready = orjson.loads(ready_file.read_bytes())
        url = f"http://127.0.0.1:{port}"
        wait_answering(url, proc, deadline=time.monotonic() + 60)
        yield Server(name, url, proc.pid, ready["load_seconds"], ready["rss_kib"])
    finally:
        stop(proc)


def _with_port(args: list[str], port: int, ready: Path) -> list[str]:
    extra = ["--port", str(port), "--ready", str(ready)]
    if "--" in args:
        at = args.index("--")
        return [*args[:at], *extra, *args[at:]]
    return [*args, *extra]


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


def wait_answering(base: str, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while True:
        try:
            httpx.get(base + "/downlinks/none", timeout=2)
            return
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server on {base} does not answer") from None
            time.sleep(0.1)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` (all its threads) so far, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# -- the requests -------------------------------------------------------------------


@dataclass
class Targets:
    """The loads for one store, checked over HTTP before any load runs."""

    loads: dict[str, Load]
    one_body: bytes
    page_body: bytes
    created_body: bytes


def _iso(ms: int) -> str:
    return quote(format_ms(ms), safe="")


def find_targets(base: str, token: str, stored: int, end_ms: int) -> Targets:
    """Build each kind and check its answers; RuntimeError when one is wrong."""
    auth = {"Authorization": f"Bearer {token}"}
    devices = make_devices()
    # createdBefore past the newest downlink changes the query but not the page: the
    # mock renders the same first page afresh for each of these paths.
    later = end_ms + 3_600_000
    rendered = [f"/downlinks?createdBefore={_iso(later + k)}" for k in range(DISTINCT_PAGES)]
    by_network = [
        f"/downlinks?q={quote(devices[k % len(devices)].network_id, safe='')}"
        f"&createdBefore={_iso(later + k)}"
        for k in range(DISTINCT_PAGES)
    ]
    by_tag = [
        f"/downlinks?q={quote(devices[k % len(devices)].tags['name'], safe='')}"
        f"&createdBefore={_iso(later + k)}"
        for k in range(DISTINCT_PAGES)
    ]
    # The mixed workload: 9 reads of varied pages, sorts and filters, then 1 create.
    since = end_ms - SPAN_MS // 2
    mixed: list[tuple[str, str]] = []
    for k in range(DEVICE_COUNT):
        device = devices[k]
        network = quote(device.network_id, safe="")
        mixed += [
            ("GET", "/downlinks"),
            ("GET", "/downlinks?sort=-createdAt"),
            ("GET", f"/downlinks?q={network}"),
            ("GET", f"/downlinks?q={quote(device.tags['site'], safe='')}&sort=-modifiedAt"),
            ("GET", f"/downlinks?createdSince={_iso(since + k * _DAY // 10)}&limit=20"),
            ("GET", f"/downlinks?sort=modifiedAt&q={network}"),
            ("GET", f"/downlinks?q={quote(device.tags['name'], safe='')}"),
            ("GET", "/downlinks?sort=-modifiedAt&limit=25"),
            ("GET", f"/downlinks?modifiedSince={_iso(since)}&sort=-createdAt"),
            ("POST", "/downlinks"),
        ]

    with httpx.Client(base_url=base, headers=auth, timeout=60) as client:

        def get(path: str) -> httpx.Response:
            answer = client.get(path)
            if answer.status_code != 200:
                raise RuntimeError(f"GET {path}: {answer.status_code} {answer.text[:300]}")
            return answer

        first = get("/downlinks")
        items = first.json()["items"]
        if len(items) != min(50, stored) or ("next" in first.json()) != (stored > 50):
            raise RuntimeError("the first page is not a full page of 50 with a next link")
        if get(rendered[0]).json()["items"] != items:
            raise RuntimeError("a createdBefore past the newest gives another first page")
        one_id = items[len(items) // 2]["id"]
        one = get(f"/downlinks/{one_id}")
        if one.json()["id"] != one_id:
            raise RuntimeError("GET one answered another downlink")
        for k in (0, 1, 2):
            matched = get(by_network[k]).json()["items"]
            if not matched or any(d["networkId"] != devices[k].network_id for d in matched):
                raise RuntimeError("the q page holds downlinks of other devices")
            tagged = get(by_tag[k]).json()["items"]
            if not tagged or any(d["networkId"] != devices[k].network_id for d in tagged):
                raise RuntimeError("the q = tag value page holds downlinks of other devices")
        for _method, path in mixed[:9]:
            get(path)
        body = create_body(devices[0])
        created = client.post(
            "/downlinks", content=body, headers={"Content-Type": "application/json"}
        )
        if created.status_code != 201:
            raise RuntimeError(f"POST: {created.status_code} {created.text[:300]}")

    post_headers = {**auth, "Content-Type": "application/json"}
    return Targets(
        loads={
            GET_ONE: Load("GET", f"/downlinks/{one_id}", auth),
            PAGE_HIT: Load("GET", "/downlinks", auth),
            PAGE: Load("GET", rendered[0], auth, mix=tuple(("GET", p) for p in rendered)),
            Q_NETWORK: Load("GET", by_network[0], auth, mix=tuple(("GET", p) for p in by_network)),
            Q_TAG: Load("GET", by_tag[0], auth, mix=tuple(("GET", p) for p in by_tag)),
            POST: Load("POST", "/downlinks", post_headers, body),
            MIXED: Load("GET", "/downlinks", post_headers, body, mix=tuple(mixed)),
        },
        one_body=one.content,
        page_body=first.content,
        created_body=created.content,
    )


# -- running ------------------------------------------------------------------------

Job = tuple[Row, Server, Load, float]  # the row, its server, the load, its warm-up


def run_rounds(jobs: list[Job], wrk: str | None, mode: Mode) -> None:
    """Every job `mode.rounds` times, round-robin; each warmed up before its first round."""
    for round_ in range(mode.rounds):
        for row, server, load, warmup in jobs:
            if round_ == 0 and warmup:
                run_load(wrk, server.url, load, connections=CONNECTIONS, duration=warmup)
            before = cpu_seconds(server.pid)
            result = run_load(
                wrk, server.url, load, connections=CONNECTIONS, duration=mode.duration
            )
            row.cpu_seconds += cpu_seconds(server.pid) - before
            row.runs.append(result)
            print(
                f"    {row.server:<22} {row.kind:<27} {result.rps:>8,.0f} req/s  "
                f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms"
                + (f"  errors {result.errors}" if result.errors else ""),
                flush=True,
            )


@dataclass(frozen=True)
class Variant:
    """Another mock of the same store: a name, its serve options, the kinds it runs."""

    name: str
    args: tuple[str, ...]
    kinds: tuple[str, ...]


# What the access log and the request journal cost: the same mock without each, measured
# in every run beside the default one (`--no-costs` to skip them).
NO_ACCESS_LOG = "mock --no-access-log"
NO_JOURNAL = "mock, journal off"
COST_KINDS = (GET_ONE, PAGE, MIXED, POST)
COSTS = (
    Variant(NO_ACCESS_LOG, ("--", "--no-access-log"), COST_KINDS),
    # `serve --journal-size 0`: bench/serve.py sets MockConfig(journal_size=0).
    Variant(NO_JOURNAL, ("--journal", "off"), COST_KINDS),
)
COST_MAX = 0.10  # of throughput, judged by CPU per request (the steadier figure)
VARIANTS = (
    Variant("mock --log-level warning", ("--", "--log-level", "warning"), (GET_ONE, PAGE, MIXED)),
    Variant("mock + gc.freeze()", ("--gc", "freeze"), (POST, MIXED)),
)


def bench_store(
    stored: int,
    wrk: str | None,
    mode: Mode,
    token: str,
    wiremock_jar: Path | None,
    variants: tuple[Variant, ...],
    tmp: Path,
) -> tuple[list[Row], dict[str, Any]]:
    """Every kind at one store size on the mock, the bare app and WireMock."""
    end_ms = time.time_ns() // 1_000_000
    started = time.monotonic()
    data = ["--count", str(stored), "--end-ms", str(end_ms)]
    rows: list[Row] = []
    info: dict[str, Any] = {"stored": stored}
    with ExitStack() as stack:
        mock = stack.enter_context(
            bench_server("mock", ["mock", *data], tmp / f"mock-{stored}.log", 900)
        )
        print(
            f"  {stored:,} stored: `downlinks-mock serve` loaded in {mock.load_seconds} s, "
            f"RSS {mock.rss_kib / 1024:.0f} MiB",
            flush=True,
        )
        info.update(load_seconds=mock.load_seconds, rss_after_load_kib=mock.rss_kib)
        targets = find_targets(mock.url, token, stored, end_ms)
        one, page, created = tmp / "one.json", tmp / "page.json", tmp / "created.json"
        one.write_bytes(targets.one_body)
        page.write_bytes(targets.page_body)
        created.write_bytes(targets.created_body)
        bare_args = ["baseline", "--one", str(one), "--page", str(page), "--created", str(created)]
        bare = stack.enter_context(bench_server("bare", bare_args, tmp / "bare.log", 60))
        servers = [
            (bare, tuple(k for k in BARE_KIND.values() if k in (GET_ONE, PAGE_HIT, POST, MIXED)))
        ]
        if wiremock_jar is not None:
            wm = stack.enter_context(
                wiremock_server(
                    wiremock_jar,
                    one_path=targets.loads[GET_ONE].path,
                    one=targets.one_body,
                    page=targets.page_body,
                    created=targets.created_body,
                    workdir=tmp / f"wiremock-{stored}",
                )
            )
            servers.append((Server("wiremock", wm.url, wm.pid), (GET_ONE, PAGE_HIT, POST)))
        servers.append((mock, (*READS, *WRITES)))
        for variant in variants:
            name = f"{variant.name}"
            args = ["mock", *data, *variant.args]
            log = tmp / f"{name.replace(' ', '_')}-{stored}.log"
            server = stack.enter_context(bench_server(name, args, log, 900))
            servers.append((server, variant.kinds))

        by_job: dict[tuple[str, str], Row] = {}

        def jobs(kinds: tuple[str, ...], names: tuple[str, ...] | None = None) -> list[Job]:
            out: list[Job] = []
            for server, served in servers:
                if names is not None and server.name not in names:
                    continue
                for kind in kinds:
                    if kind in served:
                        row = by_job.get((server.name, kind))
                        warm = 0.0  # a row measured before is warm
                        if row is None:
                            row = by_job[server.name, kind] = Row(stored, server.name, kind)
                            rows.append(row)
                            # The JVM compiles its hot paths in the first seconds of load.
                            warm = mode.warmup * (3 if server.name == "wiremock" else 1)
                        out.append((row, server, targets.loads[kind], warm))
            return out

        run_rounds(jobs(READS), wrk, mode)
        # Creates go last: they grow the store that the reads read.
        run_rounds(jobs(WRITES), wrk, mode)
        if any(v in COSTS for v in variants):
            # A cost of a few percent needs more rounds than the machine's noise: the
            # default mock and the mocks without the access log and the journal again.
            names = ("mock", *(v.name for v in variants if v in COSTS))
            run_rounds(jobs(COST_KINDS, names), wrk, mode)
        info.update(rss_end_kib=rss_kib(mock.pid), seconds=round(time.monotonic() - started, 1))
    compare(rows)
    return rows, info


def compare(rows: list[Row]) -> None:
    """Fill in each row's ratios to the bare app and to WireMock of the same store."""
    by = {(r.stored, r.server, r.kind): r for r in rows}
    for r in rows:
        if r.server in ("bare", "wiremock"):
            if r.server == "wiremock" and (bare := by.get((r.stored, "bare", r.kind))):
                r.vs_bare = r.rps / bare.rps if bare.rps else 0.0
                r.vs_bare_cpu = bare.cpu_us / r.cpu_us if r.cpu_us else 0.0
            continue
        bare = by.get((r.stored, "bare", BARE_KIND[r.kind]))
        if bare is not None:
            r.vs_bare = r.rps / bare.rps if bare.rps else 0.0
            r.vs_bare_cpu = bare.cpu_us / r.cpu_us if r.cpu_us else 0.0
        wm = by.get((r.stored, "wiremock", BARE_KIND[r.kind]))
        if wm is not None:
            r.vs_wiremock = r.rps / wm.rps if wm.rps else 0.0


# -- reporting ----------------------------------------------------------------------


def _x(value: float | None) -> str:
    return f"{value:.2f}x" if value is not None else ""


def table(rows: list[Row]) -> str:
    lines = [
        "| stored | server | request | req/s | p50 ms | p99 ms | CPU us/req | vs bare "
        "| vs bare (CPU) | vs WireMock | errors |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.stored:,} | {r.server} | {r.kind} | {r.rps:,.0f} | {r.p50_ms:.2f} "
            f"| {r.p99_ms:.2f} | {r.cpu_us:,.0f} | {_x(r.vs_bare)} | {_x(r.vs_bare_cpu)} "
            f"| {_x(r.vs_wiremock)} | {r.errors} |"
        )
    return "\n".join(lines)


def verdicts(rows: list[Row], sizes: tuple[int, int]) -> list[tuple[str, bool, str]]:
    """(target, met, the figures) for each of the issue's targets, on the default mock."""
    by = {(r.stored, r.server, r.kind): r for r in rows}
    out: list[tuple[str, bool, str]] = []
    for stored in sizes:
        for kind, least in (
            (GET_ONE, GET_ONE_MIN),
            (PAGE, PAGE_MIN),
            (POST, POST_MIN),
            (MIXED, MIXED_MIN),
        ):
            r = by[(stored, "mock", kind)]
            out.append(
                (
                    f"{kind} >= {least}x bare ({stored:,})",
                    (r.vs_bare or 0) >= least,
                    f"{_x(r.vs_bare)} by req/s, {_x(r.vs_bare_cpu)} by CPU",
                )
            )
        for kind in (GET_ONE, PAGE):
            r = by[(stored, "mock", kind)]
            if r.vs_wiremock is not None:
                out.append(
                    (
                        f"{kind} >= {VS_WIREMOCK_MIN}x WireMock ({stored:,})",
                        r.vs_wiremock >= VS_WIREMOCK_MIN,
                        _x(r.vs_wiremock),
                    )
                )
        for kind in (*READS, *WRITES):
            r = by[(stored, "mock", kind)]
            out.append(
                (
                    f"p99 <= {P99_MAX_MS:g} ms: {kind} ({stored:,})",
                    r.p99_ms <= P99_MAX_MS,
                    f"{r.p99_ms:.2f} ms",
                )
            )
    small, large = sizes
    for kind in (Q_NETWORK, Q_TAG):
        a, b = by[(small, "mock", kind)], by[(large, "mock", kind)]
        scale = b.cpu_us / a.cpu_us if a.cpu_us else float("inf")
        out.append(
            (
                f"{kind} at {large:,} within {Q_SCALE_MAX:g}x of {small:,}",
                scale <= Q_SCALE_MAX,
                f"{scale:.2f}x by CPU per request ({a.cpu_us:,.0f} -> {b.cpu_us:,.0f} us)",
            )
        )
    for without, what in (
        (NO_ACCESS_LOG, "the access log"),
        (NO_JOURNAL, "the journal"),
        ("mock --log-level warning", "log level info"),
    ):
        costs: dict[int, list[float]] = {}
        for r in rows:
            with_ = by.get((r.stored, "mock", r.kind))
            if r.server != without or with_ is None or not r.rps or not with_.cpu_us:
                continue
            cost = 1 - with_.rps / r.rps
            cpu_cost = 1 - r.cpu_us / with_.cpu_us
            costs.setdefault(r.stored, []).append(cpu_cost)
            out.append(
                (
                    f"{what} costs <= {COST_MAX:.0%}: {r.kind} ({r.stored:,})",
                    cpu_cost <= COST_MAX,
                    f"{cpu_cost:.1%} of CPU per request ({with_.cpu_us:,.0f} vs "
                    f"{r.cpu_us:,.0f} us without), {cost:.1%} of req/s "
                    f"({with_.rps:,.0f} vs {r.rps:,.0f})",
                )
            )
        for stored, found in costs.items():
            mean = sum(found) / len(found)
            out.append(
                (
                    f"{what} costs <= {COST_MAX:.0%}: mean of the {len(found)} kinds ({stored:,})",
                    mean <= COST_MAX,
                    f"{mean:.1%} of CPU per request",
                )
            )
    for r in rows:
        if r.errors:
            out.append((f"no errors: {r.server} {r.kind} ({r.stored:,})", False, str(r.errors)))
    return out


def machine() -> dict[str, str]:
    import uvicorn

    return {
        "nproc": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "uvicorn": uvicorn.__version__,
        "os": platform.platform(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def raise_priority() -> str:
    """Nice -10 for this process and so for the servers and wrk it starts (as root only):
    other work on the machine then disturbs the mock, the bare app and WireMock alike,
    and less."""
    try:
        os.nice(-10)
    except (OSError, AttributeError):
        return "normal priority"
    return "nice -10"


def write_docs(path: Path, mode: Mode, report: str) -> None:
    """Replace the marked section of `path` for this mode (append it when missing)."""
    write_section(path, f"http-load {mode.name}", "bench/http_load.py", report)


def write_section(path: Path, name: str, writer: str, report: str) -> None:
    """Replace the section `name` of `path` that `writer` marked (append it when missing)."""
    begin = f"<!-- {name}: begin (written by {writer}) -->"
    end = f"<!-- {name}: end -->"
    text = path.read_text() if path.exists() else "# Performance\n"
    block = f"{begin}\n{report.rstrip()}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 100,000, short runs")
    parser.add_argument(
        "--variants",
        action="store_true",
        help="also the mock with --log-level warning and with gc.freeze() after loading, "
        "side by side",
    )
    parser.add_argument(
        "--no-costs",
        action="store_true",
        help="skip the mocks without the access log and without the journal (their costs)",
    )
    parser.add_argument("--no-wiremock", action="store_true", help="skip the WireMock column")
    parser.add_argument(
        "--loadgen",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="wrk (installed when missing) or the asyncio generator; auto: wrk if possible",
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument(
        "--docs", type=Path, default=DOCS, help="where to write the tables (its marked section)"
    )
    parser.add_argument("--no-docs", action="store_true", help="print only")
    raw = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(raw)
    mode = QUICK if args.quick else FULL
    started = time.monotonic()
    command = "python bench/http_load.py" + "".join(f" {shlex.quote(a)}" for a in raw)

    info = machine()
    info["priority"] = raise_priority()
    wrk = None if args.loadgen == "python" else find_wrk(install=True)
    if args.loadgen == "wrk" and wrk is None:
        print("wrk is not installed and could not be installed", file=sys.stderr)
        return 1
    if wrk:
        version = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10)
        info["loadgen"] = (version.stdout or version.stderr).split("\n")[0].split(" [")[0].strip()
    else:
        info["loadgen"] = "python asyncio generator (wrk not available)"
    jar: Path | None = None
    if args.no_wiremock:
        info["wiremock"] = "skipped (--no-wiremock)"
    else:
        jar, info["wiremock"] = find_wiremock()
    info["loadavg_start"] = f"{os.getloadavg()[0]:.2f}"
    print(
        f"machine: {info['nproc']} cores ({info['cpu']}), Python {info['python']}, "
        f"uvicorn {info['uvicorn']}; load: {info['loadgen']}; WireMock: {info['wiremock']}\n"
        f"mode: {mode.name}; stores of {mode.sizes[0]:,} and {mode.sizes[1]:,} downlinks; "
        f"{CONNECTIONS} connections, {mode.warmup:g} s warm-up, {mode.rounds} round(s) of "
        f"{mode.duration:g} s per kind; load average {info['loadavg_start']}",
        flush=True,
    )
    token = mint_token(OWNER)
    rows: list[Row] = []
    stores = []
    variants = (() if args.no_costs else COSTS) + (VARIANTS if args.variants else ())
    try:
        with tempfile.TemporaryDirectory(prefix="http-load-") as tmp:
            for stored in mode.sizes:
                store_rows, store_info = bench_store(
                    stored, wrk, mode, token, jar, variants, Path(tmp)
                )
                rows += store_rows
                stores.append(store_info)
    except (RuntimeError, OSError, subprocess.TimeoutExpired, httpx.HTTPError) as exc:
        print(f"\nthe benchmark could not run: {exc}", file=sys.stderr)
        return 1

    results = verdicts(rows, mode.sizes)
    took = time.monotonic() - started
    info["loadavg_end"] = f"{os.getloadavg()[0]:.2f}"
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = "\n".join(
        [
            f"`{command}` ({when}, {took:.0f} s): {info['nproc']} cores ({info['cpu']}), "
            f"Python {info['python']}, uvicorn {info['uvicorn']}, {info['loadgen']}, "
            f"WireMock: {info['wiremock']}; {info['priority']}; load average {info['loadavg_start']} at the start, "
            f"{info['loadavg_end']} at the end.",
            "",
            table(rows),
            "",
            "| target | met | figures |",
            "|---|---|---|",
            *(f"| {n} | {'PASS' if m else 'MISS'} | {f} |" for n, m, f in results),
        ]
    )
    print("\n" + report)
    if not args.no_docs:
        write_docs(args.docs, mode, report)
        print(f"\nwritten to {args.docs}")
    if args.json:
        data = {
            "command": command,
            "machine": info,
            "mode": asdict(mode),
            "stores": stores,
            "rows": [
                {
                    **{k: v for k, v in asdict(r).items() if k != "runs"},
                    "rps": r.rps,
                    "p50_ms": r.p50_ms,
                    "p99_ms": r.p99_ms,
                    "cpu_us": r.cpu_us,
                    "runs": [{**asdict(x), "rps": x.rps} for x in r.runs],
                }
                for r in rows
            ],
            "targets": [{"target": n, "met": m, "figures": f} for n, m, f in results],
            "seconds": round(took, 1),
        }
        args.json.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
