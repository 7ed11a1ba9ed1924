"""Instants the mock can write back: in range once normalised to UTC (T1)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from mock_server import MockConfig, create_app, mint_token
from mock_server.domain.timefmt import MAX_MS, MIN_MS, format_ms, parse_rfc3339


@pytest.mark.rule("T1")
@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("0001-01-01T00:00:00Z", MIN_MS),
        ("0001-01-01T01:00:00+01:00", MIN_MS),
        ("9999-12-31T23:59:59.999Z", MAX_MS),
        ("9999-12-31T22:59:59.999-01:00", MAX_MS),
    ],
)
def test_t1_the_ends_of_the_range_parse_and_write_back(text: str, ms: int) -> None:
    assert parse_rfc3339(text) == ms
    assert parse_rfc3339(format_ms(ms)) == ms


@pytest.mark.rule("T1")
@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_t1_an_instant_outside_the_years_once_in_utc_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="once in UTC"):
        parse_rfc3339(text)


@pytest.mark.rule("M3")
@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_m3_a_seed_out_of_range_is_a_400_and_stores_nothing(text: str) -> None:
    client = TestClient(create_app(MockConfig()))
    record = {"networkId": "urn:dev:DEVEUI:01:", "createdAt": text, "owner": "a"}
    answer = client.post("/__mock/downlinks", json=[record])
    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"][0]["pointer"] == "#/0/createdAt"
    token = mint_token("a")
    listed = client.get("/downlinks", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200 and listed.json()["items"] == []
