"""The behaviour rules, read from docs/behaviour.md: the page people read is the data.

behaviour.md writes each rule as one bullet,

    - **L2 [spec]** `createdSince`/`modifiedSince` are inclusive ... **Choice:** ...

(`- **M1** ...` for a rule without a tag) under a heading that names its group,
`## Listing (L), ...`. The text up to `**Choice:**` is the rule as the behaviour contract
states it, which a finding quotes (K3); the rest is the mock's reading where the contract
leaves room. `parse` reads that format strictly, so a malformed bullet fails loudly instead
of dropping a rule, and `load` reads the page from the package's data
(`contract_tests/data/behaviour.md` links to docs/behaviour.md; a wheel carries it).

`cited_ids` finds the rule ids a text cites (`C6`, `L5-L7`), for the tests that keep every
citation in the code, tests and docs pointing at a rule that exists.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from contract_tests.registry import ContractError, Tag

__all__ = [
    "Rule",
    "Rulebook",
    "RulebookError",
    "Citation",
    "GROUP_LETTERS",
    "candidate_paths",
    "locate",
    "parse",
    "load",
    "cited_ids",
]

# The contract's groups, in its order: authentication, errors, creating, reading, time,
# listing, lifecycle, cancelling, the mock's control plane, the suite itself, schema tools.
GROUP_LETTERS = "AECRTLSXMKZ"

_FILE = "behaviour.md"
_CHOICE = "**Choice:**"
# `## Listing (L), `GET /downlinks``: a group's heading; any other `## ` heading ends it.
_HEADING = re.compile(r"^## (?P<title>.+?) \((?P<group>[A-Z])\)(?:, .*)?$")
_BULLET = re.compile(r"^- \*\*(?P<id>[A-Z][1-9]\d*)(?: \[(?P<tag>[a-z]+)\])?\*\* (?P<text>\S.*)$")
# Anything that starts like a rule bullet; if `_BULLET` refuses it, the bullet is malformed.
_BULLET_LIKE = re.compile(r"^\s*[-*+] \*\*[A-Z]\d")
_INLINE_TAG = re.compile(r"\[(spec|convention|mock)\]")
# A continuation line that Markdown would start a new block with (a list item, a quote, a
# heading), so that the page would show the rule cut in two while the data reads it whole.
_BLOCK_START = re.compile(r"^(?:>|(?:[-*+]|#{1,6}|\d{1,9}[.)])(?:\s|$))")
# A cited id: a group letter and a number without a leading zero, alone as a word,
# optionally a range (`L5-L7`, `M6-8`). The look-behind keeps `PT10M`, `0xA1` and `11T09`
# out; the look-ahead keeps `E501` (a ruff code), `A1B2` (hex), `E2E` and the time in
# `T12:30` out.
_CITED = re.compile(
    rf"(?<![A-Za-z0-9_])(?P<group>[{GROUP_LETTERS}])(?P<first>[1-9]\d?)"
    rf"(?:(?:-|\u2013|\.\.)(?P=group)?(?P<last>[1-9]\d?))?(?![A-Za-z0-9_]|:\d)"
)


class RulebookError(ContractError):
    """behaviour.md is missing or breaks the rule format; the message names file and line."""


@dataclass(frozen=True)
class Rule:
    """One behaviour rule as behaviour.md writes it."""

    id: str  # "L2"
    tag: Tag | None  # the bullet's tag; None for the untagged groups (M, K, Z)
    text: str  # the rule word for word, whitespace collapsed, without id, tag or choice
    choice: str  # the mock's reading after `**Choice:**`, "" when there is none
    group: str  # "L"
    line: int  # the bullet's line in behaviour.md, for error messages

    @property
    def quote(self) -> str:
        """What a finding quotes: "[spec] text", or the bare text for an untagged rule."""
        return f"[{self.tag.value}] {self.text}" if self.tag else self.text

    @property
    def tags(self) -> frozenset[Tag]:
        """Every tag the rule carries: its own and those inside its text (C2's `[mock]`)."""
        inline = {Tag(t) for t in _INLINE_TAG.findall(self.text)}
        return frozenset(inline | ({self.tag} if self.tag else set()))


@dataclass(frozen=True)
class Rulebook:
    """Every rule and group heading of one behaviour.md, in the page's order."""

    rules: dict[str, Rule]
    groups: dict[str, str]  # "L" -> "Listing"
    source: str  # where it was read from


@dataclass(frozen=True)
class Citation:
    """A rule id cited in some text: `line` is 1-based, `text` as written (`L5-L7`)."""

    line: int
    id: str
    text: str


def candidate_paths() -> list[Path]:
    """Where behaviour.md is: the package's data (`contract_tests/data` links to the source
    tree's docs/behaviour.md, and a wheel carries its contents)."""
    return [Path(str(resources.files("contract_tests").joinpath("data").joinpath(_FILE)))]


def locate() -> Path:
    """The behaviour.md this installation reads, or `RulebookError` naming where it looked."""
    paths = candidate_paths()
    for path in paths:
        if path.is_file():
            return path
    raise RulebookError(
        "behaviour.md not found (the rule texts); looked in " + ", ".join(map(str, paths))
    )


def parse(text: str, *, source: str = _FILE) -> Rulebook:
    """Read the rules out of behaviour.md's text; `RulebookError` on any malformed rule."""
    rules: dict[str, Rule] = {}
    groups: dict[str, str] = {}
    group: str | None = None
    bullet: tuple[int, str, str | None, list[str]] | None = None  # line, id, tag, text

    def fail(line: int, message: str) -> RulebookError:
        return RulebookError(f"{source}:{line}: {message}")

    def close() -> None:
        nonlocal bullet
        if bullet is not None:
            rule = _rule(bullet, source)
            rules[rule.id] = rule
        bullet = None

    for number, line in enumerate(text.splitlines(), start=1):
        if bullet is not None and line.startswith("  ") and line.strip():
            if _BLOCK_START.match(line.strip()):
                raise fail(
                    number, f"rule {bullet[1]}: this line starts a new Markdown block; rewrap"
                )
            bullet[3].append(line.strip())
            continue
        close()
        if line.startswith("## "):
            heading = _HEADING.match(line)
            group = heading["group"] if heading else None
            if heading:
                if heading["group"] not in GROUP_LETTERS:
                    raise fail(number, f"group {group} is none of the contract's {GROUP_LETTERS}")
                if group in groups:
                    raise fail(number, f"group {group} has a second heading")
                groups[heading["group"]] = heading["title"]
            continue
        match = _BULLET.match(line)
        if match is None:
            if _BULLET_LIKE.match(line):
                raise fail(number, f"malformed rule bullet (want `- **X1 [tag]** text`): {line}")
            continue
        rid, tag = match["id"], match["tag"]
        if group is None or rid[0] != group:
            raise fail(number, f"rule {rid} is not under its group's heading ({rid[0]})")
        if rid in rules:
            raise fail(number, f"rule {rid} is defined twice (first on line {rules[rid].line})")
        if tag is not None and tag not in {t.value for t in Tag}:
            raise fail(number, f"rule {rid} has the unknown tag [{tag}]")
        bullet = (number, rid, tag, [match["text"]])
    close()
    if not rules:
        raise RulebookError(f"{source}: no rule bullets found")
    return Rulebook(rules=rules, groups=groups, source=source)


def _rule(bullet: tuple[int, str, str | None, list[str]], source: str) -> Rule:
    number, rid, tag, parts = bullet
    body = " ".join(" ".join(parts).split())
    text, _, choice = body.partition(_CHOICE)
    text, choice = text.strip(), choice.strip()
    if not text or _CHOICE in choice or (_CHOICE in body and not choice):
        raise RulebookError(f"{source}:{number}: rule {rid} wants text, then at most one choice")
    return Rule(
        id=rid,
        tag=Tag(tag) if tag else None,
        text=text,
        choice=choice,
        group=rid[0],
        line=number,
    )


@functools.lru_cache(maxsize=8)
def _load(path: Path) -> Rulebook:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulebookError(f"cannot read {path}: {exc}") from exc
    return parse(text, source=str(path))


def load(path: Path | None = None) -> Rulebook:
    """The rulebook in `path`, else in the behaviour.md `locate` finds (read once)."""
    return _load((path or locate()).resolve())


def cited_ids(text: str) -> Iterator[Citation]:
    """Every rule id `text` cites, a range (`L5-L7`) giving each id in it.

    A range whose ends are out of order or in two groups yields its ends as written, so
    that the caller reports them rather than a silently empty range.
    """
    for number, line in enumerate(text.splitlines(), start=1):
        for match in _CITED.finditer(line):
            group, first, last = match["group"], int(match["first"]), match["last"]
            written = match.group(0)
            if last is None:
                yield Citation(number, f"{group}{match['first']}", written)
            elif int(last) <= first:
                yield Citation(number, written, written)
            else:
                for n in range(first, int(last) + 1):
                    yield Citation(number, f"{group}{n}", written)
