"""`downlinks-mock serve`: run the mock with uvicorn."""

from __future__ import annotations

from pathlib import Path

import click

from mock_server.config import DATA_ROOT, AuthMode, ClockMode, MockConfig
from mock_server.domain.timefmt import parse_rfc3339
from mock_server.timeline.scenarios import ScenarioError, load_scenario

__all__ = ["serve_command", "build_config"]

SHIPPED_FIXTURES = DATA_ROOT / "fixtures" / "default.json"


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
) -> MockConfig:
    """Options -> MockConfig, with click errors that name the option and the fix."""
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
    if clock == "real" and speed != 1.0:
        clock_mode = ClockMode.SCALED
    if speed <= 0:
        raise click.BadParameter("the speed must be positive", param_hint="--speed")
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
    )


def _banner(config: MockConfig, url: str) -> str:
    from mock_server.http.auth import mint_token

    lines = [
        f"Downlinks mock on {url}  (auth {config.auth_mode.value}, clock {config.clock_mode.value}, "
        f"scenario {config.scenario})"
    ]
    token = None
    if config.auth_mode is AuthMode.LENIENT:
        token = mint_token("demo-client")
    elif config.auth_mode is AuthMode.HS256:
        token = mint_token("demo-client", mode=AuthMode.HS256, secret=config.secret)
    if token:
        lines += [
            "Token (client demo-client, every scope):",
            f"  {token}",
            "Try:",
            f"  curl -s -H 'Authorization: Bearer {token}' {url}/downlinks",
        ]
    elif config.auth_mode is AuthMode.OFF:
        lines += ["No token needed (auth off). Try:", f"  curl -s {url}/downlinks"]
    else:
        lines += ["Sign tokens (RS256/ES256) with a key of your JWKS file."]
    lines.append(f"Control plane: {url}/__mock/health  (spec: {url}/__mock/openapi.json)")
    lines.append(f"Web view: {url}/__mock/ui  (API spec: {url}/openapi.json)")
    return "\n".join(lines)


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
    type=click.IntRange(min=1),
    help="How many requests GET /__mock/requests keeps (M7); the oldest drop out.",
)
def serve_command(**options: object) -> None:
    """Run the mock server."""
    import uvicorn

    from mock_server.app import create_app

    config = build_config(**options)  # type: ignore[arg-type]
    try:
        app = create_app(config)
    except ValueError as exc:  # fixture, auth and scenario errors name the file and fix
        raise click.ClickException(str(exc)) from None
    if config.port == 0:  # any free port, but the banner must name the real one
        from mock_server.server import free_port

        config.port = free_port(config.host)
    url = f"http://{config.host}:{config.port}"
    click.echo(_banner(config, url))
    uvicorn.run(app, host=config.host, port=config.port, log_level=config.log_level)
