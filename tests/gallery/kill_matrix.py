"""The kill matrix: which mutants the contract suite catches, and which Schemathesis alone.

    python -m tests.gallery.kill_matrix                 # every mutant, Markdown on stdout
    python -m tests.gallery.kill_matrix --jobs 2 --output matrix.md
    python -m tests.gallery.kill_matrix offset-cursors null-links --no-schemathesis

For each mutant, on a fresh mock each time: the whole contract suite (every group, profile
mock, full mode, Schemathesis off), then Schemathesis alone (its default checks minus the
exclusions of `contract_tests.schemathesis_run.EXCLUDED`). A mutant is caught by the suite
when a failing check names a rule it breaks; by Schemathesis when any of its checks fails
(the first row shows that none fails on the clean mock, so each failure is the mutant's).
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from contract_tests import schemathesis_run
from tests.gallery.mutant import MUTANTS, Mutant, clean_app, serve
from tests.gallery.mutants import MODULES
from tests.gallery.suite import contract_results, failures, judge, rule_order, schemathesis_results

__all__ = ["Row", "measure", "table", "main"]

assert MODULES  # importing .mutants registered every mutant

CLEAN = "(clean mock)"
_PREFIX = "Z1-schemathesis_"


@dataclass
class Row:
    """One mutant's line of the matrix."""

    name: str
    rules: tuple[str, ...] = ()
    description: str = ""
    killed_by: list[str] = field(default_factory=list)  # suite checks naming a broken rule
    also_failed: list[str] = field(default_factory=list)  # suite checks of other rules
    schemathesis: list[str] | None = None  # failed Schemathesis checks; None: not run
    seconds: float = 0.0


def measure(name: str, with_schemathesis: bool, max_examples: int) -> Row:
    """Run the suite, then Schemathesis, each against a fresh copy of mutant `name`."""
    started = time.perf_counter()
    mutant: Mutant | None = MUTANTS.get(name)

    def app() -> object:
        return mutant.app() if mutant else clean_app()

    row = Row(name, mutant.rules if mutant else (), mutant.description if mutant else "")
    with serve(app()) as server:
        results = contract_results(server.base_url)
    if mutant:
        verdict = judge(mutant, results)
        row.killed_by, row.also_failed = verdict.killed_by, verdict.also_failed
    else:
        row.also_failed = [r.check.name for r in failures(results)]
        for r in failures(results):  # the clean mock must pass: say what went wrong
            for f in r.findings:
                print(
                    f"clean mock: {r.check.name}: {f.message} (expected {f.expected}, "
                    f"got {f.actual})\n{f.request}\n{f.response}",
                    file=sys.stderr,
                )
    if with_schemathesis:
        with serve(app()) as server:
            found = schemathesis_results(server.base_url, max_examples=max_examples)
        row.schemathesis = sorted(r.check.name.removeprefix(_PREFIX) for r in failures(found))
    row.seconds = time.perf_counter() - started
    return row


def _suite_cell(row: Row) -> str:
    if row.name == CLEAN:
        return "failing: " + ", ".join(row.also_failed) if row.also_failed else "all pass"
    if not row.killed_by:
        return "**no**"
    shown = ", ".join(row.killed_by[:3]) + (" ..." if len(row.killed_by) > 3 else "")
    return f"yes: {shown}"


def _schemathesis_cell(row: Row) -> str:
    if row.schemathesis is None:
        return "not run"
    if row.name == CLEAN:
        return "failing: " + ", ".join(row.schemathesis) if row.schemathesis else "all pass"
    return "yes: " + ", ".join(row.schemathesis) if row.schemathesis else "no"


def table(rows: list[Row]) -> str:
    """The matrix as Markdown, with totals under it."""
    lines = [
        "| Mutant | Rule | What it does wrong | Caught by the contract suite (checks) "
        "| Caught by Schemathesis alone |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        rules = "/".join(row.rules) or "-"
        lines.append(
            f"| `{row.name}` | {rules} | {row.description.replace('|', '/') or '-'} "
            f"| {_suite_cell(row)} | {_schemathesis_cell(row)} |"
        )
    mutants = [r for r in rows if r.name != CLEAN]
    suite = sum(bool(r.killed_by) for r in mutants)
    lines += ["", f"Contract suite: {suite} of {len(mutants)} mutants caught."]
    ran = [r for r in mutants if r.schemathesis is not None]
    if ran:
        alone = sum(bool(r.schemathesis) for r in ran)
        both = sum(bool(r.schemathesis) and bool(r.killed_by) for r in ran)
        only = [r.name for r in ran if r.schemathesis and not r.killed_by]
        lines.append(
            f"Schemathesis alone: {alone} of {len(ran)} caught ({both} of them also by the "
            f"suite; caught by Schemathesis only: {', '.join(only) or 'none'})."
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.gallery.kill_matrix")
    parser.add_argument("mutants", nargs="*", help="mutant names (default: every mutant)")
    parser.add_argument("--jobs", type=int, default=1, help="mutants measured at once")
    parser.add_argument(
        "--max-examples",
        type=int,
        default=schemathesis_run.DEFAULT_MAX_EXAMPLES,
        help="Schemathesis examples per operation and phase",
    )
    parser.add_argument("--no-schemathesis", action="store_true", help="the suite only")
    parser.add_argument("--output", help="also write the Markdown table to this file")
    args = parser.parse_args(argv)
    unknown = [n for n in args.mutants if n not in MUTANTS]
    if unknown:
        parser.error(f"unknown mutants: {', '.join(unknown)} (see tests/gallery/mutants/)")
    chosen = args.mutants or sorted(MUTANTS, key=lambda n: (rule_order(MUTANTS[n].rules[0]), n))
    names = [CLEAN, *chosen]
    started = time.perf_counter()
    run = [not args.no_schemathesis] * len(names), [args.max_examples] * len(names)
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(measure, names, *run))
    else:
        rows = [measure(n, s, m) for n, s, m in zip(names, *run, strict=True)]
    for row in rows:
        print(f"{row.name}: {row.seconds:.1f} s", file=sys.stderr)
    text = table(rows)
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text + "\n")
    print(f"measured in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
