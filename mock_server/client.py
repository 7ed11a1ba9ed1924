"""Handles on a running mock for tests: the clock (M5), the journal (M7), faults (M8),
scenarios (M6), seeding (M3), moves (M4), tokens, and cassettes replayed step by step.

`mock_server.pytest_plugin` hands these out as fixtures; they work over any httpx-like
client, a socket or Starlette's TestClient alike.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from mock_server.app import create_app
from mock_server.config import ClockMode, MockConfig
from mock_server.domain.timefmt import parse_rfc3339
from mock_server.http.auth import SCOPES, mint_token
from replay.cassette import Step, load_steps
from replay.runner import Replayer

if TYPE_CHECKING:
    from mock_server.mock import Mock

__all__ = [
    "DownlinksMock",
    "MockClock",
    "MockJournal",
    "CassetteReplay",
    "DownlinksReplay",
    "DEFAULT_START",
    "DEFAULT_CLIENT",
    "FLOOR",
    "mock_config",
    "test_client",
]

DEFAULT_START = "2025-01-01T00:00:00.000Z"
DEFAULT_CLIENT = "demo-client"
# The mock's configured start: M2 returns there, then each test's start is set forward
# from it with M5 (the clock never goes backwards), so any later start can be chosen.
FLOOR = "2000-01-01T00:00:00.000Z"


def mock_config() -> MockConfig:
    """The configuration of a test mock: a manual clock starting at FLOOR."""
    return MockConfig(clock_mode=ClockMode.MANUAL, clock_start=parse_rfc3339(FLOOR))


def test_client(app: Any, headers: dict[str, str] | None = None) -> Any:
    """Starlette's TestClient on `app` (in-process, no socket)."""
    from starlette.testclient import TestClient

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Starlette's notice about its httpx dependency
        return TestClient(app, base_url="http://testserver", headers=headers)


test_client.__test__ = False  # type: ignore[attr-defined]  # not a test, whatever its name


def _iso(instant: datetime | str) -> str:
    if isinstance(instant, datetime):
        if instant.tzinfo is None:
            raise ValueError("give an aware datetime (with tzinfo), e.g. tzinfo=timezone.utc")
        millis = instant.astimezone(timezone.utc).isoformat(timespec="milliseconds")
        return millis.replace("+00:00", "Z")
    return instant


def _duration(amount: timedelta | float | str) -> str:
    if isinstance(amount, str):
        return amount
    if isinstance(amount, timedelta):
        amount = amount.total_seconds()
    millis = round(amount * 1000)
    return f"PT{millis // 1000}.{millis % 1000:03d}S"


def _checked(response: httpx.Response, what: str) -> httpx.Response:
    if response.is_error:
        raise AssertionError(f"{what}: {response.status_code} {response.text}")
    return response


class MockClock:
    """The mock's clock (M5): `now()`, `advance(...)`, `set(...)`."""

    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    def now(self) -> datetime:
        """The mock's now, an aware UTC datetime."""
        text = _checked(self._http.get("/__mock/clock"), "read the clock").json()["now"]
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    def advance(self, amount: timedelta | float | str) -> datetime:
        """Move forward by a timedelta, seconds, or an ISO duration ("PT5M"); moves that
        fall due fire on the way. Returns the new now."""
        body = {"advance": _duration(amount)}
        _checked(self._http.post("/__mock/clock", json=body), "advance the clock")
        return self.now()

    def set(self, instant: datetime | str) -> datetime:
        """Move to `instant` (never backwards: that is a 409)."""
        body = {"set": _iso(instant)}
        _checked(self._http.post("/__mock/clock", json=body), "set the clock")
        return self.now()


