"""Schemathesis against the target, its failures merged into the run's results as rule Z1.

Generation runs in both modes (positive and negative data), over the phases Schemathesis
runs by default (examples, coverage, fuzzing, and stateful sequences whose links it infers
from the `Location` header of creates). Every default check runs except those Z1 names,
which flag correct behaviour of this API. Each Schemathesis check becomes one result
(`Z1-schemathesis_<check>`); each distinct failure one finding, with its curl line.

Positive-mode creates are given a valid SenML pack for a device of this run (K1), so that
they succeed, the stateful phase has downlinks to follow, and the suite's own data stays
under its own device id; negative-mode bodies are left as generated.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import configuration as hypothesis_configuration
from schemathesis.core.parameters import ParameterLocation
from schemathesis.engine import events, from_schema

from contract_tests.context import EXCERPT_CHARS, Target, redact, schema_validator
from contract_tests.registry import Check, Finding, Mode, Tag
from contract_tests.rules import RULES
from contract_tests.runner import Outcome, Result

__all__ = [
    "EXCLUDED",
    "AUTH_CHECKS",
    "excluded_checks",
    "DEFAULT_MAX_EXAMPLES",
    "SchemathesisRun",
    "run_schemathesis",
    "skipped_results",
    "crashed_results",
    "RULE",
]

RULE = "Z1"
DEFAULT_MAX_EXAMPLES = 10  # per operation and phase: a full run stays well within a minute

# Checks that flag correct behaviour of this API, with why (Z1, X4).
EXCLUDED: dict[str, str] = {
    "status_code_conformance": (
        "Z1: the spec documents only success codes (and 409 for cancel); the 400, 401, "
        "403, 404, 405, 413 and 415 the rules demand are correct, not undocumented"
    ),
    "positive_data_acceptance": (
        "Z1: the schema cannot express every rule (an empty instruction, a pack without "
        "bn, feedbackTimeout under 10 minutes, an unknown sort field), so schema-valid "
        "requests are rightly rejected"
    ),
    "use_after_free": (
        "X4: DELETE cancels a downlink, it does not remove it; reading it afterwards "
        "(200, status CANCELLED) is correct"
    ),
}

# Checks that send requests without a token and expect a refusal (A1): right only where
# the target checks tokens. With M1 auth `off` (A4) every caller is let in, correctly.
AUTH_CHECKS: dict[str, str] = {
    "ignored_auth": (
        "A4: the target's auth is off (M1), so a request without a token is rightly "
        "accepted; A1's checks are skipped for the same reason"
    ),
    "missing_required_header": (
        "A4: the target's auth is off (M1), so a request without an Authorization "
        "header is rightly accepted; A1's checks are skipped for the same reason"
    ),
}

_CREATE = "POST /downlinks"


def excluded_checks(target: Target) -> dict[str, str]:
    """The Schemathesis checks not run against `target`, with why: Z1's, and the auth
    checks when the target's auth mode takes every caller (A4 `off`)."""
    excluded = dict(EXCLUDED)
    if target.auth == "off":
        excluded.update(AUTH_CHECKS)
    return excluded


