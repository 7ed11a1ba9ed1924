"""Matching an answer against a recording or a script: what legitimately varies (ids,
timestamps, cursors, tie order, problem text) is learned or matched, the rest compared.

A `Matcher` carries what it learned from one replay's earlier steps: which id the
replay got for each recorded id, and likewise cursors and timestamps. See runner.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import orjson

from replay.cassette import Step

__all__ = [
    "ABSENT",
    "ABSENT_MARK",
    "Difference",
    "Matcher",
    "body_of",
    "matches",
    "subset",
    "resolve_pointer",
]

_T1 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
ABSENT_MARK = "<absent>"
_MATCHERS: dict[str, Callable[[Any], bool]] = {
    "<any>": lambda v: True,
    "<uuid>": lambda v: isinstance(v, str) and _UUID.match(v) is not None,
    "<timestamp>": lambda v: isinstance(v, str) and _T1.match(v) is not None,
}


class _Absent:
    """A member or header that is not there (shown as `(absent)`)."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()


def _show(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    text = orjson.dumps(value).decode() if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 160 else text[:157] + "..."


@dataclass
class Difference:
    """One way the answer differs: where (status, a header, a JSON path), then both sides."""

    where: str
    expected: Any
    actual: Any
    note: str = ""

    def render(self, expected_word: str) -> str:
        line = f"{self.where}: {expected_word} {_show(self.expected)}, actual {_show(self.actual)}"
        return f"{line}  ({self.note})" if self.note else line


def _media(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def body_of(response: httpx.Response) -> Any:
    """The answer's JSON when it is JSON, its text otherwise, ABSENT when empty."""
    if not response.content:
        return ABSENT
    media = _media(response.headers.get("content-type"))
    if media == "application/json" or media.endswith("+json"):
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            pass
    return response.text


def _sort_fields(query: str) -> list[str] | None:
    """The fields a list is ordered by (L4), `id` left out; None: the order says nothing."""
    sort = dict(parse_qsl(query)).get("sort", "createdAt")
    fields = [f.strip().lstrip("+-") for f in sort.split(",") if f.strip()]
    fields = [f for f in fields if f != "id"]
    return fields or None


class Matcher:
    """Compares answers with recorded ones, learning ids, cursors and times on the way."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}  # recorded id -> replayed id
        self._ids_back: dict[str, str] = {}
        self.cursors: dict[str, str] = {}
        self.times: dict[str, str] = {}

    def sub(self, value: str) -> str:
        """A recorded value as the replay knows it (ids, cursors, times)."""
        for table in (self.ids, self.cursors, self.times):
            if value in table:
                return table[value]
        for recorded, actual in self.ids.items():
            if recorded in value:
                value = value.replace(recorded, actual)
        return value

    def sub_json(self, value: Any) -> Any:
        """`sub` applied to every string of a JSON value."""
        if isinstance(value, str):
            return self.sub(value)
        if isinstance(value, list):
            return [self.sub_json(v) for v in value]
        if isinstance(value, dict):
            return {k: self.sub_json(v) for k, v in value.items()}
        return value

    # -- recorded exchanges --------------------------------------------------------------

    def check_recorded(self, step: Step, response: httpx.Response, diffs: list[Difference]) -> None:
        """Compare `response` with the step's recorded answer; add what differs to `diffs`."""
        expect = step.expect
        if response.status_code != expect.status:
            body = body_of(response)
            note = ""
            if isinstance(body, dict) and isinstance(body.get("detail"), str):
                note = f"actual detail: {body['detail']}"
            diffs.append(Difference("status", expect.status, response.status_code, note))
            return  # the bodies of two different answers differ in everything: noise
        recorded_media = _media(expect.headers.get("content-type"))
        actual_media = _media(response.headers.get("content-type"))
        if recorded_media != actual_media:
            diffs.append(
                Difference("header content-type", recorded_media or ABSENT, actual_media or ABSENT)
            )
        self._check_location(expect.headers.get("location"), response, diffs)
        if expect.has_body:
            problem = recorded_media == "application/problem+json"
            self._compare(expect.body, body_of(response), "$", "", diffs, step.query, problem)

    def _check_location(
        self, recorded: str | None, response: httpx.Response, diffs: list[Difference]
    ) -> None:
        actual = response.headers.get("location")
        if recorded is None or actual is None:
            if (recorded is None) != (actual is None):
                diffs.append(Difference("header location", recorded or ABSENT, actual or ABSENT))
            return
        recorded_path, actual_path = urlsplit(recorded).path, urlsplit(actual).path
        r_head, _, r_id = recorded_path.rpartition("/")
        a_head, _, a_id = actual_path.rpartition("/")
        if r_head != a_head or not self._learn_id(r_id, a_id):
            diffs.append(Difference("header location", recorded, actual))

    def _learn_id(self, recorded: str, actual: str) -> bool:
        """Learn that `recorded` stands for `actual`; False if either is taken otherwise."""
        known = self.ids.get(recorded)
        if known is not None:
            return known == actual
        if self._ids_back.get(actual, recorded) != recorded:
            return False
        self.ids[recorded] = actual
        self._ids_back[actual] = recorded
        return True

    def _compare(
        self,
        expected: Any,
        actual: Any,
        where: str,
        key: str,
        diffs: list[Difference],
        query: str,
        problem: bool,
    ) -> None:
        if isinstance(expected, dict):
            if not isinstance(actual, dict):
                diffs.append(Difference(where, expected, actual))
                return
            # `id` first: what it teaches is used by the other members (instance, links).
            for name in sorted(expected, key=lambda k: k != "id"):
                if problem and name in ("title", "detail"):
                    continue
                path = f"{where}.{name}"
                if name not in actual:
                    diffs.append(Difference(path, expected[name], ABSENT))
                else:
                    self._compare(expected[name], actual[name], path, name, diffs, query, problem)
            if not problem:  # problem+json may carry extension members
                for name in actual.keys() - expected.keys():
                    diffs.append(Difference(f"{where}.{name}", ABSENT, actual[name]))
        elif isinstance(expected, list):
            if not isinstance(actual, list):
                diffs.append(Difference(where, expected, actual))
            elif problem and key == "errors":
                self._compare_violations(expected, actual, where, diffs)
            elif key == "items" and all(isinstance(i, dict) for i in expected + actual):
                self._compare_items(expected, actual, where, diffs, query)
            else:
                for i, (e, a) in enumerate(zip(expected, actual, strict=False)):
                    self._compare(e, a, f"{where}[{i}]", "", diffs, query, problem)
                for i in range(len(actual), len(expected)):
                    diffs.append(Difference(f"{where}[{i}]", expected[i], ABSENT))
                for i in range(len(expected), len(actual)):
                    diffs.append(Difference(f"{where}[{i}]", ABSENT, actual[i]))
        elif isinstance(expected, str) and isinstance(actual, str):
            if key == "id":
                if not self._learn_id(expected, actual):
                    known = self.ids.get(expected, "another id")
                    diffs.append(Difference(where, expected, actual, f"replayed as {known}"))
            elif key in ("next", "prev"):
                self._compare_link(expected, actual, where, diffs)
            elif _T1.match(expected):
                if not _T1.match(actual):
                    diffs.append(Difference(where, expected, actual, "not an RFC 3339 time (T1)"))
                else:
                    self.times.setdefault(expected, actual)
            elif self.sub(expected) != actual:
                diffs.append(Difference(where, expected, actual))
        elif expected != actual or type(expected) is not type(actual):
            diffs.append(Difference(where, expected, actual))

    def _compare_violations(
        self, expected: list[Any], actual: list[Any], where: str, diffs: list[Difference]
    ) -> None:
        def names(items: list[Any]) -> set[str]:
            out: set[str] = set()
            for item in items:
                if isinstance(item, dict):
                    name = item.get("pointer", item.get("parameter"))
                    out.add(str(name))
            return out

        wanted, got = names(expected), names(actual)
        for name in sorted(wanted - got):
            diffs.append(Difference(f"{where}[{name}]", "a violation", ABSENT))
        for name in sorted(got - wanted):
            diffs.append(Difference(f"{where}[{name}]", ABSENT, "a violation"))

    def _compare_link(
        self, expected: str, actual: str, where: str, diffs: list[Difference]
    ) -> None:
        rec, act = urlsplit(expected), urlsplit(actual)
        rec_params = parse_qsl(rec.query, keep_blank_values=True)
        act_params = parse_qsl(act.query, keep_blank_values=True)
        rec_cursor = dict(rec_params).get("cursor")
        act_cursor = dict(act_params).get("cursor")
        rest_rec = sorted((k, self.sub(v)) for k, v in rec_params if k != "cursor")
        rest_act = sorted((k, v) for k, v in act_params if k != "cursor")
        if (
            rec.path != act.path
            or rest_rec != rest_act
            or (rec_cursor is None) != (act_cursor is None)
        ):
            diffs.append(Difference(where, expected, actual, "links compare without the cursor"))
        elif rec_cursor is not None and act_cursor is not None:
            self.cursors[rec_cursor] = act_cursor

    def _compare_items(
        self,
        expected: list[Any],
        actual: list[Any],
        where: str,
        diffs: list[Difference],
        query: str,
    ) -> None:
        by_id = {item.get("id"): i for i, item in enumerate(actual)}
        pairs: list[tuple[int, int]] = []
        used: set[int] = set()
        unpaired: list[int] = []
        for r, item in enumerate(expected):
            mapped = self.ids.get(item.get("id", ""))
            a = by_id.get(mapped) if mapped is not None else None
            if a is not None and a not in used:
                pairs.append((r, a))
                used.add(a)
            else:
                unpaired.append(r)
        # Items of unknown ids pair by position among the rest, skipping known ones.
        free = [
            a
            for a in range(len(actual))
            if a not in used and actual[a].get("id") not in self._ids_back
        ]
        for r in unpaired:
            if free:
                pairs.append((r, free.pop(0)))
            else:
                diffs.append(Difference(f"{where}[{r}]", _summary(expected[r]), ABSENT))
        for a in free:
            diffs.append(Difference(f"{where}[+{a}]", ABSENT, _summary(actual[a])))
        for r, a in pairs:
            self._compare(expected[r], actual[a], f"{where}[{r}]", "", diffs, query, False)
        fields = _sort_fields(query)
        if fields is None:
            return
        pairs.sort(key=lambda p: p[1])  # actual order
        for i, (r1, a1) in enumerate(pairs):
            for r2, a2 in pairs[i + 1 :]:
                if r1 < r2:
                    continue
                tie = _key(expected[r1], fields) == _key(expected[r2], fields) or _key(
                    actual[a1], fields
                ) == _key(actual[a2], fields)
                if not tie:
                    diffs.append(
                        Difference(
                            f"{where} order",
                            f"[{r2}] before [{r1}]",
                            f"[{r1}] before [{r2}]",
                            f"sorted by {','.join(fields)}",
                        )
                    )
                    return


def _key(item: dict[str, Any], fields: list[str]) -> tuple[str, ...]:
    return tuple(str(item.get(f, "")) for f in fields)


def _summary(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in ("id", "networkId", "status") if k in item}


def matches(wanted: str, got: Any) -> bool:
    """A script's expected string: a matcher (`<any>`, `<uuid>`, `<timestamp>`) or equal."""
    matcher = _MATCHERS.get(wanted)
    return matcher(got) if matcher is not None else wanted == got


def subset(expected: Any, actual: Any, where: str, diffs: list[Difference]) -> None:
    """Script bodies: every expected member matches; arrays match element by element."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            diffs.append(Difference(where, expected, actual))
            return
        for name, wanted in expected.items():
            path = f"{where}.{name}"
            if wanted == ABSENT_MARK:
                if name in actual:
                    diffs.append(Difference(path, ABSENT, actual[name]))
            elif name not in actual:
                diffs.append(Difference(path, wanted, ABSENT))
            else:
                subset(wanted, actual[name], path, diffs)
    elif isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            diffs.append(Difference(where, expected, actual))
            return
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            subset(e, a, f"{where}[{i}]", diffs)
    elif isinstance(expected, str):
        if not matches(expected, actual):
            diffs.append(Difference(where, expected, actual))
    elif expected != actual or type(expected) is not type(actual):
        diffs.append(Difference(where, expected, actual))


def resolve_pointer(document: Any, pointer: str) -> Any:
    """RFC 6901: the value at `pointer`, or ABSENT."""
    if pointer == "":
        return document
    node = document
    for raw in pointer.lstrip("/").split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return ABSENT
    return node
