"""docs/behaviour.md is the one source of the rule texts (K3): its format is read strictly,
it holds every rule of the behaviour contract with its tag and word for word, and what the
toolkit quotes, from a checkout or from a wheel, is what the page says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import contract_tests.checks  # noqa: F401  (registers every check)
from contract_tests import rulebook
from contract_tests.context import Context, Target
from contract_tests.registry import CHECKS, Finding, Mode, Registry, Tag
from contract_tests.rulebook import RulebookError, cited_ids, parse
from contract_tests.rules import GROUPS, RULEBOOK, RULES, rule, rule_text
from contract_tests.runner import Outcome, run_check

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "behaviour.md"

# The behaviour contract's rules and their tags (None: the M, K and Z rules carry none), in
# its order. Pinned here so that the test runs where the upstream contract is not at hand;
# `test_rule_texts_are_the_contracts_word_for_word` compares the texts where it is.
CONTRACT_TAGS: dict[str, str | None] = {
    **{r: "spec" for r in ("A1", "A2")},
    **{r: "mock" for r in ("A3", "A4")},
    "A5": "spec",
    **{r: "convention" for r in ("E1", "E2", "E3")},
    **{"C1": "spec", "C2": "spec", "C3": "convention", "C4": "spec", "C5": "mock"},
    **{"C6": "spec", "C7": "convention", "C8": "mock", "C9": "convention"},
    **{"R1": "spec", "R2": "convention"},
    **{"T1": "convention", "T2": "convention", "T3": "mock"},
    **{r: "spec" for r in ("L1", "L2", "L3", "L4", "L5")},
    **{"L6": "convention", "L7": "mock"},
    **{"S1": "convention", "S2": "mock", "S3": "mock", "S4": "mock"},
    **{"X1": "spec", "X2": "convention", "X3": "mock", "X4": "convention", "X5": "spec"},
    **{f"M{n}": None for n in range(1, 9)},
    **{f"K{n}": None for n in range(1, 5)},
    "Z1": None,
}


def _contract_md() -> Path | None:
    """The upstream behaviour contract, if this checkout sits where it can be found."""
    if env := os.environ.get("DOWNLINKS_BEHAVIOUR_CONTRACT"):
        return Path(env)
    for parent in ROOT.parents:
        candidate = parent / "shared" / "design" / "behaviour.md"
        if candidate.is_file():
            return candidate
    return None


def _contract_rules(text: str) -> dict[str, tuple[str | None, str]]:
    """The contract's own bullets (`- A1 [spec] text`, continued by indented lines)."""
    out: dict[str, tuple[str | None, str]] = {}
    current: str | None = None
    for line in text.splitlines():
        head = line.split(" ", 2)
        if line.startswith("- ") and len(head) > 2 and head[1][:1].isupper():
            rid, rest = head[1], head[2]
            tag = rest[1 : rest.index("]")] if rest.startswith("[") else None
            body = rest.split("] ", 1)[1] if tag else rest
            out[rid], current = (tag, body), rid
        elif current and line.startswith("  "):
            tag, body = out[current]
            out[current] = (tag, f"{body} {line.strip()}")
        else:
            current = None
    return {rid: (tag, " ".join(body.split())) for rid, (tag, body) in out.items()}


# --- the page holds the contract ---------------------------------------------------------


def test_k3_every_contract_rule_has_exactly_one_text_and_its_tag() -> None:
    parsed = parse(DOC.read_text(encoding="utf-8"), source=str(DOC))
    assert list(parsed.rules) == list(CONTRACT_TAGS), "behaviour.md's rules, in order"
    for rid, tag in CONTRACT_TAGS.items():
        found = parsed.rules[rid]
        assert (found.tag.value if found.tag else None) == tag, rid
        assert found.text and found.group == rid[0], rid
    assert set(parsed.groups) == set(rulebook.GROUP_LETTERS)