class MockJournal:
    """The journal (M7), respx-style: `called`, `call_count`, `last`, `calls`,
    `assert_called(...)`. Narrow it with `filter(method=, path=, status=)`."""

    def __init__(self, http: httpx.Client, params: dict[str, str] | None = None) -> None:
        self._http = http
        self._params = params or {}

    def filter(
        self, method: str | None = None, path: str | None = None, status: int | str | None = None
    ) -> MockJournal:
        """A view of the entries that match (path: exact or glob; status: 404 or "4xx")."""
        params = dict(self._params)
        for key, value in (("method", method), ("path", path), ("status", status)):
            if value is not None:
                params[key] = str(value)
        return MockJournal(self._http, params)

    @property
    def calls(self) -> list[dict[str, Any]]:
        """Every matching entry, oldest first, as GET /__mock/requests renders it."""
        answer = self._http.get("/__mock/requests", params=self._params)
        items: list[dict[str, Any]] = _checked(answer, "read the journal").json()["items"]
        return items

    @property
    def call_count(self) -> int:
        return len(self.calls)

    @property
    def called(self) -> bool:
        return bool(self.calls)

    @property
    def last(self) -> dict[str, Any] | None:
        calls = self.calls
        return calls[-1] if calls else None

    def assert_called(
        self, method: str, path: str, status: int | str | None = None, times: int | None = None
    ) -> list[dict[str, Any]]:
        """Assert that `method path` (exact or glob) was requested (and answered `status`),
        `times` times when given; returns the matching entries."""
        found = self.filter(method=method, path=path, status=status).calls
        wanted = f"{method} {path}" + (f" -> {status}" if status is not None else "")
        if (times is None and not found) or (times is not None and len(found) != times):
            seen = (
                "\n".join(f"  {c['method']} {c['path']} -> {c['status']}" for c in self.calls)
                or "  (nothing)"
            )
            count = f"{times} time(s)" if times is not None else "at least once"
            raise AssertionError(
                f"expected {wanted} {count}, found {len(found)}; the journal holds:\n{seen}"
            )
        return found

    def assert_not_called(self, method: str, path: str) -> None:
        found = self.filter(method=method, path=path).calls
        if found:
            raise AssertionError(f"expected no {method} {path}, found {len(found)}")

    def clear(self) -> None:
        _checked(self._http.delete("/__mock/requests"), "clear the journal")


