"""`downlinks-mock serve`: run the mock with uvicorn."""

from __future__ import annotations

import functools
import importlib.util
import socket
import sys
from pathlib import Path
from typing import Any

import click

from mock_server.cli.banner import banner as _banner
from mock_server.config import (
    DATA_ROOT,
    DEFAULT_STORE_PREFIX,
    MAX_WORKERS,
    MEMORY_STORE,
    AuthMode,
    ClockMode,
    MockConfig,
    is_loopback,
    parse_store,
    parse_store_prefix,
)
from mock_server.domain.timefmt import parse_rfc3339
from mock_server.fixtureset.load import FixtureError
from mock_server.server import ListenError, ServerLimits, StartError, listen_socket
from mock_server.timeline.scenarios import ScenarioError, load_scenario

__all__ = [
    "serve_command",
    "build_config",
    "build_limits",
    "bind",
    "is_loopback",
    "served_app",
]

SHIPPED_FIXTURES = DATA_ROOT / "fixtures" / "default.json"
_DEFAULT_LIMITS = ServerLimits()


def build_config(
    *,
    host: str,
    port: int,
    auth: str,
    secret: str | None,
    jwks_file: Path | None,
    clock: str,
    clock_start: str | None,
    speed: float,
    fixtures: tuple[str, ...],
    log_level: str,
    public_url: str | None,
    scenario: str = "default",
    journal_size: int = 1000,
    journal_entry_bytes: int = 8192,
    journal_bytes: int = 16 * 1024 * 1024,
    max_seed_bytes: int = 8 * 1024 * 1024,
    max_body_bytes: int = 1024 * 1024,
    admin_token: str | None = None,
    allowed_host: tuple[str, ...] = (),
    store: str = MEMORY_STORE,
    store_prefix: str = DEFAULT_STORE_PREFIX,
    workers: int = 1,
) -> MockConfig:
    """Options -> MockConfig, with click errors that name the option and the fix.

    Everything decided at start (the admin token generated off loopback) is decided here,
    once: every worker gets this same config.
    """
    store, store_prefix = _store_options(store, store_prefix, workers)
    mode = AuthMode(auth)
    if mode is AuthMode.HS256 and not secret:
        raise click.BadParameter("hs256 needs --secret (the shared HMAC key)", param_hint="--auth")
    if mode is AuthMode.JWKS and jwks_file is None:
        raise click.BadParameter("jwks needs --jwks-file (a JWKS JSON file)", param_hint="--auth")
    start = None
    if clock_start is not None:
        try:
            start = parse_rfc3339(clock_start)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--clock-start") from None
    clock_mode = ClockMode(clock)
    if clock_mode is ClockMode.MANUAL and speed != 1.0:
        raise click.BadParameter(
            "a manual clock moves only via POST /__mock/clock, so --speed would do nothing: "
            "drop --speed, or use --clock scaled",
            param_hint="--speed",
        )
    if clock == "real" and speed != 1.0:
        clock_mode = ClockMode.SCALED
    if speed <= 0:
        raise click.BadParameter("the speed must be positive", param_hint="--speed")
    if journal_bytes < journal_entry_bytes:
        raise click.BadParameter(
            f"the journal must hold at least one entry: give at least --journal-entry-bytes "
            f"({journal_entry_bytes})",
            param_hint="--journal-bytes",
        )
    paths = [SHIPPED_FIXTURES if f == "default" else Path(f) for f in fixtures]
    for path in paths:
        if not path.is_file():
            raise click.BadParameter(f"no such file: {path}", param_hint="--fixtures")
    try:
        load_scenario(scenario)  # fail at start-up, naming the file, key and fix
    except ScenarioError as exc:
        raise click.BadParameter(str(exc), param_hint="--scenario") from None
    return MockConfig(
        host=host,
        port=port,
        auth_mode=mode,
        secret=secret,
        jwks_path=jwks_file,
        clock_mode=clock_mode,
        clock_start=start,
        speed=speed,
        fixtures=paths,
        log_level=log_level,
        public_url=public_url.rstrip("/") if public_url else None,
        scenario=scenario,
        journal_size=journal_size,
        journal_entry_bytes=journal_entry_bytes,
        journal_bytes=journal_bytes,
        seed_body_limit=max_seed_bytes,
        body_limit=max_body_bytes,
        admin_token=admin_token or None,
        allowed_hosts=tuple(allowed_host),
        store=store,
        store_prefix=store_prefix,
        workers=workers,
    )