def test_rule_texts_are_the_contracts_word_for_word() -> None:
    path = _contract_md()
    if path is None:
        pytest.skip("upstream behaviour contract not found (set DOWNLINKS_BEHAVIOUR_CONTRACT)")
    contract = _contract_rules(path.read_text(encoding="utf-8"))
    assert set(contract) == set(CONTRACT_TAGS), "the pinned table lags the contract"
    for rid, (tag, text) in contract.items():
        mine = RULEBOOK.rules[rid]
        assert (mine.tag.value if mine.tag else None) == tag, rid
        assert mine.text == text, f"{rid} drifted from {path}; a reading belongs in **Choice:**"
    headings = {
        line[3:].split(" (")[0]: line.split("(")[1][0]
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("## ") and "(" in line
    }
    assert {g: t for t, g in headings.items()} == RULEBOOK.groups


def test_k3_rules_module_quotes_the_page() -> None:
    parsed = parse(DOC.read_text(encoding="utf-8"))
    assert RULES == {rid: r.quote for rid, r in parsed.rules.items()}
    assert RULES["A1"].startswith("[spec] Every operation needs")
    assert RULES["M1"].startswith("`GET /__mock/health`")  # untagged: no "[...]" prefix
    assert "**Choice:**" not in "".join(RULES.values())
    assert rule_text("l2") == RULES["L2"] and rule_text("Q9") == ""
    found = rule("x3")
    assert found is not None and found.tag is Tag.MOCK and found.choice == ""
    a3 = rule("A3")
    assert a3 is not None and "`iat` is never checked" in a3.choice
    assert rule("Q9") is None
    assert GROUPS["L"] == "Listing" and "SCHEMA" in GROUPS


@pytest.mark.parametrize("rid", list(CONTRACT_TAGS))
def test_k3_a_finding_quotes_the_source_text(rid: str) -> None:
    reg = Registry()

    @reg.register(rid, "always fails", tag=Tag.MOCK)
    def fails(ctx: Context) -> None:
        raise Finding("broken", expected="x", actual="y")

    (check,) = list(reg)
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    target = Target("http://target.test/", Mode.FULL, "lenient", token="tok")
    result = run_check(check, Context(target, {}, name=check.name, client=client))
    assert result.outcome is Outcome.FAILED
    parsed = parse(DOC.read_text(encoding="utf-8")).rules[rid]
    assert result.findings[0].rule_text == parsed.quote


def test_every_registered_check_cites_a_rule_and_a_tag_it_carries() -> None:
    for c in CHECKS:
        found = RULEBOOK.rules.get(c.rule)
        assert found is not None, f"{c.name}: no rule {c.rule} in behaviour.md"
        # A check may enforce the mock's own reading of a rule (tag mock, run only with
        # --profile mock); it may never hold other implementations to more than the rule.
        assert c.tag is Tag.MOCK or c.tag in found.tags, f"{c.name}: tag {c.tag.value}"


def test_the_files_the_page_names_exist() -> None:
    named = re.findall(
        r"`((?:docs|tests|mock_server|contract_tests|replay)/[\w/.-]+)", DOC.read_text()
    )
    assert named, "behaviour.md names no file: the pattern is stale"
    assert [n for n in named if not (ROOT / n).exists()] == []


# --- the format is read strictly ----------------------------------------------------------

GOOD = """\
# Title

## Listing (L), `GET /downlinks`

- **L1 [spec]** Filters combine
  with AND. [mock] Tags come from fixtures. **Choice:** devices too.
- **L2 [convention]** Since is inclusive.

Prose between rules, with a list:

- not a rule

## Control (M)

- **M1** `GET /__mock/health`: `200`.
"""


