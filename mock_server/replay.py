"""Replay a cassette or a replay script against any implementation and list the differences.

What legitimately varies between a recording and a replay is matched, not compared:

- ids: a recorded `id` (or the last segment of a `Location`) is learned as standing for the
  id the replay got, and substituted wherever the recording used it later (paths, query,
  bodies, `instance`); a recorded id that comes back as two different ids is a difference;
- timestamps: any RFC 3339 UTC time with three fractional digits (T1) matches another;
  the pair is learned, so a recorded time sent back later as a filter is substituted;
- `next`/`prev` links: same path and parameters; the cursors are learned like ids;
- order of `items`: two items may trade places only where their sort keys tie (in the
  recording or in the replay), or where the sort is by `id` alone (new ids, new order);
- problem+json: `title` and `detail` are free text; `errors` compare by pointer/parameter.

Hand-written scripts (YAML) expect a status and a body *subset*, with `${var}` taken from
earlier steps' `save` and the matchers `<any>`, `<uuid>`, `<timestamp>` and `<absent>`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import orjson

from .auth import mint_token
from .cassette import Auth, Step

__all__ = ["Difference", "StepResult", "ReplayReport", "ReplayError", "Replayer", "replay"]

_T1 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ABSENT = "<absent>"
_MATCHERS = {
    "<any>": lambda v: True,
    "<uuid>": lambda v: isinstance(v, str) and _UUID.match(v) is not None,
    "<timestamp>": lambda v: isinstance(v, str) and _T1.match(v) is not None,
}
_SEND_SKIP = frozenset({"authorization", "host", "content-length"})


class ReplayError(Exception):
    """The replay could not run (bad input, unreachable target): one clear line."""


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


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


ABSENT = _Absent()


def _show(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    text = orjson.dumps(value).decode() if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 160 else text[:157] + "..."


@dataclass
class StepResult:
    """What one step sent and how the answer differed."""

    step: Step
    sent: str  # the request line as sent, ids substituted
    status: int | None
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def render(self) -> str:
        word = "expected" if self.step.expect.subset else "recorded"
        name = f" [{self.step.name}]" if self.step.name else ""
        lines = [f"step {self.step.index}{name}: {self.sent}  ({self.step.source})"]
        lines += [f"  {d.render(word)}" for d in self.differences]
        return "\n".join(lines)


@dataclass
class ReplayReport:
    """Every step's result; `ok` when no step differed."""

    results: list[StepResult]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def failed(self) -> list[StepResult]:
        return [r for r in self.results if not r.ok]

    def render(self) -> str:
        failed = self.failed
        total = len(self.results)
        if not failed:
            return f"replay: {total} steps, all match"
        count = sum(len(r.differences) for r in failed)
        body = "\n".join(r.render() for r in failed)
        return f"{body}\nreplay: {total} steps, {len(failed)} with differences ({count} in all)"


