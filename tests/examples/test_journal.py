"""The journal (M7): what your code sent the mock, and what it answered."""

from __future__ import annotations

from tests.examples.test_quickstart import create_body


def test_journal_like_respx(downlinks_mock):
    """`called`, `call_count`, `last` and `assert_called` read GET /__mock/requests."""
    journal = downlinks_mock.journal
    assert not journal.called

    created = downlinks_mock.client.post("/downlinks", json=create_body("ref-1")).json()
    downlinks_mock.client.get(f"/downlinks/{created['id']}")
    downlinks_mock.client.get("/downlinks/no-such-id")

    assert journal.call_count == 3
    assert journal.last["status"] == 404
    journal.assert_called("POST", "/downlinks", status=201, times=1)
    journal.assert_called("GET", "/downlinks/*", status="2xx")
    journal.assert_not_called("DELETE", "/downlinks/*")


def test_entries_show_bodies_and_progression(downlinks_mock):
    """Each entry holds the request and response (bodies truncated past 8 KiB) and, for a
    create, the progression the scenario gave the downlink (S4)."""
    downlinks_mock.client.post("/downlinks", json=create_body("ref-2"))
    entry = downlinks_mock.journal.filter(method="POST").last
    assert entry["request"]["body"]["externalReference"] == "ref-2"
    assert entry["request"]["headers"]["authorization"] == "Bearer <redacted>"
    assert entry["request"]["client"] == "demo-client"
    assert entry["response"]["body"]["id"] == entry["downlinkId"]
    assert entry["progression"] is not None
    assert entry["time"] == "2025-01-01T00:00:00.000Z"


def test_control_plane_is_not_journaled(downlinks_mock):
    """Clock moves, resets and journal reads stay out of the journal."""
    downlinks_mock.clock.advance("PT1S")
    assert downlinks_mock.journal.calls == []
