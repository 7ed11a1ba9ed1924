"""`downlinks-mock`: the command line. Subcommands live in their own modules."""

from __future__ import annotations

import sys

import click

from mock_server import __version__

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="downlinks-mock")
def cli() -> None:
    """A stateful mock of the KPN Things Downlinks API, with a steppable clock."""


def _register() -> None:
    from mock_server.cli.fixtures import fixtures_group
    from mock_server.cli.serve import serve_command
    from mock_server.cli.token import token_command
    from replay.cli import record_command, replay_command

    cli.add_command(serve_command, "serve")
    cli.add_command(token_command, "token")
    cli.add_command(fixtures_group, "fixtures")
    cli.add_command(record_command, "record")
    cli.add_command(replay_command, "replay")


_register()


def main() -> None:
    """Entry point: known errors become one clear line and exit code 2."""
    try:
        # Without standalone mode click returns what `ctx.exit(code)` asked for.
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
