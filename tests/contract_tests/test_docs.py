"""The documentation tells the truth: every check in the table with its rule, tag and mode;
every rule id quoted word for word from behaviour.md (K3); the example workflow is valid."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

import contract_tests.checks  # noqa: F401  (registers every check)
from contract_tests.registry import CHECKS
from contract_tests.rules import GROUPS, RULES

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "contract-tests.md"
WORKFLOW = ROOT / ".github" / "workflows" / "contract-tests.example.yml"


def test_every_check_is_in_the_docs_table_with_rule_tag_and_mode() -> None:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| `([^`]+)` \| (\w+) \| (\w+) \| ([\w-]+) \|", line)
        if m:
            rows[m.group(1)] = m.groups()[1:]
    missing = [c.name for c in CHECKS if c.name not in rows]
    assert not missing, f"add to docs/contract-tests.md: {missing}"
    for c in CHECKS:
        assert rows[c.name] == (c.rule, c.tag.value, c.mode.value), c.name
    assert "## Mutation gallery" in DOC.read_text(encoding="utf-8")


def test_k3_rules_cover_every_group_and_quote_tags() -> None:
    assert {r.rstrip("0123456789") for r in RULES} <= set(GROUPS)
    for rule in ("A1", "E3", "C3", "L7", "X5", "M5", "K4", "Z1"):
        assert rule in RULES
    assert RULES["A1"].startswith("[spec] Every operation needs `Authorization: Bearer <token>`.")
    assert "(1 MiB default): `413`" in RULES["E3"]
    assert all(c.rule in RULES for c in CHECKS)


def test_example_workflow_runs_the_cli_and_publishes_junit() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads `on` as true
    assert {"push", "pull_request"} <= set(triggers)
    steps = workflow["jobs"]["contract"]["steps"]
    run = " ".join(step.get("run", "") for step in steps)
    assert "downlinks-contract run" in run and "--junit-xml contract-junit.xml" in run
    env = workflow["jobs"]["contract"]["env"]
    assert {"DOWNLINKS_TOKEN", "DOWNLINKS_OTHER_TENANT_TOKEN", "DOWNLINKS_READ_ONLY_TOKEN"} <= set(
        env
    )
    assert any(step.get("if") == "always()" for step in steps)
