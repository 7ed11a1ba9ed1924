"""Replays: a recorded cassette, or a hand-written script, as one test per step.

`cassette_step` is parametrized from the marker's file; `downlinks_replay.check` replays the
step on a fresh mock of the cassette's own (ids, cursors and timestamps are matched, not
compared) and fails with the differences.
"""

from __future__ import annotations

import pytest

from mock_server.config import REPO_ROOT
from replay.cassette import load_steps
from replay.runner import replay

RECORDINGS = REPO_ROOT / "fixtures" / "recordings"


@pytest.mark.downlinks_cassette("../../fixtures/recordings/create-read-cancel.jsonl")
def test_recorded_session(cassette_step, downlinks_replay):
    downlinks_replay.check(cassette_step)


@pytest.mark.downlinks_cassette("../../scenarios/replays/create-read-cancel.yaml")
def test_hand_written_script(cassette_step, downlinks_replay):
    downlinks_replay.check(cassette_step)


def test_whole_cassette_in_one_test(downlinks_mock):
    """Or replay a whole file against the `downlinks_mock` server in one go."""
    report = replay(load_steps(RECORDINGS / "paging.jsonl"), downlinks_mock.base_url)
    assert report.ok, report.render()
