"""A scenario's compiled form (S4) and the errors that refuse one.

`scenarios.py` loads and checks documents into these; `progression.py` plays them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mock_server.domain.model import Downlink, Status
from mock_server.timeline.scenario_patterns import TextPattern

__all__ = [
    "KeyPath",
    "Problem",
    "ScenarioError",
    "Delay",
    "Step",
    "Progression",
    "Rule",
    "Scenario",
]

KeyPath = tuple[str | int, ...]


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
    network_id: TextPattern | None = None
    protocols: frozenset[str] | None = None
    external_reference: TextPattern | None = None

    def matches(self, dl: Downlink) -> bool:
        if self.network_id is not None and not self.network_id.matches(dl.network_id):
            return False
        if self.protocols is not None:
            protocol = (dl.method or {}).get("protocol")
            if protocol not in self.protocols:
                return False
        if self.external_reference is not None:
            ref = dl.external_reference
            if ref is None or not self.external_reference.matches(ref):
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
