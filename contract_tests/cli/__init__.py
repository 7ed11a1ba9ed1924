"""`downlinks-contract`: the command line; each subcommand in its own module."""

from __future__ import annotations

from contract_tests.cli.main import cli, main

__all__ = ["cli", "main"]
