"""The request journal (M7): bounds, filters, clearing, what an entry shows."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.config import ClockMode, MockConfig
from mock_server.control.journal import BODY_LIMIT, Journal
from tests.mock_server.conftest import START, START_MS, auth, body

pytestmark = pytest.mark.both_stores


def make_client(**config: Any) -> TestClient:
    cfg = MockConfig(clock_mode=ClockMode.MANUAL, clock_start=START_MS, **config)
    return TestClient(create_app(cfg))


@pytest.fixture
def http() -> TestClient:
    return make_client(scenario="static")


def journal(http: TestClient, **params: str) -> dict[str, Any]:
    answer = http.get("/__mock/requests", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_m7_entries_newest_last_with_request_and_answer(http):
    created = http.post("/downlinks", json=body(externalReference="j-1"), headers=auth())
    http.get("/downlinks", params={"limit": "5"}, headers=auth())
    items = journal(http)["items"]
    assert [(e["method"], e["path"], e["status"]) for e in items] == [
        ("POST", "/downlinks", 201),
        ("GET", "/downlinks", 200),
    ]
    first, second = items
    assert first["seq"] < second["seq"]
    assert first["time"] == START
    assert first["durationMs"] >= 0
    assert first["request"]["body"]["externalReference"] == "j-1"
    assert first["request"]["headers"]["content-type"] == "application/json"
    assert first["request"]["headers"]["authorization"] == "Bearer <redacted>"
    assert first["request"]["client"] == "client-a"
    assert first["response"]["body"] == created.json()
    assert first["response"]["headers"]["location"] == created.headers["location"]
    assert second["query"] == "limit=5"
    assert second["request"]["body"] is None


def test_m7_create_entry_names_downlink_and_progression(http):
    """A create's entry shows the progression the scenario gave the downlink (S4)."""
    created = http.post("/downlinks", json=body(), headers=auth()).json()
    http.post("/downlinks", json=body(dryRun=True), headers=auth())
    create, dry = journal(http)["items"]
    assert create["downlinkId"] == created["id"]
    assert create["progression"] == "static"
    assert dry["downlinkId"] is None and dry["progression"] is None  # C8: nothing stored


def test_m7_ring_keeps_the_newest():
    small = make_client(journal_size=3)
    for n in range(5):
        small.get(f"/downlinks/id-{n}", headers=auth())
    data = journal(small)
    assert [e["path"] for e in data["items"]] == [
        "/downlinks/id-2",
        "/downlinks/id-3",
        "/downlinks/id-4",
    ]
    assert data["capacity"] == 3
    assert data["evicted"] == 2


def test_m7_filters_method_path_status(http):
    dl = http.post("/downlinks", json=body(), headers=auth()).json()
    http.get(f"/downlinks/{dl['id']}", headers=auth())
    http.get("/downlinks/missing", headers=auth())
    http.delete(f"/downlinks/{dl['id']}", headers=auth())
    http.get("/downlinks", headers=auth())

    def paths(**params: str) -> list[str]:
        return [f"{e['method']} {e['path']}" for e in journal(http, **params)["items"]]

    assert paths(method="post") == ["POST /downlinks"]
    assert paths(method="GET,DELETE", path="/downlinks") == ["GET /downlinks"]
    assert paths(path="/downlinks/*", status="404") == ["GET /downlinks/missing"]
    assert paths(status="2xx", path="/downlinks/?*") == [
        f"GET /downlinks/{dl['id']}",
        f"DELETE /downlinks/{dl['id']}",
    ]
    assert paths(limit="2") == [f"DELETE /downlinks/{dl['id']}", "GET /downlinks"]


def test_m7_filters_time_on_the_mocks_clock(http):
    """since is inclusive, before exclusive (as L2), on the mock's clock."""
    http.get("/downlinks/a", headers=auth())
    http.post("/__mock/clock", json={"advance": "PT1M"})
    http.get("/downlinks/b", headers=auth())
    http.post("/__mock/clock", json={"advance": "PT1M"})
    http.get("/downlinks/c", headers=auth())

    def paths(**params: str) -> list[str]:
        return [e["path"][-1] for e in journal(http, **params)["items"]]

    assert paths(since="2025-01-10T10:01:00.000Z") == ["b", "c"]
    assert paths(before="2025-01-10T10:01:00.000Z") == ["a"]
    assert paths(since="2025-01-10T10:00:30Z", before="2025-01-10T10:02:00Z") == ["b"]


