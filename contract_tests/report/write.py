"""Reports of a run: JUnit XML (one testcase per check), Markdown and HTML.

Every format says the same things (K3): per rule, what passed, failed or was skipped and
why; per finding, the rule id and its quoted text, what was expected and what came back, a
curl line reproducing the request and an excerpt of the response.
"""

from __future__ import annotations

import html
import platform
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from contract_tests.registry import Finding
from contract_tests.rules import GROUPS, RULES
from contract_tests.runner import Outcome, Result

__all__ = [
    "RunInfo",
    "RuleSummary",
    "summarise",
    "finding_text",
    "junit_xml",
    "markdown",
    "html_report",
    "write_report",
]


@dataclass
class RunInfo:
    """What was run against what: the header of every report."""

    base_url: str
    mode: str  # "full" or "black-box"
    profile: str
    run_id: str
    seed: int | None = None
    auth: str | None = None
    duration: float = 0.0  # seconds
    notes: list[str] = field(default_factory=list)  # e.g. Schemathesis warnings
    interrupted: bool = False  # stopped by Ctrl-C: never reported as passed

    def verdict(self, results: Iterable[Result]) -> str:
        """INTERRUPTED (whatever ran so far), else FAILED when a check failed, else PASSED."""
        if self.interrupted:
            return "INTERRUPTED"
        totals = self.totals(results)
        return "FAILED" if totals[Outcome.FAILED] + totals[Outcome.ERROR] else "PASSED"

    def totals(self, results: Iterable[Result]) -> dict[Outcome, int]:
        counts = dict.fromkeys(Outcome, 0)
        for r in results:
            counts[r.outcome] += 1
        return counts


@dataclass
class RuleSummary:
    """One rule's checks folded into one line of the summary table."""

    rule: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)  # why skipped, which checks failed

    @property
    def outcome(self) -> Outcome:
        if self.failed:
            return Outcome.FAILED
        if self.passed:
            return Outcome.PASSED
        return Outcome.SKIPPED

    @property
    def note(self) -> str:
        """The distinct notes, each cut to a line's worth (the reports give them in full)."""
        cut = [n if len(n) <= 90 else n[:87] + "..." for n in dict.fromkeys(self.notes)]
        return "; ".join(cut)


_ORDER = {rule: i for i, rule in enumerate(RULES)}


def _rule_order(rule: str) -> int:
    return _ORDER.get(rule, len(_ORDER))


def summarise(results: Iterable[Result]) -> list[RuleSummary]:
    """Per rule id, in behaviour.md's order: counts and the reasons worth reading."""
    by_rule: dict[str, RuleSummary] = {}
    for r in results:
        s = by_rule.setdefault(r.check.rule, RuleSummary(r.check.rule))
        if r.outcome is Outcome.PASSED:
            s.passed += 1
        elif r.failed:
            s.failed += 1
            s.notes.append(f"{r.check.name} {r.outcome.value}")
        else:
            s.skipped += 1
            s.notes.append(r.reason)
    return sorted(by_rule.values(), key=lambda s: _rule_order(s.rule))


def finding_text(finding: Finding, *, indent: str = "", quote_rule: bool = True) -> str:
    """A finding as plain text: what broke, the rule quoted, expected/actual, curl, response.
    With `quote_rule` False the rule is named only (its text was quoted above)."""
    lines = [finding.message]
    if finding.rule and quote_rule:
        lines.append(f"rule {finding.rule}: {finding.rule_text or RULES.get(finding.rule, '')}")
    elif finding.rule:
        lines.append(f"rule {finding.rule} (quoted above)")
    if finding.expected:
        lines.append(f"expected: {finding.expected}")
    if finding.actual:
        lines.append(f"actual:   {finding.actual}")
    if finding.request:
        lines.append(f"reproduce: {finding.request}")
    if finding.response:
        lines.append("response:")
        lines += ["  " + line for line in finding.response.splitlines()]
    return "\n".join(indent + line for line in lines)


# -- JUnit -----------------------------------------------------------------------------------


