"""How strong is the contract suite? Mutation testing of the mock's rule-bearing code.

mutmut (3.x) makes the mutants: each is one small change to one function of the
rule-bearing modules (`RULE_BEARING`: the store, query and paging; create validation and
reading; SenML; auth; the lifecycle and the cancel path), or of any file of
`mock_server/{store,domain,openapi,http,timeline}` named with --files (a `<` for a `<=`, a
`True` for a `False`, a string changed, a statement dropped, ...). For each mutant, in a
copy of the project with that one change (and of the suite, frozen when the run starts),
the mock is started once as `downlinks-mock serve` (manual clock, lenient auth) on a free
loopback port, and the contract suite is run once against it in full mode with every rule
enforced, within a time budget (--timeout):

    downlinks-contract run --base-url URL --profile mock --no-schemathesis

The suite is the test that must fail: a mutant is *killed* when the run exits 1 (some
check failed) or the mock cannot start or answer (exit 2, counted apart), and *survives*
when every enforced check passes. The unmutated copy is run first and must pass.

    python bench/mutation.py --list                      # how many mutants, per file
    python bench/mutation.py --sample 160 --seed 2026 --json run.json   # a random sample
    python bench/mutation.py --sample 160 --seed 2026 --survivors-of run.json  # re-measure
    python bench/mutation.py --files 'mock_server/store/*.py' --jobs 2 \\
        --output mutation.md                             # every mutant of the store
    python bench/mutation.py --jobs 2 --output mutation.md   # all of them (hours)

The report gives the score and, for each survivor, its diff: survivors are to be read by
a person, who marks the equivalent ones (no behaviour can tell them apart) and turns the
others into checks. mutmut's own runner is not used: it runs pytest in-process against
its trampolined copy, whereas the suite must judge the mock over HTTP like any client.
"""

from __future__ import annotations

import argparse
import difflib
import fnmatch
import functools
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from mutmut import configuration as mutmut_configuration
from mutmut.mutation.file_mutation import create_mutations

__all__ = ["Mutant", "Outcome", "candidates", "mutant", "mutants", "run_one", "report", "main"]

ROOT = Path(__file__).resolve().parent.parent
# The rule-bearing code, as the contract-suite issue names it: the store with its query,
# keyset paging and cursors; the create body's validation and reading; SenML; auth; the
# lifecycle (moves, logs, the cancel rule) and the cancel path (the public routes). The
# timeline (progressions, scenario files) and the token minting are left to --files.
RULE_BEARING = (
    "mock_server/store/*.py",  # Store, ListQuery, keyset cursors (L, C6, A5, X)
    "mock_server/openapi/validation.py",  # JSON Schema violations and pointers (C1, E2)
    "mock_server/openapi/compiled.py",  # the fast accept/refuse of a create body (C1)
    "mock_server/openapi/create.py",  # reading a create body (C1-C5, C7-C9)
    "mock_server/openapi/values.py",  # parameter coercion, E2 entries (E2, L, X5)
    "mock_server/domain/senml.py",  # C2, C3
    "mock_server/domain/lifecycle.py",  # S1, S2, X1-X4, T2
    "mock_server/domain/model.py",  # the downlink and its views (C7, R2, T1)
    "mock_server/http/auth.py",  # A1-A5
    "mock_server/http/api.py",  # the four public routes, the cancel path (E3, R1, X)
)
PACKAGES = ("store", "domain", "openapi", "http", "timeline")  # what --files may name
# What a copy of the project needs to serve: the package and the data it reads (config.py).
COPIED = ("mock_server", "openapi.json", "scenarios", "fixtures")
# The suite is copied too, from a snapshot taken when the run starts (`snapshot`), so that
# every mutant of a run is judged by the same checks even while the tree is being edited.
SUITE = "contract_tests"
_source = ROOT  # where copies are made from: the project, or the run's snapshot
CLOCK_START = "2026-01-01T00:00:00Z"
START_SECONDS = 30.0  # for the mutated mock to answer M1 before it counts as not starting


@dataclass(frozen=True)
class Mutant:
    """One mutation of one file."""

    path: str  # relative to the project, e.g. "mock_server/store/query.py"
    index: int  # its number among the file's mutations
    line: int  # the first line it changes
    code: str  # the whole mutated file
    diff: str  # unified diff against the original

    @property
    def name(self) -> str:
        return f"{self.path}:{self.line}#{self.index}"


@dataclass
class Outcome:
    """What the suite made of one mutant."""

    mutant: Mutant | None  # None: the unmutated baseline
    verdict: str  # "killed", "survived", "no-start" (killed: the mock did not come up), "timeout"
    seconds: float = 0.0
    failed_checks: list[str] = field(default_factory=list)


