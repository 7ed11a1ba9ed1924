"""DELETE /downlinks/{id}: X1-X5, and a 409 that changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.mock_server.conftest import NID, START, auth, body, problem

pytestmark = pytest.mark.both_stores

# The M4 path from PENDING to each status (S1).
PATHS = {
    "PENDING": [],
    "EXECUTING": ["EXECUTING"],
    "SENT_TO_CARRIER": ["EXECUTING", "SENT_TO_CARRIER"],
    "RETRY": ["EXECUTING", "RETRY"],
    "DELIVERED": ["EXECUTING", "SENT_TO_CARRIER", "DELIVERED"],
    "FAILED": ["FAILED"],
    "CANCELLED": ["CANCELLED"],
}
EXPECTED = {  # status -> (without forced, with forced) X2, X3
    "PENDING": (202, 202),
    "RETRY": (202, 202),
    "EXECUTING": (409, 202),
    "SENT_TO_CARRIER": (409, 202),
    "DELIVERED": (409, 409),
    "FAILED": (409, 409),
    "CANCELLED": (409, 409),
}


def _in_status(client: TestClient, status: str) -> dict[str, Any]:
    dl = client.post("/downlinks", json=body()).json()
    for step in PATHS[status]:
        r = client.post(f"/__mock/downlinks/{dl['id']}/transition", json={"status": step})
        assert r.status_code == 200, r.text
        dl = r.json()
    assert dl["status"] == status
    return dl


@pytest.mark.parametrize("status", list(EXPECTED))
@pytest.mark.parametrize("forced", [False, True])
def test_x2_x3_cancel_per_status(client: TestClient, status: str, forced: bool) -> None:
    dl = _in_status(client, status)
    r = client.delete(f"/downlinks/{dl['id']}", params={"forced": "true"} if forced else {})
    expected = EXPECTED[status][forced]
    after = client.get(f"/downlinks/{dl['id']}").json()
    if expected == 202:
        assert r.status_code == 202 and r.content == b""
        # X4: CANCELLED, modifiedAt moved, a log with errorCode CANCELLED.
        assert after["status"] == "CANCELLED"
        assert after["modifiedAt"] > dl["modifiedAt"]
        assert after["logs"][:-1] == dl["logs"]
        assert after["logs"][-1]["errorCode"] == "CANCELLED"
        assert after["logs"][-1]["event"] == "DOWNLINK_FAILED"
    else:
        problem(r, 409)
        assert after == dl  # X4: a 409 changes nothing


def test_x2_cancelling_twice_is_409(client: TestClient) -> None:
    dl = client.post("/downlinks", json=body()).json()
    assert client.delete(f"/downlinks/{dl['id']}").status_code == 202
    problem(client.delete(f"/downlinks/{dl['id']}"), 409)
    problem(client.delete(f"/downlinks/{dl['id']}", params={"forced": "true"}), 409)


@pytest.mark.parametrize("value", ["maybe", "TRUE", "1", "", "yes"])
def test_x5_forced_must_be_a_boolean(client: TestClient, value: str) -> None:
    dl = client.post("/downlinks", json=body()).json()
    data = problem(client.delete(f"/downlinks/{dl['id']}", params={"forced": value}), 400)
    assert data["errors"][0]["parameter"] == "forced"
    assert client.get(f"/downlinks/{dl['id']}").json()["status"] == "PENDING"


def test_x5_forced_false_is_accepted(client: TestClient) -> None:
    dl = client.post("/downlinks", json=body()).json()
    assert client.delete(f"/downlinks/{dl['id']}", params={"forced": "false"}).status_code == 202


def test_x5_unknown_and_foreign_ids_are_404(client: TestClient) -> None:
    problem(client.delete("/downlinks/00000000-0000-4000-8000-000000000000"), 404)
    dl = client.post("/downlinks", json=body()).json()
    problem(client.delete(f"/downlinks/{dl['id']}", headers=auth("client-b")), 404)
    assert client.get(f"/downlinks/{dl['id']}").json()["status"] == "PENDING"


def test_x4_cancel_on_a_stopped_clock_still_moves_modified_at(client: TestClient) -> None:
    dl = client.post("/downlinks", json=body()).json()
    assert dl["modifiedAt"] == START
    client.delete(f"/downlinks/{dl['id']}")
    after = client.get(f"/downlinks/{dl['id']}").json()
    assert after["modifiedAt"] == "2025-01-10T10:00:00.001Z"
    assert after["createdAt"] == START
    listed = client.get(
        "/downlinks", params={"modifiedSince": after["modifiedAt"], "q": NID}
    ).json()
    assert [d["id"] for d in listed["items"]] == [dl["id"]]
