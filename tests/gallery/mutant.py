"""What a mutant is, the registry of them all, and how one is served.

    @mutant("L2", "createdBefore selects the bound itself (<=, not <)")
    def created_before_inclusive(app: MockApp) -> ASGIApp:
        ...  # patch `app.state.mock` (this instance only) or wrap `app` in a Rewrite
        return app

A mutant receives a fresh, clean mock app and returns it broken in ONE way. Patches are
made on that app's own objects (its `Mock`, `Store`, `Authenticator`, ...), never on a
module or class, so mutants run side by side (threads, pytest-xdist) without leaking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from mock_server.app import create_app
from mock_server.config import ClockMode, MockConfig
from mock_server.domain.lifecycle import Change
from mock_server.domain.model import Downlink, NewDownlink
from mock_server.http.problems import MockError
from mock_server.mock import Mock
from mock_server.server import MockServer
from mock_server.store.memory import MemoryStore

__all__ = [
    "START",
    "Mutant",
    "MUTANTS",
    "mutant",
    "clean_app",
    "mock_of",
    "store_of",
    "owners_of",
    "restamp",
    "serve",
    "Watch",
]

START = 1_767_225_600_000  # 2026-01-01T00:00:00.000Z: every gallery mock starts here

ASGIApp = Any
Breaker = Callable[[Any], ASGIApp]


@dataclass(frozen=True)
class Mutant:
    """One deliberately broken implementation."""

    name: str  # kebab-case, from the function name: "created-before-inclusive"
    rules: tuple[str, ...]  # the behaviour.md rule ids it breaks, the first the main one
    description: str  # one line: what it does wrong
    breaks: Breaker  # clean app -> broken app
    server_errors: bool = False  # whether it answers 5xx on purpose (else a 5xx is its bug)

    @property
    def groups(self) -> tuple[str, ...]:
        """The rule groups to run against it ("L" for "L2"), in rule order."""
        out: list[str] = []
        for rule in self.rules:
            group = rule.rstrip("0123456789")
            if group not in out:
                out.append(group)
        return tuple(out)

    def app(self) -> ASGIApp:
        """A fresh broken app."""
        return self.breaks(clean_app())


MUTANTS: dict[str, Mutant] = {}


def mutant(
    *rules: str, description: str, server_errors: bool = False
) -> Callable[[Breaker], Breaker]:
    """Register the decorated function as a mutant breaking `rules`."""
    if not rules:
        raise ValueError("a mutant breaks at least one rule")

    def register(func: Breaker) -> Breaker:
        name = func.__name__.replace("_", "-")
        if name in MUTANTS:
            raise ValueError(f"mutant {name} registered twice")
        MUTANTS[name] = Mutant(name, tuple(rules), description, func, server_errors)
        return func

    return register


def clean_app() -> Any:
    """A clean mock on a manual clock (T3): nothing moves unless a check moves it."""
    return create_app(MockConfig(clock_mode=ClockMode.MANUAL, clock_start=START))


def mock_of(app: Any) -> Mock:
    """The `Mock` (store, clock, auth, ...) behind a mock app or a wrapper of one."""
    return app.state.mock


def store_of(app: Any) -> MemoryStore:
    """The in-memory store behind a mock app: mutants patch its public methods only."""
    store = mock_of(app).store
    assert isinstance(store, MemoryStore)
    return store


def owners_of(store: MemoryStore) -> set[str]:
    """The clients that store downlinks from now on (creates and M3 seeds), kept up to date:
    the store's `create` and `seed` are wrapped to note them."""
    owners: set[str] = set()
    create, seed = store.create, store.seed

    def noting_create(owner: str, new: NewDownlink, now: int, **options: Any) -> Downlink:
        owners.add(owner)
        return create(owner, new, now, **options)

    def noting_seed(downlinks: list[Downlink]) -> None:
        owners.update(dl.owner for dl in downlinks)
        seed(downlinks)

    store.create, store.seed = noting_create, noting_seed  # type: ignore[method-assign]
    return owners


def restamp(store: MemoryStore, dl: Downlink, modified_at: int) -> None:
    """Set a downlink's `modifiedAt` against the lifecycle's rules: a stored one through the
    store's unchecked `record` (indexes kept in step), a dry run's preview directly."""
    with store.lock:
        if store.find(dl.id) is dl:
            store.record(dl, Change(dl.status, modified_at, []))
        else:
            dl.modified_at, dl.encoded = modified_at, None


def authorised(app: Any, authorization: str | None, scope: str) -> bool:
    """Whether the mock would let this `Authorization` header do what needs `scope`. A
    mutant that answers on its own asks this first, as a real server authenticates before
    it looks further (otherwise the mutant would break A1 as well)."""
    try:
        mock_of(app).auth.authenticate(authorization, scope)
    except MockError:
        return False
    return True


class Watch:
    """Outermost ASGI wrapper: notes every 5xx answer, so a mutant that breaks more than it
    means to (a crash in its patch) shows."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = app.state
        self.server_errors: list[str] = []

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        async def watch(message: dict) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 500:
                self.server_errors.append(f"{scope['method']} {scope['path']}: {message['status']}")
            await send(message)

        await self.app(scope, receive, watch if scope["type"] == "http" else send)


@contextmanager
def serve(app: Any) -> Iterator[MockServer]:
    """`app` served on a free loopback port for the duration of the block; `server.app` is a
    `Watch` around it."""
    with MockServer(app=Watch(app)) as server:
        yield server
