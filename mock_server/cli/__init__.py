"""`downlinks-mock`: the command line; each subcommand in its own module."""

from __future__ import annotations

from mock_server.cli.main import cli, main

__all__ = ["cli", "main"]
