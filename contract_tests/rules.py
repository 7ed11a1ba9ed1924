"""The behaviour contract's rules as findings quote them (K3), read from docs/behaviour.md.

The texts have one home, docs/behaviour.md; `contract_tests.rulebook` reads them from it
at import (from the source tree, or from where a wheel installs it), so the toolkit never
carries a copy that could drift. `RULES` maps each rule id to the text a finding quotes
("[spec] ..."), in the page's order; `GROUPS` each group letter to its heading.
"""

from __future__ import annotations

from contract_tests.rulebook import Rule, Rulebook, load

__all__ = ["RULES", "GROUPS", "RULEBOOK", "Rule", "rule", "rule_text"]

RULEBOOK: Rulebook = load()

GROUPS: dict[str, str] = {
    **RULEBOOK.groups,
    # Not a group of the contract: the Schemathesis run's own checks report under it.
    "SCHEMA": "Schema conformance (Schemathesis)",
}

RULES: dict[str, str] = {rid: r.quote for rid, r in RULEBOOK.rules.items()}


def rule(rule_id: str) -> Rule | None:
    """The rule `rule_id` ("L2", any case), or None for an id the contract does not define."""
    return RULEBOOK.rules.get(rule_id.upper())


def rule_text(rule: str) -> str:
    """The quoted text of `rule` ("L2"), or "" for an id the contract does not define."""
    return RULES.get(rule.upper(), "")
