"""The journal's findings (M7): bounded in bytes per entry and in total, with visible
markers; whatever a request carried, `GET /__mock/requests` answers."""

from __future__ import annotations

import base64
import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.config import ClockMode, MockConfig
from mock_server.control.journal import Journal, JournalEntry
from mock_server.control.journal_render import MAX_DEPTH
from tests.mock_server.conftest import START_MS, auth, body, problem
from tests.mock_server.security.snapshot import snapshot


def make_client(**config: Any) -> TestClient:
    return TestClient(
        create_app(
            MockConfig(
                clock_mode=ClockMode.MANUAL, clock_start=START_MS, scenario="static", **config
            )
        )
    )


def journal(http: TestClient, **params: str) -> dict[str, Any]:
    answer = http.get("/__mock/requests", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def unsigned(claims: dict[str, Any]) -> str:
    """A lenient-mode token whose payload is `claims` written as given (no re-encoding)."""

    def part(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()

    payload = "{" + ", ".join(f'"{k}": {v}' for k, v in claims.items()) + "}"
    return f"{part(json.dumps({'alg': 'none', 'typ': 'JWT'}))}.{part(payload)}."


@pytest.mark.rule("M7")
def test_m7_a_body_nested_300_deep_does_not_break_the_journal() -> None:
    http = make_client()
    deep = b"[" * 300 + b"]" * 300
    answer = http.post(
        "/downlinks", content=deep, headers={**auth(), "content-type": "application/json"}
    )
    problem(answer, 400)
    (entry,) = journal(http)["items"]
    assert entry["request"]["body"] == deep.decode()  # shown as text: too deep for JSON
    shallow = json.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    http.post("/downlinks", json=shallow, headers=auth())
    assert journal(http)["items"][-1]["request"]["body"] == shallow


@pytest.mark.rule("M7")
def test_m7_a_lone_surrogate_client_id_does_not_break_the_journal() -> None:
    http = make_client()
    token = unsigned({"client_id": '"\\ud800"', "scope": '"downlinks:read"'})
    http.get("/downlinks", headers={"Authorization": f"Bearer {token}"})
    http.get("/downlinks", headers=auth())
    items = journal(http)["items"]
    assert items[0]["request"]["client"] == "\\ud800"
    assert items[0]["request"]["headers"]["authorization"] == "Bearer <redacted>"
    assert items[1]["request"]["client"] == "client-a"


@pytest.mark.rule("M7")
def test_m7_headers_are_cut_to_the_entry_budget_with_a_marker() -> None:
    http = make_client(journal_entry_bytes=1024)
    http.get(
        "/downlinks", params={"q": "x" * 5000}, headers={**auth(), "user-agent": "u" * 100_000}
    )
    (entry,) = journal(http)["items"]
    assert len(entry["query"]) == 1024 and entry["query"].endswith("...[truncated]")
    headers = entry["request"]["headers"]
    assert entry["request"]["headersTruncated"] is True
    assert sum(len(k) + len(v) for k, v in headers.items()) <= 1024
    assert any(v.endswith("...[truncated]") for v in headers.values())
    kept = http.app.state.mock.journal.entries()[0]  # type: ignore[attr-defined]
    assert sum(len(k) + len(v) for k, v in kept.request_headers) <= 1024


@pytest.mark.rule("M7")
def test_m7_bodies_are_cut_to_the_entry_budget_with_a_marker() -> None:
    http = make_client(journal_entry_bytes=512)
    http.post("/downlinks", json=body(externalReference="r" * 400, x="y" * 2000), headers=auth())
    (entry,) = journal(http)["items"]
    assert entry["request"]["bodyTruncated"] is True
    assert entry["request"]["bodySize"] > 2000
    assert len(entry["request"]["body"]) == 512


@pytest.mark.rule("M7")
def test_m7_the_whole_journal_stays_within_its_byte_budget() -> None:
    http = make_client(journal_entry_bytes=1024, journal_bytes=16 * 1024)
    for _ in range(100):
        http.post(
            "/downlinks", json=body(x="y" * 5000), headers={**auth(), "user-agent": "u" * 5000}
        )
    data = journal(http)
    mock_journal = http.app.state.mock.journal  # type: ignore[attr-defined]
    assert data["bytes"] == mock_journal.bytes <= 16 * 1024 == data["capacityBytes"]
    assert 1 <= len(data["items"]) < 100
    assert data["evicted"] == 100 - len(data["items"])
    assert data["items"][-1]["seq"] == 100  # the newest are kept


def test_journal_budgets_must_be_sensible() -> None:
    with pytest.raises(ValueError):
        Journal(10, entry_bytes=10)
    with pytest.raises(ValueError):
        Journal(10, entry_bytes=4096, total_bytes=1024)


@pytest.mark.rule("M7")
def test_m7_a_glob_re2_cannot_take_is_a_400() -> None:
    http = make_client()
    http.get("/downlinks", headers=auth())
    before = snapshot(http.app.state.mock)  # type: ignore[attr-defined]
    data = problem(http.get("/__mock/requests", params={"path": "/downlinks/[z-a]"}), 400)
    assert [e["parameter"] for e in data["errors"]] == ["path"]
    assert snapshot(http.app.state.mock) == before  # type: ignore[attr-defined]
    assert [e["path"] for e in journal(http, path="/down*")["items"]] == ["/downlinks"]
    assert journal(http, path="/downlinks/[!a]*")["items"] == []


def _entry(request: bytes, response: bytes, headers: list[tuple[bytes, bytes]]) -> JournalEntry:
    return JournalEntry(
        1, "POST", "/downlinks", b"a=\xff", headers, [request], len(request), 400,
        headers, [response], len(response), START_MS, 1, None, None, None, False, False,
        8192, 0,
    )  # fmt: skip


_SCALAR = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
# JSON values a few levels deep (the test nests them deeper itself).
_JSONISH = st.lists(st.dictionaries(st.text(), _SCALAR | st.lists(_SCALAR), max_size=3), max_size=3)


@pytest.mark.rule("M7")
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    request=st.binary(max_size=300) | _JSONISH.map(lambda v: json.dumps(v).encode()),
    response=st.binary(max_size=300),
    depth=st.integers(min_value=0, max_value=400),
    values=st.lists(st.binary(max_size=50), max_size=4),
)
def test_m7_every_entry_renders_whatever_the_bytes(
    request: bytes, response: bytes, depth: int, values: list[bytes]
) -> None:
    nested = b"[" * depth + request + b"]" * depth
    headers = [(b"authorization", b"Bearer " + v) for v in values] + [(b"user-agent", b"\xff\x00")]
    for raw in (request, nested):
        rendered = _entry(raw, response, headers).to_json()
        assert orjson.loads(orjson.dumps(rendered)) is not None
