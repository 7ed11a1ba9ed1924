"""Every rule id the project cites exists in docs/behaviour.md, and every rule text the docs
quote is the page's text (K3).

Scanned: docs/*.md and README.md; the Python of mock_server/, replay/, contract_tests/,
tests/ and bench/ (comments, docstrings, strings, `@pytest.mark.rule(...)` markers, check
registrations, test names such as `test_x3_...`); the YAML of the shipped scenarios. A
failure names the file, the line and the id. A line that cites wrong ids on purpose (this
test's own examples) stands between the comments `# not rule ids: begin` and `...: end`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contract_tests.rulebook import cited_ids
from contract_tests.rules import RULES

ROOT = Path(__file__).resolve().parents[1]

# Text that looks like a rule id but is not one, per file, with the reason.
# not rule ids: begin
NOT_RULE_IDS: dict[tuple[str, str], str] = {
    ("tests/mock_server/domain/test_senml.py", "Z9"): "a SenML name in test data",
}
# not rule ids: end

_TEST_NAME = re.compile(r"\bdef (test_\w+)")
_ID_IN_NAME = re.compile(r"[aecrtlsxmkz][1-9]\d?")
_MARKER = re.compile(r"\bmark\.rule\(([^)]*)\)")
_STRING = re.compile(r"""["']([^"']*)["']""")
# How the report cites a rule (contract_tests/report/write.py): `rule L2: [spec] ...` in
# text, `> **L2** [spec] ...` in Markdown. "..." in a quote stands for left-out words.
_QUOTE = re.compile(r"(?:\brule ([A-Z]\d+): |^\s*> \*\*([A-Z]\d+)\*\* )(.+?)\s*$")
_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|\u2026)\s*")
_BEGIN, _END = "# not rule ids: begin", "# not rule ids: end"


def scanned_files(root: Path = ROOT) -> list[Path]:
    """The files whose rule ids must exist."""
    files = sorted(root.glob("docs/*.md")) + [root / "README.md"]
    for package in ("mock_server", "replay", "contract_tests", "tests", "bench"):
        files += sorted((root / package).rglob("*.py"))
    for folder in ("mock_server/data", "scenarios"):
        files += sorted((root / folder).rglob("*.yaml"))
    return [f for f in files if f.is_file()]


def problems(path: Path, text: str, rules: dict[str, str] = RULES) -> list[str]:
    """Every wrong rule citation in `text` (read from `path`), as `file:line: what`."""
    where = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
    out: list[str] = []
    lines = text.splitlines()
    examples, inside = set(), False
    for n, line in enumerate(lines, start=1):
        inside = (inside or line.strip() == _BEGIN) and line.strip() != _END
        if inside:
            examples.add(n)
    for c in cited_ids(text):
        if c.id not in rules and (where, c.id) not in NOT_RULE_IDS and c.line not in examples:
            out.append(f"{where}:{c.line}: {c.id} (written {c.text!r}) is no rule")
    for number, line in enumerate(lines, start=1):
        if number in examples:
            continue
        for name in _TEST_NAME.findall(line):
            for token in name.split("_")[1:]:
                if _ID_IN_NAME.fullmatch(token) and token.upper() not in rules:
                    out.append(f"{where}:{number}: {token} in the test name {name} is no rule")
        for args in _MARKER.findall(line):
            for rid in _STRING.findall(args):
                if rid not in rules:
                    out.append(f"{where}:{number}: mark.rule({rid!r}) names no rule")
        for quote in _QUOTE.finditer(line) if path.suffix == ".md" else ():
            rid, quoted = quote[1] or quote[2], quote[3]
            if rid in rules and not _quotes(rules[rid], quoted):
                out.append(f"{where}:{number}: the quote of {rid} is not behaviour.md's text")
    return out


def _quotes(text: str, quoted: str) -> bool:
    """Whether `quoted` is `text`, or its start and then pieces of it in order ("...")."""
    pieces = [p for p in _ELLIPSIS.split(quoted) if p]
    if len(pieces) == 1 and not _ELLIPSIS.search(quoted):
        return text == quoted
    at = 0
    for i, piece in enumerate(pieces):
        found = text.find(piece, at)
        if found < 0 or (i == 0 and found != 0):
            return False
        at = found + len(piece)
    return True


def test_every_cited_rule_id_exists_and_every_quote_is_the_source_text() -> None:
    found = [p for f in scanned_files() for p in problems(f, f.read_text(encoding="utf-8"))]
    assert not found, "rule citations that behaviour.md does not back:\n" + "\n".join(found)


def test_the_scan_reaches_code_tests_and_docs() -> None:
    files = {f.relative_to(ROOT).as_posix() for f in scanned_files()}
    for expected in (
        "docs/behaviour.md",
        "docs/contract-tests.md",
        "contract_tests/checks/listing.py",
        "mock_server/store/query.py",
        "replay/cassette.py",
        "tests/contract_tests/test_runner.py",
    ):
        assert expected in files


def test_every_exception_still_occurs() -> None:
    for (where, rid), reason in NOT_RULE_IDS.items():
        text = (ROOT / where).read_text(encoding="utf-8")
        assert rid in {c.id for c in cited_ids(text)}, f"stale exception {where} {rid}: {reason}"


# --- the scan bites: made-up ids and changed quotes in a temporary file --------------------


# not rule ids: begin
@pytest.mark.parametrize(
    ("name", "line", "expected"),
    [
        (
            "x.py",
            "# a dry run keeps no slot (C10)",
            "x.py:2: C10 (written 'C10') is no rule",
        ),
        (
            "x.py",
            "the links (L5-L9) ...",
            "x.py:2: L8 (written 'L5-L9') is no rule",
        ),
        ("x.py", "see L7-L5", "x.py:2: L7-L5 (written 'L7-L5') is no rule"),
        (
            "x.py",
            '@pytest.mark.rule("x3")',
            "x.py:2: mark.rule('x3') names no rule",
        ),
        (
            "x.py",
            '@check("R3", "twice", tag=Tag.SPEC)',
            "x.py:2: R3 (written 'R3')",
        ),
        (
            "x.py",
            "def test_s5_moves_back():",
            "x.py:2: s5 in the test name test_s5_moves_back",
        ),
        (
            "x.md",
            "    rule E2: [convention] Bad input is `418` with an `errors` array: ... the first.",
            "x.md:2: the quote of E2 is not behaviour.md's text",
        ),
        ("x.md", "> **L3** [spec] `limit` defaults to 20.", "x.md:2: the quote of L3 is not"),
    ],
)
def test_a_wrong_citation_in_a_file_is_named_with_file_line_and_id(
    tmp_path: Path, name: str, line: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(f"A file.\n{line}\n", encoding="utf-8")
    found = problems(path, path.read_text(encoding="utf-8"))
    assert any(p.replace(str(path), name).startswith(expected) for p in found), found


# not rule ids: end


def test_right_citations_and_lookalikes_pass(tmp_path: Path) -> None:
    path = tmp_path / "ok.md"
    path.write_text(
        "\n".join(
            [
                '"""Cursors (L5-L7) and dry runs (C8); M1-M5 are the hooks."""',
                '@pytest.mark.rule("X3")',
                "def test_x3_l6_cancels() -> None:  # noqa: E501",
                "    when = '2025-01-11T09:27:26.272Z'; uuid = '0xA1B2'; d = 'PT10M'",
                "    rule E2: [convention] Bad input is `400` with an `errors` array: ... first.",
                f"> **L3** {RULES['L3']}",
            ]
        ),
        encoding="utf-8",
    )
    assert problems(path, path.read_text(encoding="utf-8")) == []


def test_only_the_scanners_own_tests_hold_example_blocks() -> None:
    users = {
        f.relative_to(ROOT).as_posix()
        for f in scanned_files()
        if any(line.strip() == _BEGIN for line in f.read_text(encoding="utf-8").splitlines())
    }
    assert users <= {"tests/test_rule_ids.py", "tests/contract_tests/test_rulebook.py"}, users
