"""Scenarios: which timeline of moves each new downlink gets (S3, S4).

A scenario file (YAML or JSON, see ``docs/scenarios.md``) is checked against
``scenarios/scenario.schema.json`` (the one truth about its shape, which editors read too),
then against what the schema cannot say: every step is a move S1 allows from where the
timeline can be at that point, names refer to progressions that exist, regexes compile.
Every mistake is reported, each naming the file, the key and the fix.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from mock_server.config import DATA_ROOT
from mock_server.domain.model import Downlink, Status, can_move
from mock_server.domain.timefmt import parse_duration_ms

__all__ = [
    "SCHEMA_PATH",
    "LIBRARY_DIR",
    "BUILTIN_DIR",
    "STATIC",
    "Problem",
    "ScenarioError",
    "Delay",
    "Step",
    "Progression",
    "Rule",
    "Scenario",
    "parse_duration",
    "parse_scenario",
    "load_scenario",
    "load_named",
    "scenario_schema",
    "parse_text",
    "load_scenario_file",
    "scenario_names",
]

SCHEMA_PATH = DATA_ROOT / "scenarios" / "scenario.schema.json"
LIBRARY_DIR = DATA_ROOT / "scenarios"
BUILTIN_DIR = DATA_ROOT / "builtin"
STATIC = "static"  # the progression every scenario has: never moves
_SUFFIXES = (".yaml", ".yml", ".json")
_SHORT_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d)$", re.ASCII)
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_FAILURES = (Status.RETRY, Status.FAILED, Status.CANCELLED)

KeyPath = tuple[str | int, ...]


# -- errors ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake: where (a path of keys and indexes) and what to do about it."""

    path: KeyPath
    detail: str

    @property
    def key(self) -> str:
        """The path as a reader writes it: ``progressions.slow.steps[1].after``."""
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        return out or "(top level)"

    @property
    def pointer(self) -> str:
        """The path as a JSON Pointer URI fragment (E2): ``#/progressions/slow/steps/1``."""
        parts = (str(p).replace("~", "~0").replace("/", "~1") for p in self.path)
        return "#" + "".join("/" + p for p in parts)


class ScenarioError(ValueError):
    """A scenario that cannot be used; `problems` lists every mistake found."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {p.key}: {p.detail}" for p in problems]
        super().__init__("invalid scenario\n  " + "\n  ".join(lines))

    def errors(self) -> list[dict[str, str]]:
        """The problems as E2 `errors` entries."""
        return [{"pointer": p.pointer, "detail": p.detail} for p in self.problems]


# -- the compiled form -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delay:
    """Between `low` and `high` ms (equal: a fixed delay)."""

    low: int
    high: int

    @property
    def random(self) -> bool:
        return self.high > self.low


@dataclass(frozen=True, slots=True)
class Step:
    """After `delay`, a move to `target`, or `parts_delivered` more parts delivered."""

    delay: Delay
    target: Status | None = None
    parts_delivered: int = 0
    error_code: str | None = None
    chance: float = 1.0


@dataclass(frozen=True, slots=True)
class Progression:
    """A timeline: `steps` from PENDING, `retry_steps` for each try after a RETRY."""

    name: str
    steps: tuple[Step, ...]
    retry_steps: tuple[Step, ...]
    feedback_timeout_ms: int | None = None
    description: str = ""

    @property
    def still(self) -> bool:
        """Whether it never moves (no timeline is kept for it)."""
        return not self.steps


@dataclass(frozen=True, slots=True)
class Rule:
    """Conditions on a new downlink (all must hold) and the progression they pick."""

    progression: str
    network_id: re.Pattern[str] | None = None
    protocols: frozenset[str] | None = None
    external_reference: re.Pattern[str] | None = None

    def matches(self, dl: Downlink) -> bool:
        if self.network_id is not None and not self.network_id.search(dl.network_id):
            return False
        if self.protocols is not None:
            protocol = (dl.method or {}).get("protocol")
            if protocol not in self.protocols:
                return False
        if self.external_reference is not None:
            ref = dl.external_reference
            if ref is None or not self.external_reference.search(ref):
                return False
        return True


@dataclass(frozen=True)
class Scenario:
    """A loaded scenario. `document` is what it was loaded from (GET /__mock/scenario)."""

    name: str
    source: str
    progressions: Mapping[str, Progression]
    rules: tuple[Rule, ...]
    default: str
    seed: int | None = None
    description: str = ""
    document: Mapping[str, Any] = field(default_factory=dict)

    def choose(self, dl: Downlink) -> Progression:
        """The progression of a new downlink: the first matching rule's, else the default."""
        for rule in self.rules:
            if rule.matches(dl):
                return self.progressions[rule.progression]
        return self.progressions[self.default]

    def summary(self) -> dict[str, Any]:
        """What M6 answers: name, source, progressions, rule count, default, seed."""
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "progressions": list(self.progressions),
            "rules": len(self.rules),
            "default": self.default,
            "seed": self.seed,
        }


# -- loading ---------------------------------------------------------------------------


def scenario_names() -> dict[str, Path]:
    """Every scenario loadable by name: the built-ins, then the library in `scenarios/`."""
    found: dict[str, Path] = {}
    for directory in (BUILTIN_DIR, LIBRARY_DIR):
        if directory.is_dir():
            for path in sorted(directory.iterdir()):
                # A stem with a dot (scenario.schema.json) is not a scenario.
                if path.suffix in _SUFFIXES and "." not in path.stem and path.stem not in found:
                    found[path.stem] = path
    return found


