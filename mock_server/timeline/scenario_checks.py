"""What a scenario document must be before it is compiled: representable, then schema-valid.

Representable first: every string is valid Unicode (no lone surrogates, which no JSON
encoder can write back), every key a string, every number finite, and the nesting
shallow, so that nothing loaded can break a later read (GET /__mock/scenario) or the
checks that follow. Then the JSON Schema (``scenarios/scenario.schema.json``, the one
truth about the shape, with the bounds on numbers and sizes), each error explained with
its fix.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterator
from functools import cache
from typing import Any

import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]

from mock_server.config import DATA_ROOT
from mock_server.timeline.scenario_model import KeyPath, Problem

__all__ = [
    "SCHEMA_PATH",
    "MAX_DEPTH",
    "scenario_schema",
    "schema_problems",
    "unrepresentable",
    "safe_yaml",
]

SCHEMA_PATH = DATA_ROOT / "scenarios" / "scenario.schema.json"
MAX_DEPTH = 16  # a scenario nests 6 levels deep; anything far deeper is not one


def scenario_schema() -> dict[str, Any]:
    """The scenario JSON Schema (a fresh copy), e.g. for the control plane's OpenAPI."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors and aliases: a few hundred bytes of nested aliases expand
    to billions of nodes for every later walk ("billion laughs")."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in the stubs
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed: write the value out", event.start_mark
            )
        return super().compose_node(parent, index)


def safe_yaml(text: str) -> Any:
    """Parse YAML (or JSON) text without aliases; yaml.YAMLError when malformed."""
    return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 (a SafeLoader)


def unrepresentable(document: Any) -> Iterator[Problem]:
    """Everything in `document` that JSON cannot carry back out, or that is nested
    absurdly deep: each with its path and fix. Iterative, so depth cannot overflow."""
    stack: list[tuple[KeyPath, Any]] = [((), document)]
    while stack:
        path, value = stack.pop()
        if len(path) > MAX_DEPTH:
            yield Problem(path, f"nested deeper than {MAX_DEPTH} levels: no scenario is")
            continue
        if isinstance(value, str):
            if not _valid_unicode(value):
                yield Problem(path, "contains a lone surrogate (not valid Unicode): fix the text")
        elif isinstance(value, float):
            if not math.isfinite(value):
                yield Problem(path, "must be a finite number")
        elif isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    yield Problem((*path, str(key)), "keys must be strings: quote this key")
                elif not _valid_unicode(key):
                    yield Problem(path, "a key contains a lone surrogate: fix the key")
                else:
                    stack.append(((*path, key), item))
        elif isinstance(value, list):
            stack.extend(((*path, i), item) for i, item in enumerate(value))
        elif value is not None and not isinstance(value, (bool, int)):
            # YAML dates, binary and the like: the schema never asks for them.
            yield Problem(path, f"expected a string, number, list or object, not {_kind(value)}")


def _valid_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(scenario_schema())


def schema_problems(document: Any) -> Iterator[Problem]:
    """Every schema error of `document`, explained, each once."""
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
    if value is None:
        return "null"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "a number"
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "true/false"}
    return kinds.get(type(value), f"a {type(value).__name__}")
