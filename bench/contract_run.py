"""How long a contract run takes (issue 3, item 7): full mode and black-box mode.

A mock (as `downlinks-mock serve` starts it: real clock, default scenario, lenient auth)
runs on a free loopback port in this process. Each repetition gets a fresh mock and runs,
in this process through the CLI's own code (click's CliRunner):

- the baseline, a trivial run: `run --only R1-read_unknown_is_404 --no-schemathesis`
  (the M1 probe, one check, the report), and the bare M1 probe (`GET /__mock/health`);
- a full-mode run: `run --mode full --profile mock` (every check, Schemathesis at its
  default example count);
- a black-box run: `run --mode black-box` (the default profile; Schemathesis included).

It prints each time, the medians, the ratio of each median to the trivial run's, and how
much of each run Schemathesis took. Target: each run under 60 s on 2 cores.

    python bench/contract_run.py [--repeat 3] [--max-examples N]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from click.testing import CliRunner

from contract_tests.cli.main import cli
from contract_tests.discovery import probe_health
from mock_server.config import MockConfig
from mock_server.server import MockServer

TARGET_SECONDS = 60.0
_SCHEMATHESIS = re.compile(r"Schemathesis sent (\d+) requests in ([\d.]+) s")

RUNS: dict[str, list[str]] = {
    "trivial run (baseline)": ["--only", "R1-read_unknown_is_404", "--no-schemathesis"],
    "full mode": ["--mode", "full", "--profile", "mock"],
    "black-box mode": ["--mode", "black-box"],
}


@dataclass
class Timings:
    """One kind of run over the repetitions."""

    seconds: list[float] = field(default_factory=list)
    schemathesis: list[float] = field(default_factory=list)  # seconds Schemathesis took
    requests: list[int] = field(default_factory=list)  # Schemathesis requests
    exit_codes: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def _failed(junit: Path) -> list[str]:
    """Names of the checks a JUnit report marks failed or in error."""
    cases = ElementTree.parse(junit).getroot().iter("testcase")
    bad = [c for c in cases if c.find("failure") is not None or c.find("error") is not None]
    return [c.get("name", "?") for c in bad]


def run_once(
    base_url: str, args: list[str], max_examples: int | None
) -> tuple[float, str, int, list[str]]:
    """One `downlinks-contract run` in this process: seconds, output, exit code, failed checks."""
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "run.xml"
        argv = ["run", "--base-url", base_url, "--seed", "1", "--junit-xml", str(junit), *args]
        if max_examples is not None and "--no-schemathesis" not in args:
            argv += ["--max-examples", str(max_examples)]
        started = time.perf_counter()
        result = CliRunner().invoke(cli, argv)
        elapsed = time.perf_counter() - started
        if result.exit_code not in (0, 1):  # 1: some check failed, still a complete run
            raise SystemExit(f"{' '.join(argv)} ended with {result.exit_code}:\n{result.output}")
        return elapsed, result.output, result.exit_code, _failed(junit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each run")
    parser.add_argument(
        "--max-examples", type=int, default=None, help="Schemathesis examples (default: its own)"
    )
    args = parser.parse_args()

    timings = {name: Timings() for name in RUNS}
    probes: list[float] = []
    for rep in range(args.repeat):
        with MockServer(MockConfig()) as server:
            for _ in range(5):
                started = time.perf_counter()
                probe_health(server.base_url)
                probes.append(time.perf_counter() - started)
            for name, run_args in RUNS.items():
                seconds, output, code, failed = run_once(
                    server.base_url, run_args, args.max_examples
                )
                t = timings[name]
                t.seconds.append(seconds)
                t.exit_codes.append(code)
                found = _SCHEMATHESIS.search(output)
                if found:
                    t.requests.append(int(found.group(1)))
                    t.schemathesis.append(float(found.group(2)))
                shown = f", failed: {', '.join(failed)}" if failed else ""
                print(
                    f"repetition {rep + 1}: {name}: {seconds:.2f} s (exit {code}{shown})",
                    flush=True,
                )

    baseline = timings["trivial run (baseline)"].median
    print()
    probe = statistics.median(probes) * 1000
    print(f"M1 probe as discovery makes it (a fresh httpx client): median {probe:.1f} ms")
    print("| run | median | min | max | / trivial run | Schemathesis share | exit codes |")
    print("|---|---:|---:|---:|---:|---|---|")
    for name, t in timings.items():
        share = (
            f"{statistics.median(t.schemathesis):.1f} s, {statistics.median(t.requests)} requests"
            if t.schemathesis
            else "-"
        )
        print(
            f"| {name} | {t.median:.2f} s | {min(t.seconds):.2f} s | {max(t.seconds):.2f} s "
            f"| {t.median / baseline:.1f} | {share} | {', '.join(map(str, t.exit_codes))} |"
        )
    over = [n for n, t in timings.items() if max(t.seconds) >= TARGET_SECONDS]
    print()
    print(
        f"target (every run under {TARGET_SECONDS:.0f} s): "
        + ("met" if not over else f"missed by {', '.join(over)}")
    )


if __name__ == "__main__":
    main()