@contextmanager
def _scratch_storage() -> Iterator[str]:
    """A temporary directory for what Hypothesis and Schemathesis would otherwise leave in
    the working directory (`.hypothesis/`, `.schemathesis/`); removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="downlinks-contract-") as scratch:
        previous = hypothesis_configuration.storage_directory(intent_to_write=False).path
        hypothesis_configuration.set_hypothesis_home_dir(scratch)
        try:
            yield scratch
        finally:
            hypothesis_configuration.set_hypothesis_home_dir(previous)


@dataclass
class SchemathesisRun:
    """What a Schemathesis run produced: one result per check, and notes for the report."""

    results: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requests: int = 0
    duration: float = 0.0
    interrupted: bool = False  # stopped by Ctrl-C (SIGINT): the run must not be green


def _check(name: str, title: str) -> Check:
    def func(ctx: Any) -> None:  # results are made by this module, never by calling it
        raise NotImplementedError

    func.__name__ = f"schemathesis_{name}"
    return Check(rule=RULE, title=title, tag=Tag.SPEC, mode=Mode.BLACK_BOX, func=func)


def _excerpt(response: Any) -> str:
    if response is None:
        return ""
    lines = [f"HTTP {response.status_code} {getattr(response, 'message', '')}".rstrip()]
    for name in ("content-type", "location", "www-authenticate", "allow"):
        values = response.headers.get(name)
        if values:
            lines.append(f"{name}: {values[0] if isinstance(values, list) else values}")
    body = response.content.decode("utf-8", "replace") if response.content else ""
    if body:
        lines += ["", body[:EXCERPT_CHARS] + (" ..." if len(body) > EXCERPT_CHARS else "")]
    return "\n".join(lines)


def _realistic_creates(
    network_id: str, run_id: str, spec: dict[str, Any]
) -> Callable[[Any, Any], Any]:
    """A `map_case` hook: positive creates get a valid pack for this run's device (K1) and,
    where they carry one, a run-unique externalReference and a feedbackTimeout that passes.

    A negative create whose pack is schema-valid is broken elsewhere: it gets the valid
    pack too, so that a target refusing it must refuse it for the field that is broken
    (a generated pack would be refused anyway, for lack of a `bn`, C2)."""
    serial = itertools.count()
    pack = [{"bn": network_id}, {"n": "x", "v": 1}]
    pack_is_valid = schema_validator(spec, "SenMLPack").is_valid

    def map_case(context: Any, case: Any) -> Any:
        if case.operation.label != _CREATE or not isinstance(case.body, dict):
            return case
        meta = case.meta
        if meta is not None and meta.is_negative_at(ParameterLocation.BODY):
            instruction = case.body.get("instruction")
            if isinstance(instruction, list) and pack_is_valid(instruction):
                case.body = {**case.body, "instruction": pack}
            return case
        body = dict(case.body)
        body["instruction"] = pack
        if "externalReference" in body:
            body["externalReference"] = f"contract-{run_id}-st-{next(serial)}"
        if "feedbackTimeout" in body:
            body["feedbackTimeout"] = "PT1H"
        method = body.get("method")
        if isinstance(method, dict) and method.get("protocol") == "LORA":
            port = method.get("fPort")
            if isinstance(port, int) and not 1 <= port <= 223:
                body["method"] = {**method, "fPort": 1}
        case.body = body
        return case

    return map_case


def run_schemathesis(
    target: Target,
    spec: dict[str, Any],
    *,
    run_id: str,
    network_id: str,
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    seed: int | None = None,
    timeout: float = 10.0,
    stateful: bool = True,
) -> SchemathesisRun:
    """Run Schemathesis against `target` with the target's token; results under rule Z1.

    Hypothesis keeps no example database; its other files and Schemathesis' cache go to a
    temporary directory for the run, so nothing is left in the working directory. A Ctrl-C
    ends the run early with `interrupted` set (Schemathesis turns SIGINT into an event rather than an exception)."""
    started = time.perf_counter()
    excluded = excluded_checks(target)
    with _scratch_storage() as scratch:
        config: dict[str, Any] = {
            "base-url": target.base_url,
            "headers": {"Authorization": f"Bearer {target.token}"},
            "generation": {
                "mode": "all",
                "max-examples": max_examples,
                "database": "none",  # no example database: nothing to keep between runs
            },
            "checks": {name: {"enabled": False} for name in excluded},
            "request-timeout": timeout,
            "cache": {"enabled": False, "directory": f"{scratch}/cache"},
            # Our curl lines must reproduce; tokens the user gave are redacted by us instead.
            "output": {"sanitization": {"enabled": False}},
            "phases": {
                "stateful": {
                    "enabled": stateful,
                    "inference": {"algorithms": ["location-headers"]},
                }
            },
        }
        if seed is not None:
            config["seed"] = seed
        schema = schemathesis.openapi.from_dict(spec, config=schemathesis.Config.from_dict(config))
        schema.hooks.register_hook_with_name(
            _realistic_creates(network_id, run_id, spec), "map_case"
        )
        outcome = SchemathesisRun()
        tally = _Tally(target)
        try:
            for event in from_schema(schema).execute():
                if isinstance(event, events.Interrupted):
                    outcome.interrupted = True
                else:
                    tally.take(event, outcome)
        except KeyboardInterrupt:
            outcome.interrupted = True
    outcome.duration = time.perf_counter() - started
    outcome.results = tally.results(outcome, excluded)
    return outcome


class _Tally:
    """Folds Schemathesis' events into passes, distinct failures and transport errors."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.passed: dict[str, int] = {}
        self.failures: dict[str, dict[tuple[str, str, str], Finding]] = {}
        self.transport_errors: list[Finding] = []

    def take(self, event: Any, outcome: SchemathesisRun) -> None:
        """Account for one engine event."""
        if isinstance(event, (events.ScenarioFinished, events.FuzzScenarioFinished)):
            recorder = event.recorder
            outcome.requests += len(recorder.interactions)
            for case_id, nodes in recorder.checks.items():
                for node in nodes:
                    self._node(recorder, case_id, node)
        elif isinstance(event, events.NonFatalError):
            text = event.info.format(base_url_is_set=True).strip().splitlines()
            summary = " ".join(line.strip() for line in text[:3] if line.strip())
            if _is_transport(event.value):
                finding = Finding(
                    f"{event.label}: the target did not answer ({summary})",
                    expected="an answer to every request",
                    actual=type(event.value).__name__,
                )
                finding.rule, finding.rule_text = RULE, RULES[RULE]
                self.transport_errors.append(finding)
            else:
                # Errors of the tool itself (data generation, hooks) say nothing about the
                # target: reported, never counted as a failure of the target.
                outcome.notes.append(f"Schemathesis could not test {event.label}: {summary}")
        elif isinstance(event, events.FatalError):
            outcome.notes.append(f"Schemathesis stopped: {event.exception}")

    def _node(self, recorder: Any, case_id: str, node: Any) -> None:
        self.passed.setdefault(node.name, 0)
        info = node.failure_info
        if info is None:
            self.passed[node.name] += 1
            return
        failure = info.failure
        key = (failure.operation or "", failure.title, failure.message)
        bucket = self.failures.setdefault(node.name, {})
        if key in bucket:
            return
        interaction = recorder.interactions.get(case_id)
        steps = [s.curl for s in info.steps] or [info.code_sample]
        finding = Finding(
            f"{failure.operation}: {failure.title}",
            expected=f"Schemathesis check {node.name} passes",
            actual=failure.message.strip(),
            request=redact("\n".join(steps), self.target.secrets),
            response=_excerpt(interaction.response if interaction else None),
        )
        finding.rule, finding.rule_text = RULE, RULES[RULE]
        bucket[key] = finding

    def results(self, outcome: SchemathesisRun, excluded: dict[str, str]) -> list[Result]:
        """One result per check seen, the transport errors, and the exclusions as skips."""
        out: list[Result] = []
        for name in sorted(set(self.passed) | set(self.failures)):
            found = list(self.failures.get(name, {}).values())
            check = _check(name, f"Schemathesis check {name} over every operation")
            out.append(
                Result(
                    check=check,
                    outcome=Outcome.FAILED if found else Outcome.PASSED,
                    findings=found,
                    reason="" if found else f"{self.passed.get(name, 0)} responses passed",
                    duration=outcome.duration,
                )
            )
        if self.transport_errors:
            out.append(
                Result(
                    check=_check("transport", "Schemathesis: every request is answered"),
                    outcome=Outcome.FAILED,
                    findings=self.transport_errors,
                )
            )
        if not out:
            why = "interrupted" if outcome.interrupted else "; ".join(outcome.notes) or "no cases"
            out.append(
                Result(
                    check=_check("run", "Schemathesis over every operation"),
                    outcome=Outcome.SKIPPED,
                    reason=f"Schemathesis ran no checks: {why}",
                )
            )
        for name, reason in excluded.items():
            out.append(
                Result(
                    check=_check(name, f"Schemathesis check {name}"),
                    outcome=Outcome.SKIPPED,
                    reason=f"excluded: {reason}",
                )
            )
        return out


def _is_transport(exc: BaseException) -> bool:
    return isinstance(exc, (requests.ConnectionError, requests.Timeout))


def crashed_results(exc: BaseException) -> list[Result]:
    """The Z1 entry of a run where Schemathesis itself failed to start or finish."""
    return [
        Result(
            check=_check("run", "Schemathesis over every operation"),
            outcome=Outcome.ERROR,
            reason=f"Schemathesis could not run: {type(exc).__name__}: {exc}",
            findings=[Finding(f"Schemathesis could not run: {type(exc).__name__}: {exc}")],
        )
    ]


def skipped_results(reason: str) -> list[Result]:
    """The Z1 entry of a run that does not start Schemathesis (--no-schemathesis, --skip)."""
    return [
        Result(
            check=_check("run", "Schemathesis over every operation"),
            outcome=Outcome.SKIPPED,
            reason=reason,
        )
    ]