def _store_options(store: str, prefix: str, workers: int) -> tuple[str, str]:
    """--store, --store-prefix and --workers checked together: the normalised store URL
    and the prefix, or a click error naming the option and the fix."""
    try:
        url = parse_store(store)
    except ValueError as exc:
        message = str(exc).removeprefix("--store: ")
        raise click.BadParameter(message, param_hint="--store") from None
    try:
        prefix = parse_store_prefix(prefix)
    except ValueError as exc:
        message = str(exc).removeprefix("--store-prefix: ")
        raise click.BadParameter(message, param_hint="--store-prefix") from None
    if not 1 <= workers <= MAX_WORKERS:
        raise click.BadParameter(f"give 1 to {MAX_WORKERS}, not {workers}", param_hint="--workers")
    if workers > 1 and url == MEMORY_STORE:
        raise click.BadParameter(
            f"{workers} workers need a shared store: with --store memory each process would "
            "have its own downlinks; give --store redis://HOST:PORT/DB, or drop --workers",
            param_hint="--workers",
        )
    if url != MEMORY_STORE and importlib.util.find_spec("redis") is None:
        raise click.BadParameter(
            "the Redis store needs the redis client: pip install 'downlinks-mock[redis]'",
            param_hint="--store",
        )
    return url, prefix


def served_app(config: MockConfig, access_log: bool) -> Any:
    """The app `serve` runs: the mock, behind the batched access log when it is on (only at
    log level info or debug). Raises StartError naming the option at fault. A module-level
    function, so that `functools.partial(served_app, config, access_log)` reaches worker
    processes pickled."""
    from mock_server.app import create_app

    try:
        app: Any = create_app(config)
    except FixtureError as exc:  # names the file and every problem, as `fixtures check` does
        raise StartError(str(exc), "--fixtures") from None
    except ValueError as exc:  # auth and scenario errors name the file and fix
        raise StartError(str(exc)) from None
    if access_log and config.log_level in ("info", "debug"):
        from mock_server.accesslog import AccessLog

        app = AccessLog(app)
    return app


def _start_failure(exc: StartError) -> click.ClickException:
    """A StartError as the command's one-line error (exit 2 for a bad option, else 1)."""
    if exc.option is not None:
        return click.BadParameter(exc.message, param_hint=exc.option)
    return click.ClickException(exc.message)


def build_limits(
    *,
    max_header_bytes: int,
    idle_timeout: float,
    header_timeout: float,
    max_connections: int,
    body_timeout: float = _DEFAULT_LIMITS.body_timeout,
) -> ServerLimits:
    """Options -> ServerLimits (docs/security.md)."""
    return ServerLimits(
        max_header_bytes=max_header_bytes,
        idle_timeout=idle_timeout,
        header_timeout=header_timeout,
        body_timeout=body_timeout,
        max_connections=max_connections,
    )


