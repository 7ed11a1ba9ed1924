"""Scenarios: which timeline of moves each new downlink gets (S3, S4).

A scenario file (YAML or JSON, see ``docs/scenarios.md``) is read, checked to be
representable (valid Unicode, finite numbers, no YAML aliases, shallow nesting), then
against ``scenarios/scenario.schema.json`` (the one truth about its shape and bounds,
which editors read too), then against what the schema cannot say: every step is a move
S1 allows from where the timeline can be at that point, names refer to progressions that
exist, patterns compile, a retry takes time. Every mistake is reported, each naming the
file, the key and the fix; nothing half-checked is ever used.

This module loads; `scenario_model` holds the compiled form, `scenario_checks` the
representability and schema checks, `scenario_compile` the rest, `scenario_patterns`
the rules' linear-time patterns.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import yaml

from mock_server.config import DATA_ROOT
from mock_server.timeline.scenario_checks import (
    MAX_DEPTH,
    SCHEMA_PATH,
    safe_yaml,
    scenario_schema,
    schema_problems,
    unrepresentable,
)
from mock_server.timeline.scenario_compile import (
    MAX_DURATION_MS,
    STATIC,
    Compiler,
    parse_duration,
)
from mock_server.timeline.scenario_model import (
    Delay,
    Problem,
    Progression,
    Rule,
    Scenario,
    ScenarioError,
    Step,
)

__all__ = [
    "SCHEMA_PATH",
    "LIBRARY_DIR",
    "BUILTIN_DIR",
    "STATIC",
    "MAX_DURATION_MS",
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

LIBRARY_DIR = DATA_ROOT / "scenarios"
BUILTIN_DIR = DATA_ROOT / "builtin"
_SUFFIXES = (".yaml", ".yml", ".json")


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
        return safe_yaml(text)
    except RecursionError:
        where, reason = (
            "somewhere",
            f"nested too deep (a scenario nests {MAX_DEPTH} levels at most)",
        )
    except json.JSONDecodeError as exc:
        where, reason = f"line {exc.lineno}, column {exc.colno}", exc.msg
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        reason = getattr(exc, "problem", None) or str(exc)
    raise ScenarioError(source, [Problem((), f"not valid YAML or JSON at {where}: {reason}")])


def parse_scenario(document: Any, source: str = "<scenario>") -> Scenario:
    """Check a scenario document (schema, then S1 and names) and compile it."""
    problems = list(unrepresentable(document))
    if problems:
        raise ScenarioError(source, problems)
    problems = list(schema_problems(document))
    if problems:
        raise ScenarioError(source, problems)
    compiler = Compiler(document)
    scenario = compiler.compile(source)
    if compiler.problems:
        raise ScenarioError(source, compiler.problems)
    return scenario


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(DATA_ROOT))
    except ValueError:
        return str(path)
