"""End to end: the contract suite (profile mock, every rule) against two mock processes
sharing one Redis, each request going to the other process (tests/support/alternate.py)."""

from __future__ import annotations

from click.testing import CliRunner

from contract_tests.cli.main import cli
from tests.support.alternate import Alternate
from tests.support.serve import Serve


def test_contract_suite_passes_against_two_mocks_on_one_redis(redis_url: str) -> None:
    with (
        Serve("--store", redis_url, "--clock", "manual") as first,
        Serve("--store", redis_url, "--clock", "manual") as second,
        Alternate([first.url, second.url]) as proxy,
    ):
        result = CliRunner().invoke(cli, ["run", "--base-url", proxy.base_url, "--profile", "mock"])
        sent = proxy.sent
    assert result.exit_code == 0, result.output
    assert "PASSED:" in result.output and "in full mode" in result.output
    assert min(sent) > 10  # both processes answered a share