def junit_xml(results: list[Result], info: RunInfo) -> str:
    """JUnit XML: one testsuite, one testcase per check (classname = the rule group)."""
    totals = info.totals(results)
    suite = ET.Element(
        "testsuite",
        name="downlinks-contract",
        tests=str(len(results)),
        failures=str(totals[Outcome.FAILED]),
        errors=str(totals[Outcome.ERROR]),
        skipped=str(totals[Outcome.SKIPPED]),
        time=f"{info.duration:.3f}",
        hostname=platform.node() or "localhost",
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("base_url", info.base_url),
        ("mode", info.mode),
        ("profile", info.profile),
        ("auth", info.auth or ""),
        ("run_id", info.run_id),
        ("seed", "" if info.seed is None else str(info.seed)),
        ("verdict", info.verdict(results)),
    ):
        ET.SubElement(props, "property", name=name, value=value)
    for r in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=r.check.group,
            name=r.check.name,
            time=f"{r.duration:.3f}",
        )
        if r.outcome is Outcome.SKIPPED:
            ET.SubElement(case, "skipped", message=r.reason)
        elif r.failed:
            kind = "failure" if r.outcome is Outcome.FAILED else "error"
            first = r.findings[0].message if r.findings else r.reason
            node = ET.SubElement(case, kind, message=first, type=f"rule {r.check.rule}")
            texts = [finding_text(f, quote_rule=i == 0) for i, f in enumerate(r.findings)]
            node.text = "\n\n".join(texts) or r.reason
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    text: str = ET.tostring(root, encoding="unicode", xml_declaration=True)
    return text + "\n"


# -- Markdown --------------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or " "


def _fence(text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}\n{text}\n{fence}"


def markdown(results: list[Result], info: RunInfo) -> str:
    """A Markdown report: header, the per-rule table, every check, then every finding."""
    totals = info.totals(results)
    out = [
        "# Downlinks API contract report",
        "",
        f"- Target: `{info.base_url}` ({info.mode} mode"
        + (f", auth {info.auth}" if info.auth else "")
        + ")",
        f"- Profile: {info.profile}; run id `{info.run_id}`"
        + ("" if info.seed is None else f"; seed {info.seed}"),
        f"- Result: **{info.verdict(results)}**"
        f": {totals[Outcome.PASSED]} passed, {totals[Outcome.FAILED]} failed, "
        f"{totals[Outcome.ERROR]} errors, {totals[Outcome.SKIPPED]} skipped "
        f"in {info.duration:.1f} s",
    ]
    out += [f"- Note: {n}" for n in info.notes]
    out += ["", "## Rules", "", "| Rule | Result | Passed | Failed | Skipped | Notes |"]
    out.append("|---|---|---|---|---|---|")
    for s in summarise(results):
        out.append(
            f"| {s.rule} | {s.outcome.value} | {s.passed} | {s.failed} | {s.skipped} "
            f"| {_md_cell(s.note)} |"
        )
    out += ["", "## Checks", "", "| Check | Group | Tag | Mode | Result | Why |"]
    out.append("|---|---|---|---|---|---|")
    for r in results:
        why = r.reason if r.outcome is Outcome.SKIPPED else ""
        if r.failed and r.findings:
            why = r.findings[0].message
        out.append(
            f"| `{r.check.name}` | {GROUPS.get(r.check.group, r.check.group)} "
            f"| {r.check.tag.value} | {r.check.mode.value} | {r.outcome.value} | {_md_cell(why)} |"
        )
    failed = [r for r in results if r.failed]
    if failed:
        out += ["", "## Findings"]
        for r in failed:
            for i, f in enumerate(r.findings):
                out += ["", f"### {r.check.name}: {f.message}", ""]
                if i == 0:  # the rule once per check, not once per finding
                    rule_text = f.rule_text or RULES.get(r.check.rule, "")
                    out.append(f"> **{r.check.rule}** {rule_text}")
                    out.append("")
                if f.expected:
                    out.append(f"- Expected: {f.expected}")
                if f.actual:
                    out.append(f"- Actual: {f.actual}")
                if f.request:
                    out += ["", "Reproduce:", "", _fence(f.request)]
                if f.response:
                    out += ["", "Response:", "", _fence(f.response)]
    return "\n".join(out) + "\n"


# -- HTML ------------------------------------------------------------------------------------

