"""`downlinks-mock token`: mint a Bearer token for a client and scopes (A4)."""

from __future__ import annotations

import time

import click

from mock_server.config import AuthMode
from mock_server.http.auth import SCOPES, mint_token

__all__ = ["token_command"]

_MINTABLE = (AuthMode.LENIENT.value, AuthMode.HS256.value)


@click.command("token")
@click.option(
    "--client",
    default="demo-client",
    show_default=True,
    help="Client (tenant) id, written to the client_id and sub claims.",
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(SCOPES),
    help="A scope to grant; repeat for several. Default: all three.",
)
@click.option(
    "--mode",
    type=click.Choice(_MINTABLE),
    default=AuthMode.LENIENT.value,
    show_default=True,
    help="The auth mode of the mock that will check the token: lenient mints an unsigned "
    "token (alg none), hs256 one signed with --secret.",
)
@click.option(
    "--secret",
    help="The mock's shared secret; required with --mode hs256 and accepted only there.",
)
@click.option(
    "--expires-in",
    type=int,
    metavar="SECONDS",
    help="Seconds from now (by the wall clock) until the token expires; 0 or negative "
    "mints an already expired token. Default: no exp claim, the token never expires.",
)
def token_command(
    client: str,
    scopes: tuple[str, ...],
    mode: str,
    secret: str | None,
    expires_in: int | None,
) -> None:
    """Print a Bearer token for a client and its scopes, alone on stdout.

    Use it as: curl -H "Authorization: Bearer $(downlinks-mock token)" ...
    """
    if mode == AuthMode.HS256.value and not secret:
        raise click.UsageError("--mode hs256 needs --secret (the secret the mock was started with)")
    if secret and mode != AuthMode.HS256.value:
        raise click.UsageError(f"--secret is used only with --mode hs256, not --mode {mode}")
    if not client:
        raise click.BadParameter("must not be empty", param_hint="--client")
    now_ms = time.time_ns() // 1_000_000
    token = mint_token(
        client,
        scopes or SCOPES,
        mode=AuthMode(mode),
        secret=secret,
        issued_at_ms=now_ms,
        expires_at_ms=None if expires_in is None else now_ms + expires_in * 1000,
    )
    click.echo(token)
