"""The run as a person watches it: progress while checks run, then the summary and findings.

On a terminal this uses rich (a progress bar, a coloured table); elsewhere (CI logs, pipes)
it prints one plain line per finished check and a plain table, so logs stay readable.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from contract_tests.report.write import RunInfo, finding_text, summarise
from contract_tests.runner import Outcome, Result

__all__ = ["Reporter"]

_STYLE = {
    Outcome.PASSED: "green",
    Outcome.FAILED: "bold red",
    Outcome.ERROR: "bold red",
    Outcome.SKIPPED: "dim",
}


class Reporter:
    """Shows a run on `file` (stdout by default); thread-safe `finished` for the runner."""

    def __init__(self, file: IO[str] | None = None, *, force_plain: bool = False) -> None:
        self.console = Console(file=file, highlight=False, soft_wrap=True)
        self.fancy = self.console.is_terminal and not force_plain
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._task: Any = None

    def line(self, text: str) -> None:
        """A plain message (markup off: rule texts contain brackets)."""
        with self._lock:
            self.console.print(text, markup=False)

    def start(self, total: int, what: str) -> None:
        """Begin showing progress over `total` checks."""
        if self.fancy:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[last]}"),
                console=self.console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(what, total=total, last="")
        else:
            self.line(f"{what}: {total} checks")

    def finished(self, result: Result) -> None:
        """One check ended (called from worker threads)."""
        with self._lock:
            if self._progress is not None:
                self._progress.update(self._task, advance=1, last=result.check.name)
                if result.failed:
                    self._progress.console.print(
                        f"[bold red]{result.outcome.value.upper()}[/] {result.check.name}",
                        highlight=False,
                    )
            else:
                tail = f" ({result.reason})" if result.outcome is Outcome.SKIPPED else ""
                self.console.print(
                    f"{result.outcome.value.upper():8} {result.check.name}{tail}", markup=False
                )

    @contextmanager
    def busy(self, text: str) -> Iterator[None]:
        """A spinner (plain: one line) while something long runs without per-check news."""
        if self.fancy:
            with self.console.status(text):
                yield
        else:
            self.line(text)
            yield

    def stop(self) -> None:
        """End the progress display."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def summary(self, results: list[Result], info: RunInfo) -> None:
        """The per-rule table, every finding in full, and the totals line."""
        self.stop()
        table = Table(title="Contract rules", title_justify="left", show_lines=False)
        for column in ("Rule", "Result", "Passed", "Failed", "Skipped", "Notes"):
            table.add_column(column, overflow="fold")
        for s in summarise(results):
            table.add_row(
                s.rule,
                f"[{_STYLE[s.outcome]}]{s.outcome.value}[/]",
                str(s.passed),
                str(s.failed),
                str(s.skipped),
                s.note.replace("[", "\\["),
            )
        if self.fancy:
            self.console.print(table)
        else:
            self._plain_table(results)
        for r in results:
            if r.failed:
                for i, f in enumerate(r.findings):
                    self.line("")
                    self.line(f"{r.outcome.value.upper()} {r.check.name}")
                    self.line(finding_text(f, indent="  ", quote_rule=i == 0))
        totals = info.totals(results)
        verdict = info.verdict(results)
        self.line("")
        self.line(
            f"{verdict}: {totals[Outcome.PASSED]} passed, {totals[Outcome.FAILED]} failed, "
            f"{totals[Outcome.ERROR]} errors, {totals[Outcome.SKIPPED]} skipped in "
            f"{info.duration:.1f} s ({info.mode} mode, profile {info.profile}, "
            f"run {info.run_id}, {info.base_url})"
        )
        for note in info.notes:
            self.line(f"note: {note}")

    def _plain_table(self, results: list[Result]) -> None:
        rows = [("Rule", "Result", "Passed", "Failed", "Skipped", "Notes")]
        for s in summarise(results):
            rows.append(
                (s.rule, s.outcome.value, str(s.passed), str(s.failed), str(s.skipped), s.note)
            )
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        for row in rows:
            cells = [row[i].ljust(widths[i]) for i in range(5)] + [row[5]]
            self.line("  ".join(cells).rstrip())
