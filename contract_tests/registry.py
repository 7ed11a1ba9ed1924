"""The check registry: every contract check is a plain function registered with its rule.

    from contract_tests.registry import check, Finding, Skip

    @check("L2", "createdBefore is exclusive", tag=Tag.SPEC, group="L")
    def created_before_is_exclusive(ctx: Context) -> None:
        ...
        if wrong:
            raise Finding("createdBefore selected an item created at the bound", ...)

A check passes by returning, fails by raising `Finding`, and is skipped by raising `Skip`
with the reason (K2: a rule a mode cannot reach is skipped, never passed).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Tag",
    "Mode",
    "Check",
    "Registry",
    "CHECKS",
    "check",
    "Finding",
    "Skip",
    "ContractError",
]


class Tag(str, enum.Enum):
    """How binding a rule is (behaviour.md preamble)."""

    SPEC = "spec"  # the OpenAPI document says so: always enforced
    CONVENTION = "convention"  # implied by the spec or HTTP: enforced by default
    MOCK = "mock"  # this mock's choice: enforced only with --profile mock


class Mode(str, enum.Enum):
    """What a check needs from the target (K2)."""

    BLACK_BOX = "black-box"  # public API only: runs in every mode
    FULL = "full"  # needs the test hooks M1-M5: skipped in black-box mode


class ContractError(Exception):
    """Root of the toolkit's own errors (usage, connection): exit code 2, one clear line."""


class Skip(Exception):
    """Raised by a check that cannot run against this target; the message says why."""


class Finding(Exception):
    """A rule broken by the target (K3): what was expected, what came back, and how to see it.

    `request` is a `curl` line reproducing the offending request; `response` an excerpt
    (status, headers of note, body prefix). The check runner fills in the rule id and text.
    `setup` marks a finding raised while preparing what a check needs (a test hook that
    refused): the check could not judge its rule, so it is reported as an error.
    """

    def __init__(
        self,
        message: str,
        *,
        expected: str = "",
        actual: str = "",
        request: str = "",
        response: str = "",
        setup: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.actual = actual
        self.request = request
        self.response = response
        self.setup = setup
        self.rule: str = ""
        self.rule_text: str = ""


@dataclass(frozen=True)
class Check:
    """One registered check: a function plus the rule it enforces."""

    rule: str  # behaviour.md id, e.g. "L2"
    title: str  # one line: what is checked
    tag: Tag
    mode: Mode
    func: Callable[[Any], None] = field(compare=False)

    @property
    def group(self) -> str:
        """The rule's group letter(s): "L" for "L2"."""
        return self.rule.rstrip("0123456789")

    @property
    def name(self) -> str:
        """A stable id for reports and pytest: "L2-created_before_is_exclusive"."""
        return f"{self.rule}-{self.func.__name__}"


class Registry:
    """An ordered collection of checks, selectable by rule id or group."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def register(
        self, rule: str, title: str, *, tag: Tag, mode: Mode = Mode.BLACK_BOX
    ) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
        """Decorator: register `func` as a check of `rule`."""

        def decorate(func: Callable[[Any], None]) -> Callable[[Any], None]:
            entry = Check(rule=rule, title=title, tag=tag, mode=mode, func=func)
            if entry.name in self._checks:
                raise ValueError(f"check {entry.name} registered twice")
            self._checks[entry.name] = entry
            return func

        return decorate

    def __iter__(self) -> Iterator[Check]:
        return iter(self._checks.values())

    def __len__(self) -> int:
        return len(self._checks)

    def select(
        self,
        *,
        tags: set[Tag] | None = None,
        only: set[str] | None = None,
        skip: set[str] | None = None,
    ) -> list[Check]:
        """Checks whose tag is in `tags`, whose rule or group is in `only` (if given) and
        in none of `skip`. Ids are matched case-insensitively: "L", "L2", "X3"."""

        def matches(c: Check, keys: set[str]) -> bool:
            keys = {k.upper() for k in keys}
            return c.rule.upper() in keys or c.group.upper() in keys or c.name in keys

        out = []
        for c in self:
            if tags is not None and c.tag not in tags:
                continue
            if only and not matches(c, only):
                continue
            if skip and matches(c, skip):
                continue
            out.append(c)
        return out


CHECKS = Registry()
check = CHECKS.register