def _media(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def _body_of(response: httpx.Response) -> Any:
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


class Replayer:
    """Runs steps in order against one client, learning ids, cursors and times as it goes."""

    def __init__(self, client: httpx.Client, *, token: str | None = None) -> None:
        self.client = client
        self.token = token
        self.ids: dict[str, str] = {}  # recorded id -> replayed id
        self._ids_back: dict[str, str] = {}
        self.cursors: dict[str, str] = {}
        self.times: dict[str, str] = {}
        self.vars: dict[str, str] = {}  # scripts: `save`d values
        self._tokens: dict[Auth, str] = {}

    # -- sending -----------------------------------------------------------------------

    def _authorization(self, step: Step) -> str | None:
        auth = step.auth
        if auth is None:
            return None
        if self.token:
            return f"Bearer {self.token}"
        if auth.client is None:
            raise ReplayError(
                f"{step.source}: the recording sent a token that is not a JWT with a client; "
                "give --token"
            )
        token = self._tokens.get(auth)
        if token is None:
            token = self._tokens[auth] = mint_token(
                auth.client, auth.scopes, expires_at_ms=auth.expires_at_ms
            )
        return f"Bearer {token}"

    def _sub(self, value: str) -> str:
        """A recorded value as the replay knows it (ids, cursors, times)."""
        for table in (self.ids, self.cursors, self.times):
            if value in table:
                return table[value]
        for recorded, actual in self.ids.items():
            if recorded in value:
                value = value.replace(recorded, actual)
        return value

    def _sub_json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._sub(value)
        if isinstance(value, list):
            return [self._sub_json(v) for v in value]
        if isinstance(value, dict):
            return {k: self._sub_json(v) for k, v in value.items()}
        return value

    def _interpolate(self, text: str, missing: list[str]) -> str:
        def var(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in self.vars:
                missing.append(name)
                return match.group(0)
            return self.vars[name]

        return _VAR.sub(var, text)

    def _interpolate_json(self, value: Any, missing: list[str]) -> Any:
        if isinstance(value, str):
            return self._interpolate(value, missing)
        if isinstance(value, list):
            return [self._interpolate_json(v, missing) for v in value]
        if isinstance(value, dict):
            return {k: self._interpolate_json(v, missing) for k, v in value.items()}
        return value

    def _prepare(self, step: Step, missing: list[str]) -> tuple[str, str, bytes | None]:
        """(path, query, content) of the request to send."""
        body = step.request
        if step.expect.subset:
            path = self._interpolate(step.path, missing)
            query = self._interpolate(step.query, missing)
            if body.has_json:
                content: bytes | None = orjson.dumps(self._interpolate_json(body.body, missing))
            elif body.text is not None:
                content = self._interpolate(body.text, missing).encode()
            else:
                content = None
            return path, query, content
        path = "/".join(self._sub(segment) for segment in step.path.split("/"))
        pairs = parse_qsl(step.query, keep_blank_values=True)
        subbed = [(k, self._sub(v)) for k, v in pairs]
        query = urlencode(subbed) if subbed != pairs else step.query
        if body.has_json:
            content = orjson.dumps(self._sub_json(body.body))
        else:
            content = body.content()
        return path, query, content

    def run(self, step: Step) -> StepResult:
        """Send one step and compare its answer."""
        missing: list[str] = []
        path, query, content = self._prepare(step, missing)
        target = path + (f"?{query}" if query else "")
        result = StepResult(step, f"{step.method} {target}", None)
        if missing:
            names = ", ".join(sorted(set(missing)))
            result.differences.append(
                Difference(
                    "request",
                    f"${{{names}}} set",
                    "not set",
                    "an earlier step did not save it; not sent",
                )
            )
            return result
        headers = {k: v for k, v in step.request.headers.items() if k not in _SEND_SKIP}
        authorization = self._authorization(step)
        if authorization is not None:
            headers["authorization"] = authorization
        try:
            response = self.client.request(step.method, target, headers=headers, content=content)
        except httpx.TransportError as exc:
            raise ReplayError(
                f"cannot reach {self.client.base_url} ({type(exc).__name__}: {exc}) "
                f"at {step.source}"
            ) from None
        result.status = response.status_code
        if step.expect.subset:
            self._check_script(step, response, result.differences)
        else:
            self._check_recorded(step, response, result.differences)
        return result

    def run_all(self, steps: Iterable[Step]) -> ReplayReport:
        return ReplayReport([self.run(step) for step in steps])

    # -- recorded exchanges --------------------------------------------------------------

    def _check_recorded(
        self, step: Step, response: httpx.Response, diffs: list[Difference]
    ) -> None:
        expect = step.expect
        if response.status_code != expect.status:
            body = _body_of(response)
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
            self._compare(expect.body, _body_of(response), "$", "", diffs, step.query, problem)

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
            elif self._sub(expected) != actual:
                diffs.append(Difference(where, expected, actual))
        elif expected != actual or type(expected) is not type(actual):
            diffs.append(Difference(where, expected, actual))

    def _compare_violations(
        self, expected: list, actual: list, where: str, diffs: list[Difference]
    ) -> None:
        def names(items: list) -> set[str]:
            out = set()
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
        rest_rec = sorted((k, self._sub(v)) for k, v in rec_params if k != "cursor")
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
        self, expected: list, actual: list, where: str, diffs: list[Difference], query: str
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

    # -- scripts -----------------------------------------------------------------------

    def _check_script(self, step: Step, response: httpx.Response, diffs: list[Difference]) -> None:
        expect = step.expect
        body = _body_of(response)
        if response.status_code != expect.status:
            note = ""
            if isinstance(body, dict) and isinstance(body.get("detail"), str):
                note = f"actual detail: {body['detail']}"
            diffs.append(Difference("status", expect.status, response.status_code, note))
        # Saved first: the step's own expectations may use what it saves.
        for name, pointer in step.save.items():
            value = _resolve(body, pointer)
            if value is ABSENT:
                diffs.append(Difference(f"save {name}", f"a value at {pointer or '/'}", ABSENT))
            else:
                self.vars[name] = value if isinstance(value, str) else orjson.dumps(value).decode()
        missing: list[str] = []
        for name, wanted in expect.headers.items():
            wanted = self._interpolate(wanted, missing)
            got = response.headers.get(name)
            if wanted == _ABSENT:
                if got is not None:
                    diffs.append(Difference(f"header {name}", ABSENT, got))
            elif got is None:
                diffs.append(Difference(f"header {name}", wanted, ABSENT))
            elif not _matches(wanted, got) and not (
                wanted.startswith("/") and urlsplit(got).path == wanted
            ):
                diffs.append(Difference(f"header {name}", wanted, got))
        if expect.has_body:
            wanted_body = self._interpolate_json(expect.body, missing)
            _subset(wanted_body, body, "$", diffs)
        if missing:
            names = ", ".join(sorted(set(missing)))
            diffs.append(Difference("expect", f"${{{names}}} set", "not set"))


def _key(item: dict, fields: list[str]) -> tuple:
    return tuple(str(item.get(f, "")) for f in fields)


def _summary(item: dict) -> dict:
    return {k: item[k] for k in ("id", "networkId", "status") if k in item}


def _matches(wanted: str, got: Any) -> bool:
    matcher = _MATCHERS.get(wanted)
    return matcher(got) if matcher is not None else wanted == got


def _subset(expected: Any, actual: Any, where: str, diffs: list[Difference]) -> None:
    """Script bodies: every expected member matches; arrays match element by element."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            diffs.append(Difference(where, expected, actual))
            return
        for name, wanted in expected.items():
            path = f"{where}.{name}"
            if wanted == _ABSENT:
                if name in actual:
                    diffs.append(Difference(path, ABSENT, actual[name]))
            elif name not in actual:
                diffs.append(Difference(path, wanted, ABSENT))
            else:
                _subset(wanted, actual[name], path, diffs)
    elif isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            diffs.append(Difference(where, expected, actual))
            return
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            _subset(e, a, f"{where}[{i}]", diffs)
    elif isinstance(expected, str):
        if not _matches(expected, actual):
            diffs.append(Difference(where, expected, actual))
    elif expected != actual or type(expected) is not type(actual):
        diffs.append(Difference(where, expected, actual))


def _resolve(document: Any, pointer: str) -> Any:
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


def replay(
    steps: list[Step],
    base_url: str | None = None,
    *,
    client: httpx.Client | None = None,
    token: str | None = None,
    reset: bool = False,
    timeout: float = 10.0,
) -> ReplayReport:
    """Replay `steps` against `base_url` (or an existing `client`, e.g. a TestClient).

    `reset` calls M2 first (a mock, or any target with the test hooks). Raises ReplayError
    when the target cannot be reached or a step cannot be sent.
    """
    owned = client is None
    if client is None:
        if base_url is None:
            raise ReplayError("give a base URL or a client")
        client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
    try:
        if reset:
            try:
                answer = client.post("/__mock/reset")
            except httpx.TransportError as exc:
                raise ReplayError(f"cannot reach {client.base_url}: {exc}") from None
            if answer.status_code != 204:
                raise ReplayError(
                    f"POST /__mock/reset answered {answer.status_code}: the target has no "
                    "test hooks (M2); replay without --reset"
                )
        return Replayer(client, token=token).run_all(steps)
    finally:
        if owned:
            client.close()