def _files(patterns: list[str]) -> list[Path]:
    found = sorted(
        p for pkg in PACKAGES for p in (ROOT / "mock_server" / pkg).rglob("*.py") if p.is_file()
    )
    globs = patterns or list(RULE_BEARING)
    return [p for p in found if any(fnmatch.fnmatch(str(p.relative_to(ROOT)), g) for g in globs)]


def _configure_mutmut() -> None:
    """mutmut reads its settings (which files, which patterns to leave alone) from a
    setup.cfg in the working directory; the project has none, so give it one to read."""
    here = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="downlinks-mutmut-") as scratch:
        (Path(scratch) / "setup.cfg").write_text("[mutmut]\nsource_paths=mock_server\n")
        os.chdir(scratch)
        try:
            mutmut_configuration.reset_config()
            mutmut_configuration.config()
        finally:
            os.chdir(here)


@functools.cache
def _mutations(relative: str) -> tuple[Any, list[Any], str]:
    """mutmut's mutations of one file: (its parsed module, the mutations, the source)."""
    original = (ROOT / relative).read_text(encoding="utf-8")
    module, mutations, _, _ = create_mutations(relative, original)
    return module, mutations, original


def candidates(patterns: list[str]) -> list[tuple[str, int]]:
    """(file, index) of every mutation mutmut makes of the selected files."""
    _configure_mutmut()
    out: list[tuple[str, int]] = []
    for path in _files(patterns):
        relative = str(path.relative_to(ROOT))
        out += [(relative, i) for i in range(len(_mutations(relative)[1]))]
    return out


def mutant(relative: str, index: int) -> Mutant | None:
    """The mutated file for one candidate (None when the change renders as no change)."""
    module, mutations, original = _mutations(relative)
    mutation = mutations[index]
    code = module.deep_replace(mutation.original_node, mutation.mutated_node).code
    if code == original:
        return None
    diff = list(
        difflib.unified_diff(
            original.splitlines(), code.splitlines(), relative, relative, n=0, lineterm=""
        )
    )
    line = next((int(h.split()[1].split(",")[0][1:]) for h in diff if h.startswith("@@")), 0)
    return Mutant(relative, index, line, code, "\n".join(diff[2:]))


def mutants(patterns: list[str]) -> Iterator[Mutant]:
    """Every mutant of the selected files, one file changed at a time."""
    for relative, index in candidates(patterns):
        made = mutant(relative, index)
        if made is not None:
            yield made


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def snapshot(into: Path) -> None:
    """Freeze the mock and the suite as they are now; later copies are made from `into`."""
    global _source
    for name in (*COPIED, SUITE):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.is_file():
            shutil.copy2(source, into / name)
    _source = into


def _copy_project(into: Path) -> None:
    for name in (*COPIED, SUITE):
        source = _source / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.is_file():
            shutil.copy2(source, into / name)


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url + "/__mock/health", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False


