"""Choose checks, run them (a few at a time, each with its own `Context`), collect results.

    checks, skipped = plan(CHECKS, profile=Profile.CONVENTION, mode=target.mode)
    results = skipped + Runner(target, spec=spec).run(checks)

A check that is not run still gets a `Result` (skipped, with the reason), so every report
lists every check (K2: a rule a mode cannot reach is reported as skipped, never passed).
"""

from __future__ import annotations

import enum
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from contract_tests.context import Context, Target, load_spec
from contract_tests.registry import Check, ContractError, Finding, Mode, Skip, Tag
from contract_tests.rules import GROUPS, RULES

__all__ = [
    "Profile",
    "Outcome",
    "Result",
    "plan",
    "validate_keys",
    "Runner",
    "run_check",
    "exit_code",
    "DEFAULT_WORKERS",
]

DEFAULT_WORKERS = 4  # checks are I/O bound; a few at once keep a full run within seconds


class Profile(str, enum.Enum):
    """Which rule tags a run enforces (behaviour.md preamble)."""

    SPEC = "spec"  # only what the OpenAPI document says in words
    CONVENTION = "convention"  # spec + convention: the default
    MOCK = "mock"  # everything, the mock's own choices included

    @property
    def tags(self) -> frozenset[Tag]:
        if self is Profile.SPEC:
            return frozenset({Tag.SPEC})
        if self is Profile.CONVENTION:
            return frozenset({Tag.SPEC, Tag.CONVENTION})
        return frozenset(Tag)


class Outcome(str, enum.Enum):
    """How one check ended."""

    PASSED = "passed"  # the target did what the rule says, as far as the check looked
    FAILED = "failed"  # the target broke the rule: see the findings
    SKIPPED = "skipped"  # not run or not reachable here; `reason` says why
    ERROR = "error"  # the check crashed on what the target sent; counted as a failure


@dataclass
class Result:
    """One check's outcome, with what a human needs to act on it (K3)."""

    check: Check
    outcome: Outcome
    findings: list[Finding] = field(default_factory=list)
    reason: str = ""  # why skipped, or what crashed
    duration: float = 0.0  # seconds
    requests: int = 0  # HTTP exchanges the check made

    @property
    def failed(self) -> bool:
        return self.outcome in (Outcome.FAILED, Outcome.ERROR)


def validate_keys(keys: Iterable[str], checks: Iterable[Check]) -> set[str]:
    """Normalise --only/--skip values (comma lists allowed); unknown ids are a usage error."""
    known = {c.name for c in checks}
    known_upper = {k.upper() for k in RULES} | {g.upper() for g in GROUPS}
    out: set[str] = set()
    for raw in keys:
        for key in (part.strip() for part in raw.split(",")):
            if not key:
                continue
            if key not in known and key.upper() not in known_upper:
                raise ContractError(f"unknown rule, group or check {key!r} (try A, L2, E3, Z1)")
            out.add(key)
    return out


def plan(
    checks: Iterable[Check],
    *,
    profile: Profile = Profile.CONVENTION,
    mode: Mode = Mode.FULL,
    only: set[str] | None = None,
    skip: set[str] | None = None,
) -> tuple[list[Check], list[Result]]:
    """Split `checks` into those to run and skipped results for the rest, each with why."""
    to_run: list[Check] = []
    skipped: list[Result] = []
    for c in checks:
        if only and not _matches(c, only):
            skipped.append(_skip(c, "not selected by --only"))
        elif skip and _matches(c, skip):
            skipped.append(_skip(c, "excluded by --skip"))
        elif c.tag not in profile.tags:
            skipped.append(
                _skip(c, f"[{c.tag.value}] rule, not enforced by profile {profile.value}")
            )
        elif c.mode is Mode.FULL and mode is not Mode.FULL:
            skipped.append(_skip(c, "needs full mode: the target offers no M1-M5 test hooks"))
        else:
            to_run.append(c)
    return to_run, skipped


