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

from mock_server.http.auth import mint_token
from replay.cassette import Auth, Step
from replay.matching import (
    ABSENT,
    ABSENT_MARK,
    Difference,
    Matcher,
    body_of,
    matches,
    resolve_pointer,
    subset,
)

__all__ = ["StepResult", "ReplayReport", "ReplayError", "Replayer", "replay"]

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SEND_SKIP = frozenset({"authorization", "host", "content-length"})


class ReplayError(Exception):
    """The replay could not run (bad input, unreachable target): one clear line."""


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


class Replayer:
    """Runs steps in order against one client, learning ids, cursors and times as it goes."""

    def __init__(self, client: httpx.Client, *, token: str | None = None) -> None:
        self.client = client
        self.token = token
        self.matcher = Matcher()  # what the earlier steps taught: ids, cursors, times
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
        path = "/".join(self.matcher.sub(segment) for segment in step.path.split("/"))
        pairs = parse_qsl(step.query, keep_blank_values=True)
        subbed = [(k, self.matcher.sub(v)) for k, v in pairs]
        query = urlencode(subbed) if subbed != pairs else step.query
        if body.has_json:
            content = orjson.dumps(self.matcher.sub_json(body.body))
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
            self.matcher.check_recorded(step, response, result.differences)
        return result

    def run_all(self, steps: Iterable[Step]) -> ReplayReport:
        return ReplayReport([self.run(step) for step in steps])

    # -- scripts -----------------------------------------------------------------------

    def _check_script(self, step: Step, response: httpx.Response, diffs: list[Difference]) -> None:
        expect = step.expect
        body = body_of(response)
        if response.status_code != expect.status:
            note = ""
            if isinstance(body, dict) and isinstance(body.get("detail"), str):
                note = f"actual detail: {body['detail']}"
            diffs.append(Difference("status", expect.status, response.status_code, note))
        # Saved first: the step's own expectations may use what it saves.
        for name, pointer in step.save.items():
            value = resolve_pointer(body, pointer)
            if value is ABSENT:
                diffs.append(Difference(f"save {name}", f"a value at {pointer or '/'}", ABSENT))
            else:
                self.vars[name] = value if isinstance(value, str) else orjson.dumps(value).decode()
        missing: list[str] = []
        for name, wanted in expect.headers.items():
            wanted = self._interpolate(wanted, missing)
            got = response.headers.get(name)
            if wanted == ABSENT_MARK:
                if got is not None:
                    diffs.append(Difference(f"header {name}", ABSENT, got))
            elif got is None:
                diffs.append(Difference(f"header {name}", wanted, ABSENT))
            elif not matches(wanted, got) and not (
                wanted.startswith("/") and urlsplit(got).path == wanted
            ):
                diffs.append(Difference(f"header {name}", wanted, got))
        if expect.has_body:
            wanted_body = self._interpolate_json(expect.body, missing)
            subset(wanted_body, body, "$", diffs)
        if missing:
            names = ", ".join(sorted(set(missing)))
            diffs.append(Difference("expect", f"${{{names}}} set", "not set"))


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
