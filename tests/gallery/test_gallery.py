"""The mutation gallery (issue 3, item 6): the contract suite passes on the clean mock and
fails on every mutant, with a failing check that names the rule the mutant breaks.

Each mutant is run against the checks of its own rule groups only (L for L2, ...): enough
to show the rule's checks bite, cheap enough for the whole gallery to take a minute or two.
Schemathesis is left out here; `python -m tests.gallery.kill_matrix` measures it apart.
"""

from __future__ import annotations

import httpx
import jwt
import pytest

from contract_tests.registry import CHECKS
from contract_tests.rules import RULES
from contract_tests.runner import Outcome

from .mutant import MUTANTS, Mutant, clean_app, serve
from .mutants import MODULES
from .rewrite import Rewrite
from .suite import contract_results, failures, judge, rule_order

assert MODULES  # importing .mutants registered every mutant

# Checks that fail on the clean mock for a defect of the mock, reported to its owner. Each
# must fail (strict): when the mock is fixed, the entry goes.
KNOWN_CLEAN_FAILURES: dict[str, str] = {
    "E2-query_violations_all_reported": (
        "the mock stops at the spec-level violation (q empty) and never reports the "
        "createdSince/modifiedBefore that are no RFC 3339 date-times"
    ),
}

# Mutants the suite does not catch yet: a gap in a check, reported to its owner. Strict:
# when the check bites, the test passes and the entry goes.
KNOWN_GAPS: dict[str, str] = {
    "read-status-lower-case": (
        "R2-read_equals_create stops comparing status, modifiedAt and logs as soon as the "
        "status differs, without asking whether S1 allows that change"
    ),
}

ORDERED = sorted(MUTANTS.values(), key=lambda m: (rule_order(m.rules[0]), m.name))


def _param(m: Mutant) -> object:
    marks = (
        [pytest.mark.xfail(reason=KNOWN_GAPS[m.name], strict=True)] if m.name in KNOWN_GAPS else []
    )
    return pytest.param(m, id=f"{'+'.join(m.rules)}-{m.name}", marks=marks)


def _describe(results: list) -> str:
    lines = []
    for r in failures(results):
        first = r.findings[0] if r.findings else None
        lines.append(f"{r.check.name}: {first.message if first else r.reason}")
    return "\n".join(lines) or "(none)"


def test_clean_mock_passes_every_check() -> None:
    """Every enforced check (profile mock, full mode, all groups) passes on the clean mock."""
    with serve(clean_app()) as server:
        results = contract_results(server.base_url)
    failed = {r.check.name for r in failures(results)}
    unexpected = failed - set(KNOWN_CLEAN_FAILURES)
    assert not unexpected, _describe([r for r in results if r.check.name in unexpected])
    fixed = set(KNOWN_CLEAN_FAILURES) - failed
    assert not fixed, f"now passing, drop from KNOWN_CLEAN_FAILURES: {sorted(fixed)}"
    ran = [r for r in results if r.outcome is not Outcome.SKIPPED]
    assert len(results) == len(CHECKS)
    assert len(ran) >= len(CHECKS) - 3, "full mode and profile mock should run almost every check"
    assert all(r.reason for r in results if r.outcome is Outcome.SKIPPED)


@pytest.mark.parametrize("mutant", [_param(m) for m in ORDERED])
def test_mutant_is_killed(mutant: Mutant) -> None:
    """The checks of the mutant's rule groups fail, and one failing check names its rule."""
    with serve(mutant.app()) as server:
        results = contract_results(server.base_url, only=set(mutant.groups))
    verdict = judge(mutant, results)
    assert verdict.ran, f"no check of {mutant.groups} ran"
    assert verdict.killed, (
        f"{mutant.name} ({'/'.join(mutant.rules)}: {mutant.description}) survived; "
        f"failing checks of other rules: {verdict.also_failed or 'none'}"
    )


def test_gallery_covers_every_rule_group() -> None:
    """At least 30 mutants; every group with checks (A, E, C, R, T, L, X) has some."""
    assert len(MUTANTS) >= 30
    groups = {g for m in MUTANTS.values() for g in m.groups}
    assert {"A", "E", "C", "R", "T", "L", "X"} <= groups


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


def test_r2_status_lower_case_mutant_misbehaves() -> None:
    """The R2 gap mutant really misbehaves: GET answers `pending` for a PENDING downlink."""
    headers, body = _token(), _create_body("urn:dev:DEVEUI:00000000000000ab:")
    with serve(MUTANTS["read-status-lower-case"].app()) as server:
        created = httpx.post(server.base_url + "/downlinks", json=body, headers=headers)
        read = httpx.get(f"{server.base_url}/downlinks/{created.json()['id']}", headers=headers)
    assert created.json()["status"] == "PENDING"
    assert read.json()["status"] == "pending"