def load_scenario(ref: str | Path | None) -> Scenario:
    """A scenario by built-in or library name, or from a file; None: the built-in `default`."""
    if ref is None:
        ref = "default"
    if isinstance(ref, str) and "/" not in ref and "\\" not in ref and not ref.endswith(_SUFFIXES):
        return load_named(ref, source=ref, instead="a path to a .yaml or .json file")
    return load_scenario_file(Path(ref))


def load_named(
    name: str, *, source: str = "the request body", instead: str = "a whole scenario"
) -> Scenario:
    """A built-in or library scenario by name (never a path: M6 takes names from the wire)."""
    names = scenario_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ScenarioError(
            source,
            [
                Problem(
                    ("name",),
                    f"no built-in or library scenario {name!r}: {hint}use one of "
                    f"{', '.join(names)}, or give {instead}",
                )
            ],
        )
    return load_scenario_file(names[name])


def scenario_schema() -> dict[str, Any]:
    """The scenario JSON Schema (a fresh copy), e.g. for the control plane's OpenAPI."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def load_scenario_file(path: Path) -> Scenario:
    """Read, check and compile one scenario file."""
    source = _display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(
            source, [Problem((), f"cannot read the file ({exc.strerror}); check the path")]
        ) from None
    return parse_scenario(parse_text(text, source, json_only=path.suffix == ".json"), source)


def parse_text(text: str, source: str, *, json_only: bool = False) -> Any:
    """YAML (or JSON, which YAML reads too) text -> a document; ScenarioError if malformed."""
    try:
        if json_only:
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        where, reason = f"line {exc.lineno}, column {exc.colno}", exc.msg
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        reason = getattr(exc, "problem", None) or str(exc)
    raise ScenarioError(source, [Problem((), f"not valid YAML or JSON at {where}: {reason}")])


def parse_scenario(document: Any, source: str = "<scenario>") -> Scenario:
    """Check a scenario document (schema, then S1 and names) and compile it."""
    problems = list(_schema_problems(document))
    if problems:
        raise ScenarioError(source, problems)
    compiler = _Compiler(document)
    scenario = compiler.compile(source)
    if compiler.problems:
        raise ScenarioError(source, compiler.problems)
    return scenario


def parse_duration(value: int | str) -> int:
    """Milliseconds of a scenario duration (`250ms`, `2s`, `5m`, `1h`, `1d`, ISO, or ms)."""
    if isinstance(value, int):
        return value
    m = _SHORT_DURATION.match(value)
    if m is not None:
        return int(m.group(1)) * _UNIT_MS[m.group(2)]
    return parse_duration_ms(value)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(DATA_ROOT))
    except ValueError:
        return str(path)


# -- the schema check --------------------------------------------------------------------


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(scenario_schema())


def _schema_problems(document: Any) -> Iterator[Problem]:
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(map(str, e.path)))
    seen: set[tuple[KeyPath, str]] = set()
    for error in errors:
        for problem in _explain(error):
            if (problem.path, problem.detail) not in seen:
                seen.add((problem.path, problem.detail))
                yield problem


def _explain(error: ValidationError) -> Iterator[Problem]:
    """A jsonschema error -> problems that say what to do (the schema's `errorMessage`)."""
    path: KeyPath = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    instance = error.instance
    hint = schema.get("errorMessage")
    if error.validator == "required" and isinstance(instance, dict):
        props = schema.get("properties", {})
        for key in error.validator_value:
            if key not in instance:
                what = props.get(key, {}).get("description")
                yield Problem((*path, key), "is missing: add it" + (f" ({what})" if what else ""))
        return
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = list(schema.get("properties", {}))
        for key in instance:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                fix = f"did you mean {close[0]!r}?" if close else "remove it"
                yield Problem((*path, key), f"unknown key: {fix} (allowed: {', '.join(allowed)})")
        return
    if "propertyNames" in error.schema_path:
        yield Problem((*path, str(instance)), hint or error.message)
        return
    if error.validator == "anyOf" and isinstance(instance, dict) and error.context:
        # The object branch failed on something precise (a missing max, a bad min): say that.
        deeper = [
            e
            for e in error.context
            if e.relative_path or e.validator in ("required", "additionalProperties")
        ]
        if deeper:
            for sub in deeper:
                yield from _explain(sub)
            return
    if error.validator == "type" and hint is None:
        yield Problem(path, f"expected {_article(error.validator_value)}, not {_kind(instance)}")
        return
    yield Problem(path, hint or error.message)


def _article(types: str | list[str]) -> str:
    names = [types] if isinstance(types, str) else types
    return " or ".join(("an " if t[0] in "aeiou" else "a ") + t for t in names)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else "null"
    )


# -- what the schema cannot say ---------------------------------------------------------


class _Compiler:
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

    def pattern(self, path: KeyPath, value: str | dict[str, str] | None) -> re.Pattern[str] | None:
        if value is None:
            return None
        if isinstance(value, str):
            return re.compile(fnmatch.translate(value))
        try:
            return re.compile(value["regex"])
        except re.error as exc:
            self.fail(
                (*path, "regex"),
                f"not a valid regular expression ({exc}); fix it or write a glob instead",
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
        timeout = body.get("feedbackTimeout")
        timeout_ms = (
            self.duration((*base, "feedbackTimeout"), timeout) if timeout is not None else None
        )
        if timeout_ms == 0:
            self.fail((*base, "feedbackTimeout"), "must be longer than 0; e.g. PT10M")
        return Progression(name, steps, retry, timeout_ms, body.get("description", ""))

    def duration(self, path: KeyPath, value: int | str) -> int:
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(path, str(exc))
            return 0

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