class DownlinksMock:
    """One test's view of the mock: URLs, tokens, the clock, the journal, faults."""

    def __init__(self, http: httpx.Client, base_url: str, client_factory: Any, app: Any) -> None:
        self.http = http  # the control plane's client (no token)
        self.base_url = base_url
        self.app = app  # the ASGI app (its `state.mock` is the Mock)
        self.clock = MockClock(http)
        self.journal = MockJournal(http)
        self._client_factory = client_factory
        self._clients: list[httpx.Client] = []
        self._start = DEFAULT_START

    @property
    def mock(self) -> Mock:
        """The Mock behind the app: its store, clock, journal (in-process access)."""
        mock: Mock = self.app.state.mock
        return mock

    def token(
        self,
        client: str = DEFAULT_CLIENT,
        scopes: Iterable[str] | None = None,
        *,
        expires_at: datetime | None = None,
    ) -> str:
        """A token the mock accepts, for `client` with `scopes` (default: every scope)."""
        exp = int(expires_at.timestamp() * 1000) if expires_at is not None else None
        return mint_token(client, SCOPES if scopes is None else scopes, expires_at_ms=exp)

    def client_for(self, client: str = DEFAULT_CLIENT, scopes: Iterable[str] | None = None) -> Any:
        """An httpx.Client on the mock with a token for `client`; closed after the test."""
        http = self._client_factory({"authorization": f"Bearer {self.token(client, scopes)}"})
        self._clients.append(http)
        return http

    @property
    def client(self) -> Any:
        """An httpx.Client with a token for demo-client (every scope)."""
        if not self._clients:
            self.client_for()
        return self._clients[0]

    def reset(self) -> None:
        """M2, then the test's clock start again."""
        _checked(self.http.post("/__mock/reset"), "reset the mock")
        self.clock.set(self._start)

    def use_scenario(self, scenario: str | Path) -> dict[str, Any]:
        """M6: a built-in or library scenario by name, or a scenario file (YAML or JSON)."""
        path = Path(scenario)
        if path.suffix.lower() in (".yaml", ".yml", ".json") and path.is_file():
            media = "application/json" if path.suffix.lower() == ".json" else "application/yaml"
            answer = self.http.put(
                "/__mock/scenario", content=path.read_bytes(), headers={"content-type": media}
            )
        else:
            answer = self.http.put("/__mock/scenario", json={"name": str(scenario)})
        summary: dict[str, Any] = _checked(answer, f"load scenario {scenario}").json()
        return summary

    def fault(self, **spec: Any) -> dict[str, Any]:
        """M8: inject a fault; keys as the API takes them (status=503, times=1,
        latencyMs=200, drop=True, path="/downlinks/*", ...). Returns it, with its id."""
        answer = self.http.post("/__mock/faults", json=spec)
        fault: dict[str, Any] = _checked(answer, "inject a fault").json()
        return fault

    def seed(self, downlinks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """M3: store prepared downlinks (owner defaults to `default`; give `owner`)."""
        seeded: list[dict[str, Any]] = _checked(
            self.http.post("/__mock/downlinks", json=downlinks), "seed"
        ).json()
        return seeded

    def transition(self, downlink_id: str, status: str, error_code: str | None = None) -> Any:
        """M4: move a downlink as S1 allows; returns it after the move."""
        body = {"status": status, **({"errorCode": error_code} if error_code else {})}
        answer = self.http.post(f"/__mock/downlinks/{downlink_id}/transition", json=body)
        return _checked(answer, f"move {downlink_id} to {status}").json()

    def begin(
        self, clock_start: datetime | str | None = None, scenario: str | Path | None = None
    ) -> None:
        """Start a test: M2, the clock at `clock_start` (default DEFAULT_START; FLOOR or
        later), then the scenario (M6) when given."""
        start = _iso(clock_start or DEFAULT_START)
        if parse_rfc3339(start) < parse_rfc3339(FLOOR):
            raise ValueError(f"clock_start must be {FLOOR} or later")
        self._start = start
        self.reset()
        if scenario:
            self.use_scenario(scenario)

    def close(self) -> None:
        """Close the clients made for the test."""
        for http in self._clients:
            http.close()
        self._clients.clear()


class CassetteReplay:
    """Replays one cassette step by step on a fresh in-process mock of its own.

    Steps depend on earlier ones (ids, cursors), so a step runs the ones before it first
    when they have not run here (a `-k` selection, or xdist sending steps to other
    workers); their differences are their own tests' business.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.steps = load_steps(path)
        self._replayer: Replayer | None = None
        self._done = 0  # how many steps have run on the current mock
        self._http: Any = None

    def _fresh(self) -> Replayer:
        self.close()
        self._http = test_client(create_app(mock_config()))
        self._done = 0
        self._replayer = Replayer(self._http)
        return self._replayer

    def check(self, step: Step) -> None:
        """Run `step` (after what it depends on); AssertionError lists the differences."""
        replayer = self._replayer
        if replayer is None or step.index <= self._done:
            replayer = self._fresh()
        for earlier in self.steps[self._done : step.index - 1]:
            replayer.run(earlier)
        result = replayer.run(step)
        self._done = step.index
        if not result.ok:
            raise AssertionError(result.render())

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None


class DownlinksReplay:
    """What `downlinks_replay` gives a test: `check(cassette_step)`."""

    def __init__(self, replays: dict[Path, CassetteReplay]) -> None:
        self._replays = replays

    def check(self, step: Step) -> None:
        """Replay `step` of its cassette on the cassette's own mock; AssertionError with
        the differences when the answer differs."""
        if step.file is None:
            raise ValueError("the step names no cassette file")
        replay = self._replays.get(step.file)
        if replay is None:
            replay = self._replays[step.file] = CassetteReplay(step.file)
        replay.check(step)