class _CannotListen(click.ClickException):
    """The address cannot be listened on: one line, exit 2, before any banner."""

    exit_code = 2


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, or one clear line and exit 2."""
    try:
        return listen_socket(host, port)
    except ListenError as exc:
        raise _CannotListen(str(exc)) from None


@click.command(context_settings={"show_default": True})
@click.option("--host", default="127.0.0.1", help="Interface to listen on.")
@click.option(
    "--port", default=8080, type=click.IntRange(0, 65535), help="TCP port (0: any free one)."
)
@click.option(
    "--auth",
    type=click.Choice([m.value for m in AuthMode]),
    default="lenient",
    help="Token verification (A4): lenient checks form not signature; off needs no token.",
)
@click.option("--secret", help="Shared secret for --auth hs256.")
@click.option(
    "--jwks-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JWKS JSON file for --auth jwks.",
)
@click.option(
    "--clock",
    type=click.Choice([m.value for m in ClockMode]),
    default="real",
    help="real: wall clock; scaled: wall clock times --speed; manual: moves only via POST /__mock/clock.",
)
@click.option("--clock-start", help="Start instant (RFC 3339), e.g. 2025-01-01T00:00:00.000Z.")
@click.option(
    "--speed",
    default=1.0,
    type=float,
    help="Clock speed for --clock scaled (60: a minute a second).",
)
@click.option(
    "--fixtures",
    multiple=True,
    metavar="PATH|default",
    help="Fixture set(s) to preload; 'default' is the shipped fixtures/default.json.",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    help="Server log level.",
)
@click.option("--public-url", help="Base URL for next/prev links when behind a proxy.")
@click.option(
    "--scenario",
    default="default",
    metavar="NAME|PATH",
    help="How new downlinks progress (S4): a built-in (default, static), a library name "
    "from scenarios/, or a scenario file. See docs/scenarios.md.",
)
@click.option(
    "--journal-size",
    default=1000,
    type=click.IntRange(min=0),
    help="How many requests GET /__mock/requests keeps (M7); the oldest drop out. "
    "0: no journal (faults still apply).",
)
@click.option(
    "--journal-entry-bytes",
    default=8192,
    type=click.IntRange(min=256),
    help="Bytes the journal keeps of each request and response body, and of each one's "
    "headers (M7); the rest is cut, marked bodyTruncated / headersTruncated.",
)
@click.option(
    "--journal-bytes",
    default=16 * 1024 * 1024,
    type=click.IntRange(min=256),
    help="Bytes the whole journal keeps (M7); past them the oldest entries drop out.",
)
@click.option(
    "--max-seed-bytes",
    default=8 * 1024 * 1024,
    type=click.IntRange(min=1024),
    help="Largest seeding body (POST /__mock/downlinks, /__mock/devices, M3); larger: 413.",
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    help="One line per request on stdout, written in batches (past 100 requests per half "
    "second, one summary line); only at --log-level info or debug.",
)
@click.option(
    "--max-body-bytes",
    default=1024 * 1024,
    type=click.IntRange(min=1024),
    help="Largest request body (E3); larger: 413.",
)
@click.option(
    "--admin-token",
    envvar="DOWNLINKS_MOCK_ADMIN_TOKEN",
    help="Token the control plane requires (Authorization: Bearer). Off loopback one is "
    "generated and printed when not given; on loopback the control plane is open without it.",
)
@click.option(
    "--allowed-host",
    multiple=True,
    metavar="NAME",
    help="A Host name to answer on loopback besides localhost and 127.0.0.1 (DNS rebinding "
    "guard); repeatable.",
)
@click.option(
    "--store",
    default=MEMORY_STORE,
    envvar="DOWNLINKS_MOCK_STORE",
    metavar="memory|URL",
    help="Where the state lives: memory (this process alone), or a Redis URL that several "
    "mocks share, redis://[user:password@]host:port/db, rediss://... or "
    "unix:///path.sock?db=N (DOWNLINKS_MOCK_STORE keeps a password out of the process "
    "list; the banner masks it). See docs/shared-mock.md.",
)
@click.option(
    "--store-prefix",
    default=DEFAULT_STORE_PREFIX,
    metavar="PREFIX",
    help="What every Redis key starts with (1-64 of A-Z a-z 0-9 . _ : -): mocks with "
    "different prefixes share one Redis without seeing each other's state.",
)
@click.option(
    "--workers",
    default=1,
    type=click.IntRange(1, MAX_WORKERS),
    help="Processes answering on one port, sharing state through the store; more than "
    "one needs a Redis --store.",
)
@click.option(
    "--max-header-bytes",
    default=_DEFAULT_LIMITS.max_header_bytes,
    type=click.IntRange(min=1024),
    help="Largest request line and headers of one request; larger: 431.",
)
@click.option(
    "--idle-timeout",
    default=_DEFAULT_LIMITS.idle_timeout,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds a connection may send nothing, before or between requests.",
)
@click.option(
    "--header-timeout",
    default=_DEFAULT_LIMITS.header_timeout,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds from a request's first byte to its last header; slower: 408.",
)
@click.option(
    "--body-timeout",
    default=_DEFAULT_LIMITS.body_timeout,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds from a request's last header to its last body byte; slower: 408.",
)
@click.option(
    "--max-connections",
    default=_DEFAULT_LIMITS.max_connections,
    type=click.IntRange(min=1),
    help="Open connections; past it the longest-idle one is closed.",
)
def serve_command(
    access_log: bool,
    max_header_bytes: int,
    idle_timeout: float,
    header_timeout: float,
    body_timeout: float,
    max_connections: int,
    **options: object,
) -> None:
    """Run the mock server."""
    from mock_server.server import run, run_workers

    config = build_config(**options)  # type: ignore[arg-type]
    limits = build_limits(
        max_header_bytes=max_header_bytes,
        idle_timeout=idle_timeout,
        header_timeout=header_timeout,
        body_timeout=body_timeout,
        max_connections=max_connections,
    )
    # Take the port before anything else: a busy one is one line, not a banner then a trace.
    sock = bind(config.host, config.port)
    config.port = int(sock.getsockname()[1])  # --port 0: the banner names the real one
    host = f"[{config.host}]" if ":" in config.host else config.host
    url = f"http://{host}:{config.port}"
    if config.workers == 1:
        try:
            app = served_app(config, access_log)
        except StartError as exc:
            sock.close()
            raise _start_failure(exc) from None
        click.echo(_banner(config, url))
        run(app, sock=sock, log_level=config.log_level, limits=limits)
        return
    # Every worker gets this config, pickled: what was generated at start is shared.
    factory = functools.partial(served_app, config, access_log)
    try:
        status = run_workers(
            factory,
            sock=sock,
            workers=config.workers,
            log_level=config.log_level,
            limits=limits,
            on_ready=lambda pids: click.echo(_banner(config, url, pids)),
        )
    except StartError as exc:
        raise _start_failure(exc) from None
    finally:
        sock.close()
    sys.exit(status)
