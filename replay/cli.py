"""`downlinks-mock record` (a recording proxy) and `downlinks-mock replay` (a cassette or
script against any implementation). Replay exits 0 when every step matches, 1 with
differences, 2 on usage or connection errors."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

import click

__all__ = ["record_command", "replay_command"]


class _Unusable(click.ClickException):
    """A usage or connection problem: one line, exit 2."""

    exit_code = 2


def _check_url(url: str, option: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(
            f"{url!r} is not an http(s) URL, e.g. http://127.0.0.1:8080", param_hint=option
        )
    return url.rstrip("/")


@click.command(context_settings={"show_default": True})
@click.option(
    "--target", required=True, help="The implementation to record, e.g. http://127.0.0.1:8080."
)
@click.option("--host", default="127.0.0.1", help="Interface the proxy listens on.")
@click.option("--port", default=8081, type=click.IntRange(0, 65535), help="The proxy's port.")
@click.option(
    "--cassette",
    default="cassette.jsonl",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The JSONL file the exchanges go to.",
)
@click.option("--append", is_flag=True, help="Add to the cassette instead of starting it anew.")
def record_command(target: str, host: str, port: int, cassette: Path, append: bool) -> None:
    """Run a recording proxy: point a client at it, every exchange goes to the cassette.

    Authorization values are redacted; the token's client and scopes are kept so that a
    replay can mint an equivalent token.
    """
    from mock_server.server import ListenError, ServerLimits, listen_socket, run
    from replay.cassette import CassetteWriter
    from replay.recording import create_proxy

    target = _check_url(target, "--target")
    # The port first: a busy one must fail before the cassette is opened (and emptied).
    try:
        sock = listen_socket(host, port)
    except ListenError as exc:
        raise _Unusable(str(exc)) from None
    try:
        writer = CassetteWriter(cassette, append=append)
    except OSError as exc:
        sock.close()
        raise _Unusable(f"cannot write {cassette}: {exc.strerror or exc}") from None
    app = create_proxy(target, writer)
    port = int(sock.getsockname()[1])
    click.echo(f"Recording proxy on http://{host}:{port} -> {target}; writing {cassette}")
    click.echo("Point your client at the proxy; stop with Ctrl-C.")
    try:
        run(app, sock=sock, log_level="warning", limits=ServerLimits())
    finally:
        writer.close()
        click.echo(f"{writer.count} exchange(s) recorded in {cassette}")


@click.command(context_settings={"show_default": True})
@click.argument("cassette", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--base-url", required=True, help="The implementation to replay against.")
@click.option("--token", help="Bearer token for every step that sent one (else minted per client).")
@click.option("--reset", is_flag=True, help="POST /__mock/reset (M2) first.")
@click.option(
    "--timeout", default=10.0, type=click.FloatRange(min=0.1), help="Seconds per request."
)
def replay_command(
    cassette: Path,
    base_url: str,
    token: str | None,
    reset: bool,
    timeout: float,
) -> None:
    """Replay a cassette (.jsonl) or a replay script (.yaml) and print the differences.

    Ids, timestamps, cursors and tie order are matched, not compared (see
    docs/record-replay.md). Without --token, each step gets a lenient token minted for
    the recorded client and scopes (a target in lenient or off auth mode accepts it).
    """
    from replay.cassette import CassetteError, load_steps
    from replay.runner import ReplayError, replay

    base_url = _check_url(base_url, "--base-url")
    try:
        steps = load_steps(cassette)
        report = replay(steps, base_url, token=token, reset=reset, timeout=timeout)
    except (CassetteError, ReplayError) as exc:
        raise _Unusable(str(exc)) from None
    click.echo(report.render())
    if not report.ok:
        sys.exit(1)  # SystemExit: `main` runs click outside standalone mode, which swallows Exit
