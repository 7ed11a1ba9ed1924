"""`serve` flags for the control plane's byte budgets (docs/security.md), each reaching the
mock it configures."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from mock_server.cli.serve import build_config, serve_command
from mock_server.mock import Mock
from tests.mock_server.cli.test_cli_serve import DEFAULTS


def test_serve_has_a_flag_for_every_control_plane_budget() -> None:
    text = CliRunner().invoke(serve_command, ["--help"]).output
    for flag in ("--journal-entry-bytes", "--journal-bytes", "--max-seed-bytes"):
        assert flag in text
    config = build_config(
        **DEFAULTS, journal_entry_bytes=1024, journal_bytes=65536, max_seed_bytes=4096
    )
    assert (config.journal_entry_bytes, config.journal_bytes, config.seed_body_limit) == (
        1024,
        65536,
        4096,
    )
    journal = Mock(config).journal
    assert (journal.entry_bytes, journal.total_bytes) == (1024, 65536)


def test_the_journal_must_hold_one_entry() -> None:
    with pytest.raises(click.BadParameter) as info:
        build_config(**DEFAULTS, journal_entry_bytes=8192, journal_bytes=4096)
    assert info.value.param_hint == "--journal-bytes"
