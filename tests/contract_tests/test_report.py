"""Reports (K3): JUnit XML parses with one testcase per check, Markdown and HTML carry the
rule table and every finding with its rule text, curl line and response."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from contract_tests.registry import Check, Finding, Mode, Tag
from contract_tests.report.write import (
    RunInfo,
    html_report,
    junit_xml,
    markdown,
    summarise,
    write_report,
)
from contract_tests.rules import RULES
from contract_tests.runner import Outcome, Result


def _check(rule: str, name: str, tag: Tag = Tag.SPEC, mode: Mode = Mode.BLACK_BOX) -> Check:
    def func(ctx: object) -> None:
        pass

    func.__name__ = name
    return Check(rule=rule, title=f"{name} <title>", tag=tag, mode=mode, func=func)


def _results() -> list[Result]:
    finding = Finding(
        "createdBefore selected an item <at> the bound",
        expected="2 items",
        actual="3 items",
        request="curl -i -X GET 'http://t/downlinks?createdBefore=x'",
        response='HTTP 200 OK\n\n{"items": []}',
    )
    finding.rule, finding.rule_text = "L2", RULES["L2"]
    return [
        Result(_check("A1", "no_token"), Outcome.PASSED, duration=0.01),
        Result(_check("L2", "before_exclusive"), Outcome.FAILED, findings=[finding]),
        Result(_check("L2", "since_inclusive"), Outcome.PASSED),
        Result(
            _check("L7", "cursor_bound", Tag.MOCK),
            Outcome.SKIPPED,
            reason="[mock] rule, not enforced by profile convention",
        ),
        Result(_check("E1", "crash"), Outcome.ERROR, findings=[Finding("crashed: KeyError")]),
    ]


INFO = RunInfo(
    base_url="http://t",
    mode="full",
    profile="convention",
    run_id="abcd1234",
    seed=7,
    auth="lenient",
)


def test_summarise_folds_checks_per_rule_in_rule_order() -> None:
    rows = {s.rule: s for s in summarise(_results())}
    assert list(rows) == ["A1", "E1", "L2", "L7"]
    assert (rows["L2"].passed, rows["L2"].failed, rows["L2"].outcome) == (1, 1, Outcome.FAILED)
    assert rows["L7"].outcome is Outcome.SKIPPED and "profile convention" in rows["L7"].note
    assert rows["E1"].outcome is Outcome.FAILED


def test_junit_parses_with_one_testcase_per_check_classed_by_group() -> None:
    root = ET.fromstring(junit_xml(_results(), INFO))
    suite = root.find("testsuite")
    assert suite is not None
    assert (
        suite.get("tests"),
        suite.get("failures"),
        suite.get("errors"),
        suite.get("skipped"),
    ) == (
        "5",
        "1",
        "1",
        "1",
    )
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("A", "A1-no_token"),
        ("L", "L2-before_exclusive"),
        ("L", "L2-since_inclusive"),
        ("L", "L7-cursor_bound"),
        ("E", "E1-crash"),
    ]
    failure = cases[1].find("failure")
    assert (
        failure is not None
        and failure.get("message") == "createdBefore selected an item <at> the bound"
    )
    assert RULES["L2"] in (failure.text or "") and "curl -i -X GET" in (failure.text or "")
    assert cases[3].find("skipped").get("message").startswith("[mock] rule")
    assert cases[4].find("error") is not None
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["mode"] == "full" and props["seed"] == "7"


def test_markdown_has_the_rule_table_and_findings() -> None:
    text = markdown(_results(), INFO)
    assert "| Rule | Result | Passed | Failed | Skipped | Notes |" in text
    assert "| L2 | failed | 1 | 1 | 0 |" in text
    assert "| L7 | skipped | 0 | 0 | 1 | [mock] rule, not enforced by profile convention |" in text
    assert "### L2-before_exclusive: createdBefore selected an item <at> the bound" in text
    assert f"> **L2** {RULES['L2']}" in text
    assert "```\ncurl -i -X GET 'http://t/downlinks?createdBefore=x'\n```" in text
    assert "**FAILED**" in text


def test_html_escapes_and_has_every_check_and_finding() -> None:
    page = html_report(_results(), INFO)

    class Collect(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.text: list[str] = []
            self.rows = 0

        def handle_starttag(self, tag: str, attrs: list) -> None:
            self.rows += tag == "tr"

        def handle_data(self, data: str) -> None:
            self.text.append(data)

    parser = Collect()
    parser.feed(page)
    text = "".join(parser.text)
    assert "<at>" not in page and "&lt;at&gt;" in page
    assert "createdBefore selected an item <at> the bound" in text
    assert parser.rows == 1 + 4 + 1 + 5  # rule table header + rules, check table header + checks
    assert "curl -i -X GET" in text


def test_write_report_picks_the_format_by_suffix(tmp_path) -> None:
    write_report(tmp_path / "r.html", _results(), INFO)
    write_report(tmp_path / "r.md", _results(), INFO)
    assert (tmp_path / "r.html").read_text().startswith("<!doctype html>")
    assert (tmp_path / "r.md").read_text().startswith("# Downlinks API contract report")
