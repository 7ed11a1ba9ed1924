"""Text patterns of scenario rules: globs and regexes matched in linear time.

A rule's pattern is written by whoever loads a scenario, over HTTP too (M6), and is run
on every new downlink, so it must not be able to stall the mock: Python's backtracking
`re` takes seconds on `^(a+)+$` against 28 characters. Both kinds compile to RE2
(google-re2), whose matching time is linear in the text, and whose syntax has no
backreferences or lookaround (which would need backtracking).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

import re2  # type: ignore[import-untyped]

__all__ = ["PatternKind", "TextPattern", "PatternError", "compile_pattern", "glob_to_regex"]

# What one compiled pattern may use: far above any rule a person writes, far below what
# could make compiling a pattern itself costly.
_MAX_MEM = 1 << 20


class PatternKind(str, enum.Enum):
    """How a rule's pattern is written."""

    GLOB = "glob"  # * any run, ? one character, [abc] a set; the whole value must match
    REGEX = "regex"  # RE2 syntax, found anywhere unless anchored with ^ or $


class PatternError(ValueError):
    """A pattern that cannot be compiled; the message says why."""


@dataclass(frozen=True, slots=True)
class TextPattern:
    """A compiled rule pattern; `source` is what the scenario wrote."""

    kind: PatternKind
    source: str
    compiled: Any = field(repr=False, compare=False)

    def matches(self, text: str) -> bool:
        """Whether the pattern matches `text` (linear time in len(text))."""
        return self.compiled.search(text) is not None


def glob_to_regex(glob: str) -> str:
    """A glob as an anchored RE2 regex: `*` any run, `?` one character, `[...]` a set
    (`[!...]` or `[^...]` its complement); everything else stands for itself."""
    out = ["^"]
    i, n = 0, len(glob)
    while i < n:
        char = glob[i]
        i += 1
        if char == "*":
            out.append("(?s:.*)")
        elif char == "?":
            out.append("(?s:.)")
        elif char == "[":
            end = i + 1 if i < n and glob[i] in "!^" else i
            end = end + 1 if end < n and glob[end] == "]" else end
            end = glob.find("]", end)
            if end < 0:  # no closing bracket: a literal [
                out.append(re2.escape(char))
                continue
            body = glob[i:end]
            i = end + 1
            negate = body[:1] in ("!", "^")
            body = body[1:] if negate else body
            escaped = "".join("\\" + c if c in "\\]^[" else c for c in body)
            out.append(("[^" if negate else "[") + escaped + "]")
        else:
            out.append(re2.escape(char))
    out.append("$")
    return "".join(out)


def compile_pattern(kind: PatternKind, source: str) -> TextPattern:
    """Compile a glob or an RE2 regex; PatternError when RE2 cannot take it."""
    regex = glob_to_regex(source) if kind is PatternKind.GLOB else source
    options = re2.Options()
    options.log_errors = False  # the problem goes back to the author, not to stderr
    options.max_mem = _MAX_MEM
    try:
        compiled = re2.compile(regex, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(str(reason)) from None
    return TextPattern(kind, source, compiled)
