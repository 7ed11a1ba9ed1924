"""Faults (M8): see how your code copes with errors, slowness and dropped connections."""

from __future__ import annotations

import httpx
import pytest

from tests.examples.test_quickstart import create_body


def test_an_error_status_once(downlinks_mock):
    """`times=1`: the first matching request gets a 503 problem+json, the next is served."""
    fault = downlinks_mock.fault(method="POST", path="/downlinks", status=503, times=1)
    first = downlinks_mock.client.post("/downlinks", json=create_body())
    assert first.status_code == 503
    assert first.headers["content-type"] == "application/problem+json"
    assert first.json()["detail"] == f"fault {fault['id']} injected through /__mock/faults"
    assert downlinks_mock.client.post("/downlinks", json=create_body()).status_code == 201
    # The failed create never reached the mock: one downlink only.
    assert len(downlinks_mock.client.get("/downlinks").json()["items"]) == 1


def test_a_dropped_connection(downlinks_mock):
    """`drop=True`: the server closes the connection without an answer."""
    downlinks_mock.fault(path="/downlinks", drop=True, times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        downlinks_mock.client.get("/downlinks")
    assert downlinks_mock.client.get("/downlinks").status_code == 200


def test_retry_after_on_a_rate_limit(downlinks_mock):
    """Error faults take problem fields and headers: a 429 with Retry-After."""
    downlinks_mock.fault(status=429, title="Too many requests", headers={"Retry-After": "1"})
    answer = downlinks_mock.client.get("/downlinks")
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "1"


def test_seeded_probability_repeats(downlinks_mock):
    """`probability` with a `seed`: the same requests fail on every run."""

    def run() -> list[int]:
        downlinks_mock.reset()
        downlinks_mock.fault(path="/downlinks", status=500, probability=0.5, seed=7)
        return [downlinks_mock.client.get("/downlinks").status_code for _ in range(12)]

    first = run()
    assert first == run()
    assert set(first) == {200, 500}