def test_m7_bad_filters_are_400_naming_each(http):
    answer = http.get(
        "/__mock/requests",
        params={"status": "abc", "since": "yesterday", "limit": "0", "colour": "red", "path": "x"},
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    named = {e["parameter"] for e in answer.json()["errors"]}
    assert named == {"status", "since", "limit", "colour", "path"}


def test_m7_delete_clears(http):
    http.get("/downlinks", headers=auth())
    assert http.delete("/__mock/requests").status_code == 204
    data = journal(http)
    assert data["items"] == [] and data["evicted"] == 0
    http.get("/downlinks", headers=auth())
    assert len(journal(http)["items"]) == 1


def test_m2_reset_clears_the_journal(http):
    http.get("/downlinks", headers=auth())
    assert http.post("/__mock/reset").status_code == 204
    assert journal(http)["items"] == []


def test_m7_control_plane_is_not_journaled(http):
    """Control-plane requests stay out, so reading the journal never changes it."""
    http.get("/__mock/health")
    http.post("/__mock/clock", json={"advance": "PT1S"})
    journal(http)
    http.get("/nowhere")  # unknown public paths are journaled (404)
    assert [e["path"] for e in journal(http)["items"]] == ["/nowhere"]


def test_m7_large_and_non_json_bodies(http):
    big = {"instruction": [{"bn": "x" * (BODY_LIMIT + 100)}], "method": {"protocol": "SMS"}}
    http.post("/downlinks", json=big, headers=auth())
    http.post(
        "/downlinks",
        content=b"{not json",
        headers={**auth(), "content-type": "application/json"},
    )
    large, broken = journal(http)["items"]
    assert large["request"]["bodyTruncated"] is True
    assert large["request"]["bodySize"] > BODY_LIMIT
    assert isinstance(large["request"]["body"], str) and len(large["request"]["body"]) == BODY_LIMIT
    assert broken["request"]["body"] == "{not json"
    assert broken["status"] == 400


def test_journal_size_must_not_be_negative():
    with pytest.raises(ValueError, match="at least 0"):
        Journal(-1)


def test_m7_a_journal_of_size_0_is_off_and_faults_still_apply():
    """`journal_size=0` turns the journal off: nothing is kept, the public API answers as
    before, and an armed fault (M8) is still applied."""
    off = make_client(journal_size=0, scenario="static")
    created = off.post("/downlinks", json=body(), headers=auth())
    assert created.status_code == 201
    assert off.get(f"/downlinks/{created.json()['id']}", headers=auth()).status_code == 200
    data = journal(off)
    assert data["items"] == [] and data["capacity"] == 0
    assert data["bytes"] == 0 and data["evicted"] == 0
    armed = off.post("/__mock/faults", json={"path": "/downlinks", "status": 503, "times": 1})
    assert armed.status_code == 201, armed.text
    assert off.get("/downlinks", headers=auth()).status_code == 503
    assert off.get("/downlinks", headers=auth()).status_code == 200
    assert journal(off)["items"] == []
    assert len(off.app.state.mock.journal) == 0


def test_keep_headers_lowers_names_keeps_order_and_cuts_to_the_budget():
    """The recording path's header picking: only the named headers, names lowered,
    in order; cut (and marked) only when they do not fit the budget."""
    from mock_server.control.journal_render import TRUNCATED, keep_headers

    names = frozenset({b"accept", b"content-type"})
    raw = [(b"Host", b"x"), (b"Content-Type", b"a/b"), (b"accept", b"*/*"), (b"X-1", b"y")]
    assert keep_headers(raw, names, 8192) == (
        [(b"content-type", b"a/b"), (b"accept", b"*/*")],
        len(b"content-type") + len(b"a/b") + len(b"accept") + len(b"*/*"),
        False,
    )
    long = [(b"accept", b"v" * 100), (b"content-type", b"w" * 100)]
    kept, used, cut = keep_headers(long, names, 150)
    assert cut is True and used <= 150
    assert kept[0] == (b"accept", b"v" * 100)
    assert kept[1][0] == b"content-type" and kept[1][1].endswith(TRUNCATED)
    assert used == sum(len(n) + len(v) for n, v in kept)
    # Exactly at the edge: the same answer as a header-by-header cut would give.
    for budget in range(1, 80):
        kept, used, cut = keep_headers([(b"accept", b"v" * 40)], names, budget)
        room = budget - len(b"accept")
        if room <= len(TRUNCATED):
            assert (kept, used, cut) == ([], 0, True)
        elif 40 > room:
            assert cut and kept[0][1] == b"v" * (room - len(TRUNCATED)) + TRUNCATED
        else:
            assert (kept, used, cut) == ([(b"accept", b"v" * 40)], 46, False)


def test_m7_keeps_at_most_the_limit_of_a_large_answer():
    """A big page is cut as it passes: the ring never holds whole large bodies."""
    http = make_client(scenario="static")
    seeded = [{"networkId": f"urn:dev:DEVEUI:{n:016X}:", "owner": "client-a"} for n in range(60)]
    assert http.post("/__mock/downlinks", json=seeded).status_code == 201
    page = http.get("/downlinks", params={"limit": "60"}, headers=auth())
    assert len(page.content) > BODY_LIMIT
    (entry,) = http.app.state.mock.journal.entries()
    assert sum(len(chunk) for chunk in entry.response_body) == BODY_LIMIT
    assert entry.response_size == len(page.content)
