"""The users' pytest plugin: marker checks, cassette parametrization and step catch-up.

tests/examples/ exercises the fixtures themselves; these tests cover what examples
cannot show: mistakes, and steps run out of order.
"""

from __future__ import annotations

import pytest

from mock_server.client import CassetteReplay
from replay.cassette import load_steps
from replay.recording import FIXTURES_DIR

pytest_plugins = ["pytester"]


def test_a_wrong_marker_key_is_a_usage_error(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.downlinks_mock(scenaro="static")
        def test_typo(downlinks_mock_app):
            pass
        """
    )
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*takes scenario= and clock_start= only, got scenaro*"])


def test_cassette_step_without_the_marker_is_a_usage_error(pytester: pytest.Pytester):
    pytester.makepyfile("def test_steps(cassette_step):\n    pass\n")
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*mark it @pytest.mark.downlinks_cassette*"])


def test_cassette_steps_become_tests_and_differences_fail_them(pytester: pytest.Pytester):
    """A script with one wrong expectation: that step fails with the difference."""
    pytester.makefile(
        ".yaml",
        script="""
steps:
  - request: {method: GET, path: /downlinks}
    expect: {status: 200, body: {items: []}}
  - name: wrong on purpose
    request: {method: GET, path: /downlinks/nope}
    expect: {status: 200}
""",
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.downlinks_cassette("script.yaml")
        def test_step(cassette_step, downlinks_replay):
            downlinks_replay.check(cassette_step)
        """
    )
    result = pytester.runpytest_inprocess("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*test_step?001-GET-/downlinks? PASSED*", "*status: expected 200, actual 404*"]
    )


def test_a_step_runs_the_steps_it_depends_on_first():
    """Out of order (as -k or xdist may run them), each step still replays clean."""
    path = (FIXTURES_DIR / "create-read-cancel.jsonl").resolve()
    steps = load_steps(path)
    replay = CassetteReplay(path)
    try:
        for index in (5, 2, 6, 1, 4):
            replay.check(steps[index - 1])  # raises AssertionError on a difference
    finally:
        replay.close()


def test_a_clock_start_before_2000_is_a_usage_error(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.downlinks_mock(clock_start="1999-12-31T23:59:59Z")
        def test_early(downlinks_mock_app):
            pass

        @pytest.mark.downlinks_mock(clock_start="soon")
        def test_garbled(downlinks_mock_app):
            pass
        """
    )
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*clock_start must be 2000-01-01T00:00:00.000Z or later*"])
    result.stdout.fnmatch_lines(["*clock_start: 'soon' is not an RFC 3339 date-time*"])
