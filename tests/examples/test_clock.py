"""The manual clock: time moves only when a test says so, and progressions follow it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.examples.test_quickstart import create_body


def test_clock_reads_and_moves(downlinks_mock):
    """M5: `now()`, `advance()` (timedelta, seconds or ISO duration) and `set()`."""
    clock = downlinks_mock.clock
    assert clock.now() == datetime(2025, 1, 1, tzinfo=timezone.utc)
    assert clock.advance(timedelta(minutes=5)) == datetime(2025, 1, 1, 0, 5, tzinfo=timezone.utc)
    assert clock.advance("PT1H").hour == 1
    assert clock.advance(0.25).microsecond == 250_000
    later = datetime(2025, 2, 1, tzinfo=timezone.utc)
    assert clock.set(later) == later


@pytest.mark.downlinks_mock(clock_start="2030-06-01T12:00:00Z")
def test_marker_chooses_the_start(downlinks_mock):
    """The marker's clock_start is the test's start (and M2 within the test returns to it)."""
    created = downlinks_mock.client.post("/downlinks", json=create_body()).json()
    assert created["createdAt"] == "2030-06-01T12:00:00.000Z"
    downlinks_mock.clock.advance("PT1M")
    downlinks_mock.reset()
    assert downlinks_mock.clock.now() == datetime(2030, 6, 1, 12, tzinfo=timezone.utc)


def test_progressions_follow_the_clock(downlinks_mock):
    """S4, T3: the default scenario delivers as the clock moves, never on its own."""
    created = downlinks_mock.client.post("/downlinks", json=create_body()).json()
    url = f"/downlinks/{created['id']}"
    assert downlinks_mock.client.get(url).json()["status"] == "PENDING"
    downlinks_mock.clock.advance("PT1H")
    assert downlinks_mock.client.get(url).json()["status"] == "DELIVERED"


@pytest.mark.downlinks_mock(scenario="static")
def test_marker_chooses_the_scenario(downlinks_mock):
    """M6: with the `static` scenario downlinks never move."""
    created = downlinks_mock.client.post("/downlinks", json=create_body()).json()
    downlinks_mock.clock.advance("P1DT")
    got = downlinks_mock.client.get(f"/downlinks/{created['id']}").json()
    assert got["status"] == "PENDING"


@pytest.mark.downlinks_mock(scenario="sms-delivered", clock_start="2025-03-01T08:00:00Z")
def test_marker_with_a_library_scenario(downlinks_mock):
    """S4: `sms-delivered` hands the SMS to the carrier within two seconds; the journal
    names the progression the create got."""
    created = downlinks_mock.client.post("/downlinks", json=create_body()).json()
    assert downlinks_mock.journal.last["progression"] == "sms"
    downlinks_mock.clock.advance("PT2S")
    got = downlinks_mock.client.get(f"/downlinks/{created['id']}").json()
    assert got["status"] == "SENT_TO_CARRIER"
    downlinks_mock.clock.advance("PT20S")
    got = downlinks_mock.client.get(f"/downlinks/{created['id']}").json()
    assert got["status"] == "DELIVERED"
    assert got["modifiedAt"].startswith("2025-03-01T08:00:")