_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222 }
table { border-collapse: collapse; margin: 1em 0 } td, th { border: 1px solid #ccc;
padding: .25em .6em; text-align: left; vertical-align: top }
.passed { color: #17692b } .failed, .error { color: #b00020; font-weight: bold }
.skipped { color: #777 } pre { background: #f6f6f6; padding: .6em; overflow-x: auto;
white-space: pre-wrap } blockquote { border-left: 3px solid #ccc; margin: 0; padding-left: 1em }
"""


def html_report(results: list[Result], info: RunInfo) -> str:
    """A self-contained HTML page with the same content as `markdown`."""
    e = html.escape
    totals = info.totals(results)
    verdict = info.verdict(results)
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Downlinks API contract report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Downlinks API contract report</h1>",
        "<ul>",
        f"<li>Target: <code>{e(info.base_url)}</code> ({e(info.mode)} mode"
        + (f", auth {e(info.auth)}" if info.auth else "")
        + ")</li>",
        f"<li>Profile: {e(info.profile)}; run id <code>{e(info.run_id)}</code>"
        + ("" if info.seed is None else f"; seed {info.seed}")
        + "</li>",
        f'<li>Result: <span class="{verdict.lower()}">{verdict}</span>: '
        f"{totals[Outcome.PASSED]} passed, {totals[Outcome.FAILED]} failed, "
        f"{totals[Outcome.ERROR]} errors, {totals[Outcome.SKIPPED]} skipped "
        f"in {info.duration:.1f} s</li>",
    ]
    out += [f"<li>Note: {e(n)}</li>" for n in info.notes]
    out += ["</ul>", "<h2>Rules</h2>", "<table><tr><th>Rule</th><th>Result</th>"]
    out.append("<th>Passed</th><th>Failed</th><th>Skipped</th><th>Notes</th></tr>")
    for s in summarise(results):
        out.append(
            f'<tr><td title="{e(RULES.get(s.rule, ""))}">{e(s.rule)}</td>'
            f'<td class="{s.outcome.value}">{s.outcome.value}</td><td>{s.passed}</td>'
            f"<td>{s.failed}</td><td>{s.skipped}</td><td>{e(s.note)}</td></tr>"
        )
    out += ["</table>", "<h2>Checks</h2>", "<table><tr><th>Check</th><th>Tag</th>"]
    out.append("<th>Mode</th><th>Result</th><th>Why</th></tr>")
    for r in results:
        why = r.reason if r.outcome is Outcome.SKIPPED else ""
        if r.failed and r.findings:
            why = r.findings[0].message
        anchor = f' href="#{e(r.check.name)}"' if r.failed else ""
        name = f"<a{anchor}>{e(r.check.name)}</a>" if anchor else e(r.check.name)
        out.append(
            f"<tr><td><code>{name}</code><br>{e(r.check.title)}</td>"
            f"<td>{r.check.tag.value}</td><td>{r.check.mode.value}</td>"
            f'<td class="{r.outcome.value}">{r.outcome.value}</td><td>{e(why)}</td></tr>'
        )
    out.append("</table>")
    failed = [r for r in results if r.failed]
    if failed:
        out.append("<h2>Findings</h2>")
        anchors: set[str] = set()
        for r in failed:
            for i, f in enumerate(r.findings):
                # One anchor per check (the table links to it), unique in the page.
                anchor = _unique(r.check.name, anchors) if i == 0 else ""
                heading = f"{e(r.check.name)}: {e(f.message)}"
                out.append(
                    f'<h3 id="{e(anchor)}">{heading}</h3>' if anchor else f"<h3>{heading}</h3>"
                )
                if i == 0:
                    rule_text = f.rule_text or RULES.get(r.check.rule, "")
                    out.append(f"<blockquote><b>{e(r.check.rule)}</b> {e(rule_text)}</blockquote>")
                if f.expected or f.actual:
                    out.append(f"<p>Expected: {e(f.expected)}<br>Actual: {e(f.actual)}</p>")
                if f.request:
                    out.append(f"<p>Reproduce:</p><pre>{e(f.request)}</pre>")
                if f.response:
                    out.append(f"<p>Response:</p><pre>{e(f.response)}</pre>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _unique(name: str, taken: set[str]) -> str:
    """`name`, or `name-2`, `name-3`, ... : the first not in `taken` (which it joins)."""
    anchor, n = name, 1
    while anchor in taken:
        n += 1
        anchor = f"{name}-{n}"
    taken.add(anchor)
    return anchor


def write_report(path: str | Path, results: list[Result], info: RunInfo) -> None:
    """Write the report at `path`: HTML when the name ends in .html/.htm, else Markdown."""
    p = Path(path)
    text = (
        html_report(results, info)
        if p.suffix.lower() in (".html", ".htm")
        else markdown(results, info)
    )
    p.write_text(text, encoding="utf-8")