def test_parse_reads_ids_tags_texts_choices_and_groups() -> None:
    book = parse(GOOD, source="x.md")
    assert list(book.rules) == ["L1", "L2", "M1"]
    assert book.groups == {"L": "Listing", "M": "Control"}
    l1 = book.rules["L1"]
    assert l1.text == "Filters combine with AND. [mock] Tags come from fixtures."
    assert l1.choice == "devices too." and l1.line == 5
    assert l1.quote.startswith("[spec] Filters") and l1.tags == {Tag.SPEC, Tag.MOCK}
    assert book.rules["M1"].tag is None and book.rules["M1"].quote == "`GET /__mock/health`: `200`."


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (GOOD.replace("**L2 [convention]**", "**L2 [conv]**"), r"x\.md:7: .*unknown tag"),
        (GOOD.replace("**L2 [convention]**", "**L2[convention]**"), r"x\.md:7: malformed"),
        (GOOD.replace("**L2 [convention]**", "**L1 [convention]**"), "L1 is defined twice"),
        (
            GOOD.replace("**M1**", "**L3**"),
            r"x\.md:15: rule L3 is not under its group's heading \(L\)",
        ),
        (GOOD.replace("with AND.", "with AND. **Choice:** a **Choice:** b"), "at most one"),
        (GOOD.replace("- **L2 [convention]**", "* **L2 [convention]**"), "malformed"),
        ("# nothing here\n", "no rule bullets"),
        (GOOD.replace("Control (M)", "Control (Q)"), r"x\.md:13: group Q is none"),
        (GOOD.replace("**L2 [convention]**", "**L02 [convention]**"), r"x\.md:7: malformed"),
        (
            GOOD.replace("  with AND.", "  - with AND."),
            r"x\.md:6: rule L1: this line starts a new Markdown block",
        ),
        (
            GOOD.replace("  with AND.", "  >= AND."),
            r"x\.md:6: rule L1: this line starts a new Markdown block",
        ),
        (
            GOOD.replace("  with AND.", "  2. AND."),
            r"x\.md:6: rule L1: this line starts a new Markdown block",
        ),
    ],
)
def test_parse_refuses_a_malformed_page_naming_file_and_line(broken: str, message: str) -> None:
    with pytest.raises(RulebookError, match=message):
        parse(broken, source="x.md")


def test_a_changed_text_in_a_temporary_copy_is_caught(tmp_path: Path) -> None:
    copy = tmp_path / "behaviour.md"
    copy.write_text(
        DOC.read_text(encoding="utf-8").replace("`limit` defaults to 50", "`limit` defaults to 20"),
        encoding="utf-8",
    )
    changed = rulebook.load(copy)
    assert changed.rules["L3"].quote != RULES["L3"]
    assert [r for r in RULES if changed.rules[r].quote != RULES[r]] == ["L3"]


# --- found from a checkout and from a wheel -----------------------------------------------


def test_locate_reads_the_package_data_and_names_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert rulebook.locate().resolve() == DOC.resolve()
    monkeypatch.setattr(rulebook, "candidate_paths", lambda: [tmp_path / "behaviour.md"])
    with pytest.raises(RulebookError, match=f"behaviour.md not found.*{tmp_path}"):
        rulebook.locate()
    (tmp_path / "behaviour.md").write_text(GOOD, encoding="utf-8")
    assert list(rulebook.load().rules) == ["L1", "L2", "M1"]


def test_the_rules_load_without_the_mock() -> None:
    code = (
        "import sys, contract_tests.rules as r; "
        "assert r.RULES and not [m for m in sys.modules if m.startswith('mock_server')]"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_the_wheel_ships_the_page_where_locate_looks() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "data/*.md" in project["tool"]["setuptools"]["package-data"]["contract_tests"]
    link = ROOT / "contract_tests" / "data" / "behaviour.md"
    assert link.is_symlink() and link.resolve() == DOC.resolve()


def test_cited_ids_reads_ranges_and_skips_lookalikes() -> None:
    text = "(C6) L5-L7, M6-8; E501 0xA1 PT10M 2025-01-11T09:27 T00:00 A1B2 E2E X1."
    assert [c.id for c in cited_ids(text)] == ["C6", "L5", "L6", "L7", "M6", "M7", "M8", "X1"]
    # not rule ids: begin
    assert [c.id for c in cited_ids("ok\nsee L7-L5")] == ["L7-L5"]  # reversed: reported
    # not rule ids: end
    assert [c.line for c in cited_ids("a\nb C1")] == [2]