def _matches(c: Check, keys: set[str]) -> bool:
    """The matching of `Registry.select`: rule id or group (any case), or the check's name."""
    upper = {k.upper() for k in keys}
    return c.rule.upper() in upper or c.group.upper() in upper or c.name in keys


def _skip(c: Check, reason: str) -> Result:
    return Result(check=c, outcome=Outcome.SKIPPED, reason=reason)


def run_check(check: Check, ctx: Context) -> Result:
    """Run one check in `ctx`: a Finding fails it, Skip skips it, anything else is an error."""
    started = time.perf_counter()
    try:
        check.func(ctx)
    except Finding as finding:
        finding.rule = finding.rule or check.rule
        finding.rule_text = finding.rule_text or RULES.get(finding.rule, "")
        if finding.setup:  # the check never reached its rule: an error, not a rule failure
            outcome, reason = Outcome.ERROR, f"set-up failed: {finding.message}"
        else:
            outcome, reason = Outcome.FAILED, ""
        findings = [finding]
    except Skip as why:
        outcome, findings, reason = Outcome.SKIPPED, [], str(why) or "skipped by the check"
    except Exception as exc:  # a crash on the target's answer must not stop the run
        outcome, findings = Outcome.ERROR, [_crash_finding(check, ctx, exc)]
        reason = f"{type(exc).__name__}: {exc}"
    else:
        outcome, findings, reason = Outcome.PASSED, [], ""
    return Result(
        check=check,
        outcome=outcome,
        findings=findings,
        reason=reason,
        duration=time.perf_counter() - started,
        requests=len(ctx.exchanges),
    )


def _crash_finding(check: Check, ctx: Context, exc: Exception) -> Finding:
    """An error's finding: where it crashed, and the last exchange (usually the cause)."""
    frames = traceback.extract_tb(exc.__traceback__)[-2:]
    where = "; ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}" for f in frames)
    last = ctx.exchanges[-1] if ctx.exchanges else None
    finding = Finding(
        f"the check crashed on the target's answer: {type(exc).__name__}: {exc} ({where})",
        request=last.curl if last else "",
        response=last.excerpt() if last else "",
    )
    finding.rule, finding.rule_text = check.rule, RULES.get(check.rule, "")
    return finding


class Runner:
    """Runs checks against one target, `workers` at a time, each in a fresh `Context`."""

    def __init__(
        self,
        target: Target,
        *,
        spec: dict[str, Any] | None = None,
        seed: int | None = None,
        run_id: str | None = None,
        workers: int = DEFAULT_WORKERS,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.target = target
        self.spec = spec if spec is not None else load_spec()
        self.seed = seed
        self.run_id = run_id or uuid.uuid4().hex[:8]
        self.workers = max(1, workers)
        self.timeout = timeout
        self._client = client

    def context(self, check: Check, client: httpx.Client) -> Context:
        """The fresh context one check runs in."""
        return Context(
            self.target,
            self.spec,
            name=check.name,
            seed=self.seed,
            run_id=self.run_id,
            client=client,
            timeout=self.timeout,
        )

    def run(
        self,
        checks: Iterable[Check],
        on_result: Callable[[Result], None] | None = None,
    ) -> list[Result]:
        """Run `checks`; results in the order given, `on_result` called as each ends."""
        checks = list(checks)
        limits = httpx.Limits(max_connections=self.workers * 2)
        client = self._client or httpx.Client(timeout=self.timeout, limits=limits)
        try:

            def one(c: Check) -> Result:
                result = run_check(c, self.context(c, client))
                if on_result is not None:
                    on_result(result)
                return result

            if self.workers == 1:
                return [one(c) for c in checks]
            pool = ThreadPoolExecutor(self.workers, thread_name_prefix="contract")
            try:
                return list(pool.map(one, checks))
            except KeyboardInterrupt:
                # Ctrl-C: start nothing more; the checks under way end with their request.
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            finally:
                pool.shutdown(wait=True)
        finally:
            if self._client is None:
                client.close()


def exit_code(results: Iterable[Result]) -> int:
    """0 when no enforced check failed, 1 otherwise (2 is for usage and connection errors)."""
    return 1 if any(r.failed for r in results) else 0
