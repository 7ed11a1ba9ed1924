"""Compiling a schema-valid scenario document, with the checks a schema cannot make.

Every step is a move S1 allows from every status the timeline can be in at that point;
names refer to progressions that exist; patterns compile to RE2 (linear-time matching);
durations stay within MAX_DURATION_MS; and a retry cannot fail at the instant it starts,
so that one timeline makes a bounded number of moves at any one instant however large a
downlink's retryLimit (each try that ends in RETRY takes at least a millisecond of the
clock). Every problem is collected, each naming the key and the fix.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from mock_server.domain.lifecycle import can_move
from mock_server.domain.model import Status
from mock_server.domain.timefmt import parse_duration_ms
from mock_server.timeline.scenario_model import (
    Delay,
    KeyPath,
    Problem,
    Progression,
    Rule,
    Scenario,
    Step,
)
from mock_server.timeline.scenario_patterns import (
    PatternError,
    PatternKind,
    TextPattern,
    compile_pattern,
)

__all__ = ["STATIC", "MAX_DURATION_MS", "Compiler", "parse_duration"]

STATIC = "static"  # the progression every scenario has: never moves
MAX_DURATION_MS = 365 * 86_400_000  # one delay or timeout: at most a year
_SHORT_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d)$", re.ASCII)
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_FAILURES = (Status.RETRY, Status.FAILED, Status.CANCELLED)


def parse_duration(value: int | str) -> int:
    """Milliseconds of a scenario duration (`250ms`, `2s`, `5m`, `1h`, `1d`, ISO, or ms)."""
    if isinstance(value, int):
        return value
    m = _SHORT_DURATION.match(value)
    if m is not None:
        return int(m.group(1)) * _UNIT_MS[m.group(2)]
    return parse_duration_ms(value)


class Compiler:
    """Compiles a schema-valid document, collecting every semantic problem."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.doc = document
        self.problems: list[Problem] = []

    def fail(self, path: KeyPath, detail: str) -> None:
        self.problems.append(Problem(path, detail))

    def compile(self, source: str) -> Scenario:
        doc = self.doc
        progressions: dict[str, Progression] = {}
        for name, body in doc["progressions"].items():
            progressions[name] = self.progression(name, body)
        progressions.setdefault(STATIC, Progression(STATIC, (), (), description="never moves"))
        names = list(progressions)
        default = doc.get("default")
        if default is None:
            defined = list(doc["progressions"])
            if len(defined) == 1:
                default = defined[0]
            else:
                self.fail(("default",), f"is missing: add default: <one of {', '.join(defined)}>")
                default = STATIC
        else:
            self.check_name(("default",), default, names)
        rules = tuple(self.rule(("rules", i), r, names) for i, r in enumerate(doc.get("rules", [])))
        return Scenario(
            name=doc["name"],
            source=source,
            progressions=progressions,
            rules=rules,
            default=default if default in progressions else STATIC,
            seed=doc.get("seed"),
            description=doc.get("description", ""),
            document=doc,
        )

    def check_name(self, path: KeyPath, name: str, names: list[str]) -> None:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            fix = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(names)}"
            self.fail(path, f"no progression {name!r} in this scenario: {fix}")

    def rule(self, path: KeyPath, body: dict[str, Any], names: list[str]) -> Rule:
        self.check_name((*path, "progression"), body["progression"], names)
        protocols = body.get("protocol")
        if isinstance(protocols, str):
            protocols = [protocols]
        return Rule(
            progression=body["progression"],
            network_id=self.pattern((*path, "networkId"), body.get("networkId")),
            protocols=frozenset(protocols) if protocols is not None else None,
            external_reference=self.pattern(
                (*path, "externalReference"), body.get("externalReference")
            ),
        )

    def pattern(self, path: KeyPath, value: str | dict[str, str] | None) -> TextPattern | None:
        if value is None:
            return None
        if isinstance(value, str):
            kind, source, where = PatternKind.GLOB, value, path
        else:
            kind, source, where = PatternKind.REGEX, value["regex"], (*path, "regex")
        try:
            return compile_pattern(kind, source)
        except PatternError as exc:
            what = "glob" if kind is PatternKind.GLOB else "regular expression"
            self.fail(
                where,
                f"not a valid {what} ({exc}); the syntax is RE2's, which has no "
                "backreferences or lookaround: rewrite it without them, or write a glob",
            )
            return None

    def progression(self, name: str, body: dict[str, Any]) -> Progression:
        base: KeyPath = ("progressions", name)
        steps = self.steps((*base, "steps"), body["steps"], {Status.PENDING})
        if "retrySteps" in body:
            retry = self.steps((*base, "retrySteps"), body["retrySteps"], {Status.RETRY})
        else:
            starts = [i for i, s in enumerate(steps) if s.target is Status.EXECUTING]
            retry = steps[starts[0] :] if starts else ()
        if any(s.target is Status.RETRY for s in (*steps, *retry)) and not retry:
            self.fail(
                (*base, "retrySteps"),
                "a step moves to RETRY but no later try is given: add retrySteps "
                "(starting with a move to EXECUTING) or a step to EXECUTING in steps",
            )
        self.check_retry_takes_time(base, body, steps, retry)
        timeout = body.get("feedbackTimeout")
        timeout_ms = (
            self.duration((*base, "feedbackTimeout"), timeout) if timeout is not None else None
        )
        if timeout_ms == 0:
            self.fail((*base, "feedbackTimeout"), "must be longer than 0; e.g. PT10M")
        return Progression(name, steps, retry, timeout_ms, body.get("description", ""))

    def duration(self, path: KeyPath, value: int | str) -> int:
        try:
            ms = parse_duration(value)
        except ValueError as exc:
            self.fail(path, str(exc))
            return 0
        if ms > MAX_DURATION_MS:
            self.fail(path, "is longer than a year, the longest the mock schedules: shorten it")
            return 0
        return ms

    def delay(self, path: KeyPath, value: Any) -> Delay:
        if isinstance(value, dict):
            low = self.duration((*path, "min"), value["min"])
            high = self.duration((*path, "max"), value["max"])
            if high < low:
                self.fail(path, "min is longer than max: swap them")
                high = low
            return Delay(low, high)
        ms = self.duration(path, value)
        return Delay(ms, ms)

    def steps(
        self, path: KeyPath, items: list[dict[str, Any]], start: set[Status]
    ) -> tuple[Step, ...]:
        """Compile steps, walking every status the timeline may be in (S1 at every step)."""
        out: list[Step] = []
        now: set[Status] | None = set(start)  # None: no later step can run
        for i, body in enumerate(items):
            here = (*path, i)
            chance = float(body.get("chance", 1))
            if now is None:
                self.fail(
                    here,
                    "never runs: the step before it always ends this try (a terminal move or "
                    "RETRY); remove it, or give the step before a chance below 1",
                )
                now = set()
            step = Step(
                delay=self.delay((*here, "after"), body["after"]),
                target=Status(body["to"]) if "to" in body else None,
                parts_delivered=body.get("partsDelivered", 0),
                error_code=body.get("errorCode"),
                chance=chance,
            )
            out.append(step)
            if step.target is None:
                if now and now != {Status.SENT_TO_CARRIER}:
                    self.fail(
                        (*here, "partsDelivered"),
                        "parts are delivered only while SENT_TO_CARRIER, but here the downlink "
                        f"may be {_statuses(now)}: move to SENT_TO_CARRIER first",
                    )
                continue
            self.check_move(here, step, now)
            if step.error_code is not None and step.target not in _FAILURES:
                self.fail(
                    (*here, "errorCode"),
                    f"a move to {step.target.value} logs no errorCode: remove it "
                    "(errorCode goes with RETRY, FAILED or CANCELLED)",
                )
            ends = step.target.terminal or step.target is Status.RETRY
            if chance >= 1:
                now = None if ends else {step.target}
            elif not ends:
                now = now | {step.target}
        return tuple(out)

    def check_retry_takes_time(
        self,
        base: KeyPath,
        body: dict[str, Any],
        steps: tuple[Step, ...],
        retry: tuple[Step, ...],
    ) -> None:
        """A retry that can end in RETRY at the instant it starts would loop retryLimit
        times without the clock moving: refuse it, naming the RETRY step."""
        if "retrySteps" in body:
            where: KeyPath = (*base, "retrySteps")
            offset = 0
        else:  # the default retry: steps from their first move to EXECUTING on
            where, offset = (*base, "steps"), len(steps) - len(retry)
        elapsed = 0
        for i, step in enumerate(retry):
            elapsed += step.delay.low
            if step.target is Status.RETRY and elapsed == 0:
                self.fail(
                    (*where, offset + i, "after"),
                    "a retry could fail at the instant it starts and so loop without the "
                    "clock moving: give this step, or one before it in the retry, a delay "
                    "above 0 (a range's min above 0)",
                )
                return

    def check_move(self, path: KeyPath, step: Step, now: set[Status]) -> None:
        target = step.target
        assert target is not None
        bad = sorted((s for s in now if not can_move(s, target)), key=list(Status).index)
        if not bad:
            return
        between = _shortest_way(bad[0], target) if len(bad) == 1 else None
        if between:
            steps = " and ".join(s.value for s in between)
            fix = f"add a step to {steps} before it" + (
                " (a try fails only once started)" if target is Status.RETRY else ""
            )
        else:
            allowed = sorted({t.value for s in bad for t in _moves_from(s)})
            fix = f"from there S1 allows {', '.join(allowed) or 'nothing'}"
        if len(now) > len(bad):
            fix += f" (a step with a chance below 1 may leave it {_statuses(bad)})"
        self.fail(
            (*path, "to"),
            f"S1 forbids the move {_statuses(bad)} -> {target.value} here: {fix}",
        )


def _shortest_way(start: Status, target: Status) -> list[Status] | None:
    """The statuses S1 passes through on the shortest way from `start` to `target`."""
    ways: dict[Status, list[Status]] = {start: []}
    queue = [start]
    for status in queue:
        for nxt in _moves_from(status):
            if nxt not in ways and not nxt.terminal and nxt is not Status.RETRY:
                ways[nxt] = [*ways[status], nxt]
                queue.append(nxt)
            if nxt is target and status is not start:
                return ways[status]
    return None


def _moves_from(status: Status) -> Iterable[Status]:
    return (t for t in Status if can_move(status, t))


def _statuses(statuses: Iterable[Status]) -> str:
    return " or ".join(s.value for s in sorted(statuses, key=list(Status).index))
