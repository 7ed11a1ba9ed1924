"""The mutation gallery (issue 3, item 6): the contract suite passes on the clean mock and
fails on every mutant, with a failing check that names the rule the mutant breaks.

Mutants are run group by group against the checks of that group only (L for L2, ...):
enough to show the rule's checks bite, and that every check of the group fails on some
mutant, cheap enough for the whole gallery to take a minute or two.
Schemathesis is left out here; `python -m tests.gallery.kill_matrix` measures it apart.
"""

from __future__ import annotations

import httpx
import jwt
import pytest

from contract_tests.registry import CHECKS
from contract_tests.rules import RULES
from contract_tests.runner import Outcome, Result
from tests.gallery.mutant import MUTANTS, Mutant, clean_app, serve
from tests.gallery.mutants import MODULES
from tests.gallery.rewrite import Rewrite
from tests.gallery.suite import contract_results, failures, judge, rule_order

assert MODULES  # importing .mutants registered every mutant

# Checks that no mutant can make fail on the gallery's mocks, with why.
UNBITTEN: dict[str, str] = {
    "L4-created_at_order": (
        "it needs creates at distinct instants; on the gallery's manual clock every create "
        "shares one, so it skips (K2). Its seeded twin, L4-created_at_order_seeded, bites"
    ),
}

GROUPS = ("A", "E", "C", "R", "T", "L", "X", "S")
ORDERED = sorted(MUTANTS.values(), key=lambda m: (rule_order(m.rules[0]), m.name))


def _first_finding(result: Result) -> str:
    return result.findings[0].message if result.findings else result.reason


def test_clean_mock_passes_every_check() -> None:
    """Every enforced check (profile mock, full mode, all groups) passes on the clean mock."""
    with serve(clean_app()) as server:
        results = contract_results(server.base_url)
    assert not server.app.server_errors
    failed = [f"{r.check.name}: {_first_finding(r)}" for r in failures(results)]
    assert not failed, "\n".join(failed)
    ran = [r for r in results if r.outcome is not Outcome.SKIPPED]
    assert len(results) == len(CHECKS)
    assert len(ran) >= len(CHECKS) - 3, "full mode and profile mock should run almost every check"
    assert all(r.reason for r in results if r.outcome is Outcome.SKIPPED)


@pytest.mark.parametrize("group", GROUPS)
def test_mutants_are_killed_and_every_check_bites(group: str) -> None:
    """For the rules of one group (A1-A5, E1-E3, C1-C9, R1-R2, T1-T2, L1-L7, X1-X5): each
    mutant breaking one of them fails a check of the group that names the broken rule, and
    every check of the group fails on at least one mutant."""
    problems: list[str] = []  # mutants that survive or crash
    bitten: set[str] = set()
    for mutant in (m for m in ORDERED if group in m.groups):
        with serve(mutant.app()) as server:
            results = contract_results(server.base_url, only={group})
        crashes = server.app.server_errors
        if crashes and not mutant.server_errors:
            problems.append(f"{mutant.name} answered 5xx, a bug of the mutant: {crashes[:3]}")
        bitten |= {r.check.name for r in failures(results)}
        if not judge(mutant, results).killed:
            also = ", ".join(r.check.name for r in failures(results)) or "none"
            problems.append(
                f"{mutant.name} ({'/'.join(mutant.rules)}: {mutant.description}) survived; "
                f"failing checks: {also}"
            )
    assert not problems, "\n".join(problems)
    checks = {c.name for c in CHECKS if c.group == group}
    toothless = sorted(checks - bitten - set(UNBITTEN))
    assert not toothless, f"checks that no mutant makes fail: {', '.join(toothless)}"
    stale = sorted((checks & set(UNBITTEN)) & bitten)
    assert not stale, f"these now bite, drop them from UNBITTEN: {', '.join(stale)}"


def test_gallery_covers_every_rule_group() -> None:
    """At least 30 mutants; every group with checks (A, E, C, R, T, L, X) has some."""
    assert len(MUTANTS) >= 30
    assert {g for m in MUTANTS.values() for g in m.groups} == set(GROUPS)
    assert {c.group for c in CHECKS if c.rule != "Z1"} == set(GROUPS)


@pytest.mark.parametrize("mutant", ORDERED, ids=lambda m: m.name)
def test_mutant_declares_real_rules(mutant: Mutant) -> None:
    """Each mutant names rules of behaviour.md that some check enforces, and says in one
    line what it does wrong."""
    checked = {c.rule for c in CHECKS}
    assert mutant.rules and all(r in RULES and r in checked for r in mutant.rules)
    assert mutant.description and "\n" not in mutant.description


def _token() -> dict[str, str]:
    claims = {"client_id": "gallery", "scope": "downlink.read downlink.write downlink.delete"}
    return {"Authorization": f"Bearer {jwt.encode(claims, None, algorithm='none')}"}


def _create_body(network_id: str) -> dict[str, object]:
    return {"instruction": [{"bn": network_id}, {"n": "x", "v": 1}], "method": {"protocol": "SMS"}}


def test_rewrite_without_hooks_changes_nothing() -> None:
    """A Rewrite with no hooks answers as the mock it wraps: same statuses, headers of note
    and bodies (the new downlink's id aside)."""
    transcripts = []
    for app in (clean_app(), Rewrite(clean_app())):
        with serve(app) as server, httpx.Client(base_url=server.base_url, headers=_token()) as c:
            created = c.post("/downlinks", json=_create_body("urn:dev:DEVEUI:00000000000000aa:"))
            answers = [
                created,
                c.get("/downlinks", params={"q": "urn:dev", "limit": "1"}),
                c.get("/downlinks", params={"q": "x", "limit": "0"}),
                c.delete(f"/downlinks/{created.json()['id']}", params={"forced": "maybe"}),
                c.put("/downlinks"),
            ]
            new_id = created.json()["id"]
            transcripts.append(
                [
                    (
                        r.status_code,
                        {k: r.headers.get(k, "").replace(new_id, "<id>") for k in _NOTABLE},
                        r.text.replace(new_id, "<id>"),
                    )
                    for r in answers
                ]
            )
    assert transcripts[0] == transcripts[1]


_NOTABLE = ("content-type", "content-length", "location", "allow", "www-authenticate")
