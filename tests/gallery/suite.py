"""Run the contract suite (and, apart, Schemathesis) against a base URL; judge a mutant.

    results = contract_results(server.base_url, only={"L"})
    verdict = judge(mutant, results)      # killed? by which checks?

The suite is driven through its Python API (discovery, plan, Runner), as a user's own
harness would: profile `mock` (every rule, the mock's own choices included), full mode
(the gallery mocks offer the test hooks M1-M5), Schemathesis only when asked.
"""

from __future__ import annotations

import importlib
import pkgutil
import uuid
from dataclasses import dataclass, field

import contract_tests.checks
from contract_tests import schemathesis_run
from contract_tests.context import Context, load_spec
from contract_tests.discovery import discover
from contract_tests.registry import CHECKS
from contract_tests.runner import Outcome, Profile, Result, Runner, plan
from tests.gallery.mutant import Mutant

__all__ = [
    "SEED",
    "contract_results",
    "schemathesis_results",
    "failures",
    "Verdict",
    "judge",
    "rule_order",
]

SEED = 20260101  # checks' random choices repeat from run to run

# Every check module, including any not yet listed in contract_tests.checks.MODULES.
for _module in pkgutil.iter_modules(contract_tests.checks.__path__):
    importlib.import_module(f"contract_tests.checks.{_module.name}")


def contract_results(
    base_url: str,
    *,
    only: set[str] | None = None,
    profile: Profile = Profile.MOCK,
    seed: int = SEED,
) -> list[Result]:
    """Every selected check's result against `base_url` in full mode (skipped ones too)."""
    run_id = uuid.uuid4().hex[:8]
    target = discover(base_url, mode="full", run_id=run_id)
    to_run, skipped = plan(CHECKS, profile=profile, mode=target.mode, only=only)
    return skipped + Runner(target, seed=seed, run_id=run_id).run(to_run)


def schemathesis_results(
    base_url: str, *, max_examples: int = schemathesis_run.DEFAULT_MAX_EXAMPLES, seed: int = SEED
) -> list[Result]:
    """Schemathesis alone against `base_url`: its default checks minus the exclusions of
    `contract_tests.schemathesis_run.EXCLUDED` (Z1's two, and use_after_free)."""
    run_id = uuid.uuid4().hex[:8]
    target = discover(base_url, mode="full", run_id=run_id)
    spec = load_spec()
    with Context(target, spec, name="Z1-schemathesis", seed=seed, run_id=run_id) as ctx:
        network_id = ctx.network_id()
    outcome = schemathesis_run.run_schemathesis(
        target, spec, run_id=run_id, network_id=network_id, max_examples=max_examples, seed=seed
    )
    return outcome.results


def failures(results: list[Result]) -> list[Result]:
    return [r for r in results if r.failed]


def _rules_of(result: Result) -> set[str]:
    return {result.check.rule} | {f.rule for f in result.findings if f.rule}


@dataclass
class Verdict:
    """What the suite made of a mutant."""

    killed_by: list[str] = field(default_factory=list)  # failed checks that name a broken rule
    also_failed: list[str] = field(default_factory=list)  # failed checks of other rules
    ran: int = 0  # checks run (not skipped)

    @property
    def killed(self) -> bool:
        return bool(self.killed_by)


def judge(mutant: Mutant, results: list[Result]) -> Verdict:
    """Killed when a failing check (or one of its findings) names a rule the mutant breaks."""
    verdict = Verdict(ran=sum(r.outcome is not Outcome.SKIPPED for r in results))
    for result in failures(results):
        if _rules_of(result) & set(mutant.rules):
            verdict.killed_by.append(result.check.name)
        else:
            verdict.also_failed.append(result.check.name)
    return verdict


_GROUP_ORDER = "AECRTLSXMKZ"


def rule_order(rule: str) -> tuple[int, int]:
    """behaviour.md's order: A1 < A5 < E1 < ... < X5."""
    group = rule.rstrip("0123456789")
    number = rule[len(group) :]
    return (_GROUP_ORDER.find(group[:1]), int(number or 0))
