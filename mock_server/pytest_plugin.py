"""pytest plugin (entry point `downlinks_mock`): the Downlinks mock in your own tests.

Fixtures (all lazy: nothing starts unless a test asks):

- `downlinks_mock`: a mock server on 127.0.0.1 and a free port, shared by the session,
  reset (M2) before each test, on a manual clock at 2025-01-01T00:00:00.000Z;
- `downlinks_mock_app`: the same handle in-process (no socket), over Starlette's
  TestClient, for speed;
- `downlinks_replay` with `cassette_step`: a cassette or replay script as one test per step.

Marker: `@pytest.mark.downlinks_mock(scenario="sms-delivered",
clock_start="2025-06-01T12:00:00Z")` chooses the scenario (M6) and the clock for a test.
`@pytest.mark.downlinks_cassette("path/to/cassette.jsonl")` names what `cassette_step`
runs. See docs/pytest-plugin.md.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# Imports of the mock wait until a test asks for it: this module loads in every pytest run
# of every project that installs the package.
if TYPE_CHECKING:
    import httpx

    from mock_server.client import CassetteReplay, DownlinksMock, DownlinksReplay

__all__ = [
    "downlinks_mock",
    "downlinks_mock_app",
    "downlinks_mock_asgi",
    "downlinks_mock_server",
    "downlinks_replay",
]

_MARKER_KEYS = frozenset({"scenario", "clock_start"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "downlinks_mock(scenario=None, clock_start=None): the scenario (M6) and the clock "
        "start for this test's downlinks_mock / downlinks_mock_app",
    )
    config.addinivalue_line(
        "markers",
        "downlinks_cassette(path): the cassette (.jsonl) or replay script (.yaml) whose "
        "steps parametrize `cassette_step`",
    )


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every client: httpx builds one per client otherwise, loading the
    CA bundle each time (~0.1 s a test)."""
    import httpx

    return httpx.create_ssl_context()


def _begin(handle: DownlinksMock, marker: pytest.Mark | None) -> None:
    options = dict(marker.kwargs) if marker is not None else {}
    unknown = set(options) - _MARKER_KEYS
    if unknown or (marker is not None and marker.args):
        raise pytest.UsageError(
            "@pytest.mark.downlinks_mock takes scenario= and clock_start= only, got "
            + ", ".join(sorted(unknown) or [repr(marker.args) if marker else ""])
        )
    try:
        handle.begin(options.get("clock_start"), options.get("scenario"))
    except ValueError as exc:
        raise pytest.UsageError(f"@pytest.mark.downlinks_mock clock_start: {exc}") from None


@pytest.fixture(scope="session")
def downlinks_mock_server() -> Iterator[Any]:
    """The session's MockServer (uvicorn in a thread, 127.0.0.1, a free port)."""
    from mock_server.client import mock_config
    from mock_server.server import MockServer

    with MockServer(mock_config()) as server:
        yield server


@pytest.fixture
def downlinks_mock(downlinks_mock_server: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The mock over HTTP, reset before the test; see DownlinksMock."""
    import httpx

    server = downlinks_mock_server
    base = server.base_url
    tls = _tls()

    def client_for(headers: dict[str, str]) -> httpx.Client:
        return httpx.Client(base_url=base, headers=headers, verify=tls)

    from mock_server.client import DownlinksMock

    with httpx.Client(base_url=base, verify=tls) as http:
        handle = DownlinksMock(http, base, client_for, server.app)
        _begin(handle, request.node.get_closest_marker("downlinks_mock"))
        try:
            yield handle
        finally:
            handle.close()


@pytest.fixture(scope="session")
def downlinks_mock_asgi() -> Any:
    """The session's in-process mock app."""
    from mock_server.app import create_app
    from mock_server.client import mock_config

    return create_app(mock_config())


@pytest.fixture
def downlinks_mock_app(downlinks_mock_asgi: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The mock in-process (no socket), reset before the test; see DownlinksMock."""
    app = downlinks_mock_asgi
    from mock_server.client import DownlinksMock, test_client

    http = test_client(app)
    handle = DownlinksMock(
        http, "http://testserver", lambda headers: test_client(app, headers), app
    )
    try:
        _begin(handle, request.node.get_closest_marker("downlinks_mock"))
        yield handle
    finally:
        handle.close()
        http.close()


# -- cassettes as tests -------------------------------------------------------------------


def _cassette_path(metafunc: pytest.Metafunc) -> Path:
    marker = metafunc.definition.get_closest_marker("downlinks_cassette")
    if marker is None or len(marker.args) != 1:
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid} takes `cassette_step`: mark it "
            '@pytest.mark.downlinks_cassette("path/to/cassette.jsonl")'
        )
    path = Path(marker.args[0])
    if not path.is_absolute():
        here = Path(str(metafunc.definition.fspath)).parent / path
        path = here if here.exists() else Path(str(metafunc.config.rootpath)) / path
    return path.resolve()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "cassette_step" not in metafunc.fixturenames:
        return
    path = _cassette_path(metafunc)
    from replay.cassette import CassetteError, load_steps

    try:
        steps = load_steps(path)
    except CassetteError as exc:
        raise pytest.UsageError(str(exc)) from None
    metafunc.parametrize("cassette_step", steps, ids=[step.id for step in steps])


@pytest.fixture(scope="session")
def _downlinks_replays() -> Iterator[dict[Path, CassetteReplay]]:
    replays: dict[Path, CassetteReplay] = {}
    yield replays
    for replay in replays.values():
        replay.close()


@pytest.fixture
def downlinks_replay(_downlinks_replays: dict[Path, CassetteReplay]) -> DownlinksReplay:
    """`downlinks_replay.check(cassette_step)`: replay one step of the marked cassette."""
    from mock_server.client import DownlinksReplay

    return DownlinksReplay(_downlinks_replays)
