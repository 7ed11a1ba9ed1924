"""Values as a request carries them: what JSON Schema cannot judge (NaN, unpaired
surrogates, integers too long to print), parameter strings coerced to their schema's
type, and violations rendered as E2 entries."""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterable
from typing import Any

from mock_server.http.problems import Violation
from mock_server.openapi.validation import json_pointer, show_value

__all__ = ["KeyPath", "coerce", "json_type", "unfit_values", "all_fit", "violations"]

KeyPath = tuple[str | int, ...]
"""Where a value sits: keys and indexes from the root."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_INTEGER = re.compile(r"-?[0-9]+", re.ASCII)
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?", re.ASCII)


# -- values a JSON schema cannot judge ------------------------------------------------


def json_type(value: object) -> str:
    """What a parsed JSON value is, with its article: "an object", "a string", ..."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "null" if value is None else type(value).__name__


def _printable(number: int) -> bool:
    """Whether Python can write `number` in decimal (3.11 caps the digits)."""
    limit = getattr(sys, "get_int_max_str_digits", lambda: 0)()
    if not limit or number.bit_length() <= limit * 3:
        return True
    try:
        str(number)
    except ValueError:
        return False
    return True


# Encodes only what `unfit_values` passes: a finite float (allow_nan), an int Python can
# write (its repr), text UTF-8 can carry (checked on the output).
_STRICT = json.JSONEncoder(ensure_ascii=False, allow_nan=False, check_circular=False)


def all_fit(values: list[Any]) -> bool:
    """Whether `unfit_values` would find nothing in `values`: one encode in C, the walk
    with paths left for a body that has something to report."""
    try:
        _STRICT.encode(values).encode("utf-8")
    except (ValueError, TypeError, RecursionError):  # UnicodeEncodeError is a ValueError
        return False
    return True


def unfit_values(items: Iterable[tuple[KeyPath, Any]]) -> tuple[list[tuple[KeyPath, str]], bool]:
    """Values no JSON text can carry or this server can render: NaN and infinities,
    unpaired surrogates, integers past Python's decimal limit (`fatal`: no error message
    could quote them, so nothing else is checked)."""
    found: list[tuple[KeyPath, str]] = []
    fatal = False
    stack = list(items)
    stack.reverse()
    while stack:
        path, value = stack.pop()
        if isinstance(value, float):
            if not math.isfinite(value):
                name = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
                found.append((path, f"{name} is not a JSON number: give a finite number"))
        elif isinstance(value, bool):
            pass
        elif isinstance(value, int):
            if not _printable(value):
                fatal = True
                found.append((path, "the integer has more digits than this server handles"))
        elif isinstance(value, str):
            if _SURROGATE.search(value):
                found.append((path, "the string holds an unpaired surrogate, not a character"))
        elif isinstance(value, dict):
            for key, inner in reversed(value.items()):
                if isinstance(key, str) and _SURROGATE.search(key):
                    found.append((path + (key,), "the label holds an unpaired surrogate"))
                stack.append((path + (key,), inner))
        elif isinstance(value, list):
            for index in range(len(value) - 1, -1, -1):
                stack.append((path + (index,), value[index]))
    return found, fatal


def violations(found: Iterable[tuple[KeyPath, str]], prefix: str = "#") -> list[Violation]:
    """Render (path, detail) pairs as E2 entries, without repeats, in the order found; the
    pointers start at `prefix` (e.g. "#/3" for the fourth record)."""
    out: list[Violation] = []
    seen: set[tuple[str, str]] = set()
    for path, detail in found:
        pointer = prefix + json_pointer(path)[1:]
        if (pointer, detail) not in seen:
            seen.add((pointer, detail))
            out.append({"pointer": pointer, "detail": detail})
    return out


def coerce(text: str, kind: str | None) -> object:
    """A parameter's string as the JSON type its schema declares. ValueError if it is not."""
    if kind == "integer":
        if not _INTEGER.fullmatch(text):
            raise ValueError(
                f"{show_value(text)} is not an integer: write digits, with a leading - if negative"
            )
        limit = getattr(sys, "get_int_max_str_digits", lambda: 0)()
        if limit and len(text.lstrip("-")) > limit:
            raise ValueError(f"the integer has more than {limit} digits")
        return int(text)
    if kind == "number":
        if not _NUMBER.fullmatch(text):
            raise ValueError(f"{show_value(text)} is not a number")
        number = float(text) if any(c in text for c in ".eE") else int(text)
        if isinstance(number, float) and not math.isfinite(number):
            raise ValueError(f"{show_value(text)} is too large a number")
        return number
    if kind == "boolean":
        if text == "true":
            return True
        if text == "false":
            return False
        raise ValueError(f"{show_value(text)} is not a boolean: write true or false")
    return text