def run_one(mutant: Mutant | None, *, timeout: float, seed: int, clock: str = "manual") -> Outcome:
    """Serve a copy of the project with `mutant` applied and run the suite against it.
    `clock` "scaled" runs the mock's clock 4 times real time, so its timeline moves
    downlinks on its own (the checks that observe moves then run instead of skipping)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="downlinks-mutant-") as scratch:
        copy = Path(scratch)
        _copy_project(copy)
        if mutant is not None:
            (copy / mutant.path).write_text(mutant.code, encoding="utf-8")
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        serve = [sys.executable, "-c", "from mock_server.cli import main; main()", "serve"]
        serve += ["--port", str(port), "--clock", clock, "--clock-start", CLOCK_START]
        if clock == "scaled":
            serve += ["--speed", "4"]
        serve += ["--log-level", "critical"]
        env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
        server = subprocess.Popen(
            serve, cwd=copy, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            if not _wait_for(url, server):
                return Outcome(mutant, "no-start", time.monotonic() - started)
            suite = [sys.executable, "-m", "contract_tests.cli", "run", "--base-url", url]
            suite += ["--profile", "mock", "--no-schemathesis", "--seed", str(seed)]
            try:
                done = subprocess.run(
                    suite, cwd=copy, capture_output=True, text=True, timeout=timeout, check=False
                )
            except subprocess.TimeoutExpired:
                return Outcome(mutant, "timeout", time.monotonic() - started)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        failed = [
            line.split()[1]
            for line in done.stdout.splitlines()
            if line.startswith(("FAILED ", "ERROR "))
            and len(line.split()) == 2  # the per-check lines, not the verdict
        ]
        verdict = {0: "survived", 1: "killed"}.get(done.returncode, "no-start")
        return Outcome(mutant, verdict, time.monotonic() - started, sorted(set(failed)))


def report(outcomes: list[Outcome], baseline: Outcome, seconds: float) -> str:
    """The score, and every survivor with its diff, as Markdown."""
    judged = [o for o in outcomes if o.mutant is not None]
    killed = [o for o in judged if o.verdict != "survived"]
    survivors = [o for o in judged if o.verdict == "survived"]
    by = {v: sum(o.verdict == v for o in judged) for v in ("killed", "no-start", "timeout")}
    score = 100.0 * len(killed) / len(judged) if judged else 0.0
    out = [
        "# Mutation score of the contract suite",
        "",
        "- Baseline (unmutated mock): "
        + ("every check passes" if baseline.verdict == "survived" else baseline.verdict)
        + (f" (failed: {', '.join(baseline.failed_checks)})" if baseline.failed_checks else ""),
        f"- Mutants run: {len(judged)}; killed {len(killed)} ({by['killed']} by a failing "
        f"check, {by['no-start']} did not start, {by['timeout']} timed out); survived "
        f"{len(survivors)}",
        f"- Score: {score:.1f} % of the mutants run (before removing equivalent ones)",
        f"- Time: {seconds:.0f} s",
        "",
        "## Survivors",
        "",
    ]
    if not survivors:
        out.append("None.")
    for o in survivors:
        assert o.mutant is not None
        out += [f"### `{o.mutant.name}`", "", "```diff", o.mutant.diff, "```", ""]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/mutation.py")
    parser.add_argument("--files", action="append", default=[], help="glob of files to mutate")
    parser.add_argument("--sample", type=int, help="run this many mutants, drawn at random")
    parser.add_argument("--seed", type=int, default=1, help="for --sample and the suite")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once")
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds per suite run (a mutant's budget)"
    )
    parser.add_argument(
        "--clock",
        choices=("manual", "scaled"),
        default="manual",
        help="the mock's clock: manual (nothing moves) or scaled (the timeline runs)",
    )
    parser.add_argument("--list", action="store_true", help="count the mutants and stop")
    parser.add_argument("--output", help="write the Markdown report here too")
    parser.add_argument("--json", help="write every outcome (name, verdict, checks) here")
    parser.add_argument(
        "--survivors-of",
        metavar="JSON",
        help="re-measure: run again only the survivors of an earlier --json run (its "
        "killed mutants stay killed: checks are only ever added)",
    )
    args = parser.parse_args(argv)

    found = candidates(args.files)
    if args.list:
        counts: dict[str, int] = {}
        for path, _ in found:
            counts[path] = counts.get(path, 0) + 1
        for path, count in counts.items():
            print(f"{count:6d}  {path}")
        print(f"{len(found):6d}  in all")
        return 0
    if args.sample is not None:
        found = random.Random(args.seed).sample(found, min(args.sample, len(found)))
    chosen = [m for m in (mutant(path, index) for path, index in found) if m is not None]
    carried: list[Outcome] = []
    if args.survivors_of:
        earlier = {r["name"]: r for r in json.loads(Path(args.survivors_of).read_text())}
        carried = [
            Outcome(m, earlier[m.name]["verdict"], 0.0, earlier[m.name]["failed"])
            for m in chosen
            if m.name in earlier and earlier[m.name]["verdict"] != "survived"
        ]
        chosen = [m for m in chosen if earlier.get(m.name, {}).get("verdict") == "survived"]
    frozen = tempfile.TemporaryDirectory(prefix="downlinks-mutation-source-")
    snapshot(Path(frozen.name))
    started = time.monotonic()
    baseline = run_one(None, timeout=args.timeout, seed=args.seed, clock=args.clock)
    print(f"baseline: {baseline.verdict} in {baseline.seconds:.0f} s", flush=True)
    if baseline.verdict != "survived":
        print("the unmutated mock does not pass the suite: no score", file=sys.stderr)
        return 2

    def one(m: Mutant) -> Outcome:
        outcome = run_one(m, timeout=args.timeout, seed=args.seed, clock=args.clock)
        print(f"{outcome.verdict:9} {m.name} ({outcome.seconds:.0f} s)", flush=True)
        return outcome

    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        outcomes = carried + list(pool.map(one, chosen))
    text = report(outcomes, baseline, time.monotonic() - started)
    if args.json:
        rows = [
            {"name": o.mutant.name, "verdict": o.verdict, "failed": o.failed_checks}
            for o in outcomes
            if o.mutant is not None
        ]
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    print(text)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
