"""`downlinks-contract`: does a target at some URL obey the Downlinks API contract?

    downlinks-contract run --base-url http://127.0.0.1:8080
    downlinks-contract checks          # what each rule checks

Exit codes: 0 every enforced check passed, 1 some failed, 2 usage or connection error
(one line on stderr, never a traceback).
"""

from __future__ import annotations

import os
import sys

import click

from contract_tests.registry import ContractError

__all__ = ["main", "cli"]


class _Group(click.Group):
    """Turns the toolkit's own errors into one line on stderr and exit code 2."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ContractError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="downlinks-mock", prog_name="downlinks-contract")
def cli() -> None:
    """Contract tests for any implementation of the KPN Things Downlinks API."""


def _register() -> None:
    from contract_tests.cli.run import checks_command, run_command

    cli.add_command(run_command)
    cli.add_command(checks_command)


_register()


# What only the `contract` extra brings: without it, one line says what to install.
_EXTRA_MODULES = frozenset({"schemathesis", "rich", "hypothesis"})


def main(argv: list[str] | None = None) -> None:
    """The console-script entry point."""
    try:
        cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="downlinks-contract")
    except SystemExit as exc:
        from contract_tests.cli.run import EXIT_INTERRUPTED

        if exc.code != EXIT_INTERRUPTED:
            raise
        # Out at once: Schemathesis' workers may still be inside an example, and a Ctrl-C
        # that lands while the interpreter waits for them would end the run killed, not 130.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in _EXTRA_MODULES:
            raise
        click.echo(
            f"error: the contract suite needs {exc.name}: pip install 'downlinks-mock[contract]'",
            err=True,
        )
        sys.exit(2)


if __name__ == "__main__":
    main()
