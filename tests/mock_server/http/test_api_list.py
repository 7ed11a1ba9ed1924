"""GET /downlinks over HTTP: L1-L7, T1, and bad list input (always a 400, never a 500)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from mock_server.domain.timefmt import format_ms
from tests.mock_server.conftest import NID, START_MS, auth, body, problem

pytestmark = pytest.mark.both_stores

T1 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def _seed(client: TestClient, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    r = client.post("/__mock/downlinks", json=[{"owner": "client-a", **rec} for rec in records])
    assert r.status_code == 201, r.text
    return r.json()


def _ids(r: Any) -> list[str]:
    assert r.status_code == 200, r.text
    return [d["id"] for d in r.json()["items"]]


@pytest.fixture
def timeline(client: TestClient) -> list[dict[str, Any]]:
    """Five downlinks 1 ms apart, modified 10 ms after creation."""
    return _seed(
        client,
        [
            {
                "id": f"00000000-0000-4000-8000-00000000000{i}",
                "networkId": f"urn:dev:DEVEUI:{i:016x}:",
                "message": f"msg-{i}",
                "createdAt": format_ms(START_MS + i),
                "modifiedAt": format_ms(START_MS + i + 10),
            }
            for i in range(5)
        ],
    )


def test_l2_created_since_inclusive_before_exclusive(client: TestClient, timeline: list) -> None:
    at = timeline[2]["createdAt"]
    assert _ids(client.get("/downlinks", params={"createdSince": at})) == [
        d["id"] for d in timeline[2:]
    ]
    assert _ids(client.get("/downlinks", params={"createdBefore": at})) == [
        d["id"] for d in timeline[:2]
    ]


def test_l2_modified_since_inclusive_before_exclusive(client: TestClient, timeline: list) -> None:
    at = timeline[3]["modifiedAt"]
    assert _ids(client.get("/downlinks", params={"modifiedSince": at})) == [
        d["id"] for d in timeline[3:]
    ]
    assert _ids(client.get("/downlinks", params={"modifiedBefore": at})) == [
        d["id"] for d in timeline[:3]
    ]


def test_l2_offsets_are_honoured(client: TestClient, timeline: list) -> None:
    # 11:00:00.002+01:00 is 10:00:00.002Z
    ids = _ids(client.get("/downlinks", params={"createdSince": "2025-01-10T11:00:00.002+01:00"}))
    assert ids == [d["id"] for d in timeline[2:]]


def test_l2_empty_range_is_an_empty_200(client: TestClient, timeline: list) -> None:
    at = timeline[2]["createdAt"]
    r = client.get("/downlinks", params={"createdSince": at, "createdBefore": at})
    assert r.status_code == 200 and r.json() == {"items": []}


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2025-01-10",
        "2025-01-10T10:00:00",
        "2025-13-01T00:00:00Z",
        "2025-02-30T00:00:00Z",
        "2025-01-10T25:00:00Z",
        "",
    ],
)
def test_l2_bad_dates_are_400(client: TestClient, value: str) -> None:
    data = problem(client.get("/downlinks", params={"createdSince": value}), 400)
    assert data["errors"][0]["parameter"] == "createdSince"


def test_l1_q_matches_tag_exactly_network_id_and_message_partially(
    client: TestClient, timeline: list
) -> None:
    client.post(
        "/__mock/devices",
        json=[{"networkId": timeline[0]["networkId"], "tags": {"name": "Boiler"}}],
    )
    assert _ids(client.get("/downlinks", params={"q": "Boiler"})) == [timeline[0]["id"]]
    assert _ids(client.get("/downlinks", params={"q": "Boil"})) == []  # tag: exact only
    assert _ids(client.get("/downlinks", params={"q": "boiler"})) == []  # case-sensitive
    assert _ids(client.get("/downlinks", params={"q": "0000000000000003"})) == [
        timeline[3]["id"]
    ]  # networkId
    assert _ids(client.get("/downlinks", params={"q": "sg-4"})) == [timeline[4]["id"]]  # message
    assert _ids(client.get("/downlinks", params={"q": "MSG-4"})) == []


def test_l1_filters_combine_with_and(client: TestClient, timeline: list) -> None:
    r = client.get(
        "/downlinks",
        params={
            "q": "msg",
            "createdSince": timeline[1]["createdAt"],
            "modifiedBefore": timeline[3]["modifiedAt"],
        },
    )
    assert _ids(r) == [timeline[1]["id"], timeline[2]["id"]]


@pytest.mark.parametrize("q", ["", "\x00", "é✓", "%", "'; DROP TABLE", "\u202e", "a" * 5000])
def test_l1_odd_q_values_never_fail(client: TestClient, timeline: list, q: str) -> None:
    r = client.get("/downlinks", params={"q": q})
    if q == "":
        problem(r, 400)  # minLength 1
    else:
        assert r.status_code == 200 and r.json() == {"items": []}


def test_l3_limit_default_and_bounds(client: TestClient) -> None:
    _seed(client, [{"networkId": NID, "createdAt": format_ms(START_MS + i)} for i in range(51)])
    r = client.get("/downlinks")
    assert len(r.json()["items"]) == 50 and "next" in r.json()
    assert len(client.get("/downlinks", params={"limit": 7}).json()["items"]) == 7
    for bad in ("0", "1001", "-1", "1.5", "ten", "9" * 40):
        data = problem(client.get("/downlinks", params={"limit": bad}), 400)
        assert data["errors"][0]["parameter"] == "limit"


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("createdAt", lambda d: (d["createdAt"], d["id"])),
        ("-networkId", lambda d: d["networkId"]),
        ("status,-createdAt", lambda d: d["status"]),
    ],
)
def test_l4_sort(client: TestClient, sort: str, key: Any) -> None:
    _seed(
        client,
        [
            {
                "networkId": f"urn:dev:x{i % 3}:",
                "status": s,
                "createdAt": format_ms(START_MS + i % 2),
            }
            for i, s in enumerate(
                ["PENDING", "FAILED", "DELIVERED", "RETRY", "PENDING", "CANCELLED"]
            )
        ],
    )
    items = client.get("/downlinks", params={"sort": sort}).json()["items"]
    values = [key(d) for d in items]
    assert values == sorted(values, reverse=sort.startswith("-"))


def test_l4_ties_fall_back_to_id_ascending_in_both_directions(client: TestClient) -> None:
    seeded = _seed(client, [{"networkId": NID, "createdAt": format_ms(START_MS)} for _ in range(6)])
    ids = sorted(d["id"] for d in seeded)
    assert _ids(client.get("/downlinks", params={"sort": "createdAt"})) == ids
    assert _ids(client.get("/downlinks", params={"sort": "-createdAt"})) == ids


def test_l4_absent_external_reference_sorts_smallest(client: TestClient) -> None:
    _seed(
        client,
        [
            {"networkId": NID, "externalReference": "b"},
            {"networkId": NID},
            {"networkId": NID, "externalReference": "a"},
        ],
    )
    refs = [
        d.get("externalReference")
        for d in client.get("/downlinks", params={"sort": "externalReference"}).json()["items"]
    ]
    assert refs == [None, "a", "b"]


@pytest.mark.parametrize(
    "sort", ["name", "createdAt,-name", "", "-", "createdAt,createdAt", "CREATEDAT"]
)
def test_l4_unknown_sort_field_is_400_naming_the_allowed(client: TestClient, sort: str) -> None:
    data = problem(client.get("/downlinks", params={"sort": sort}), 400)
    assert data["errors"][0]["parameter"] == "sort"


def test_l5_links_walk_next_and_prev(client: TestClient) -> None:
    seeded = _seed(
        client, [{"networkId": NID, "createdAt": format_ms(START_MS + i // 2)} for i in range(9)]
    )
    expected = sorted((d["createdAt"], d["id"]) for d in seeded)
    pages = []
    r = client.get("/downlinks", params={"limit": 3, "q": NID})
    assert "prev" not in r.json()
    while True:
        page = r.json()
        pages.append([d["id"] for d in page["items"]])
        if "next" not in page:
            break
        link = urlsplit(page["next"])
        assert link.scheme == "http" and link.path == "/downlinks"
        assert parse_qs(link.query)["q"] == [NID] and parse_qs(link.query)["limit"] == ["3"]
        r = client.get(page["next"])
    assert [i for p in pages for i in p] == [i for _, i in expected]
    assert len(pages) == 3 and len(pages[-1]) == 3  # exactly full last page: no next
    back = []
    while "prev" in r.json():
        r = client.get(r.json()["prev"])
        back.append([d["id"] for d in r.json()["items"]])
    assert back == pages[-2::-1]


def test_l5_empty_page_has_neither_link(client: TestClient) -> None:
    assert client.get("/downlinks", params={"q": "nothing-here"}).json() == {"items": []}


def test_l7_garbled_and_foreign_cursors_are_400(client: TestClient) -> None:
    _seed(client, [{"networkId": NID, "createdAt": format_ms(START_MS + i)} for i in range(4)])
    nxt = client.get("/downlinks", params={"limit": 2}).json()["next"]
    cursor = parse_qs(urlsplit(nxt).query)["cursor"][0]
    flipped = cursor[:5] + ("A" if cursor[5] != "A" else "B") + cursor[6:]
    for params in (
        {"cursor": flipped, "limit": 2},
        {"cursor": "garbage"},
        {"cursor": "é"},
        {"cursor": cursor, "sort": "-createdAt"},  # other sort
        {"cursor": cursor, "q": "x"},  # other filters
    ):
        data = problem(client.get("/downlinks", params=params), 400)
        assert data["errors"][0]["parameter"] == "cursor"
    problem(client.get("/downlinks", params={"cursor": cursor}, headers=auth("client-b")), 400)
    assert client.get("/downlinks", params={"cursor": cursor, "limit": 5}).status_code == 200


def test_t1_timestamps_are_utc_millis(client: TestClient) -> None:
    client.post("/downlinks", json=body())
    for dl in client.get("/downlinks").json()["items"]:
        assert T1.match(dl["createdAt"]) and T1.match(dl["modifiedAt"])
        assert all(T1.match(entry["createdAt"]) for entry in dl["logs"])


def test_t1_seeded_times_are_truncated_to_the_millisecond(client: TestClient) -> None:
    seeded = _seed(client, [{"networkId": NID, "createdAt": "2025-01-10T10:00:00.123987Z"}])
    assert seeded[0]["createdAt"] == "2025-01-10T10:00:00.123Z"
    ids = _ids(client.get("/downlinks", params={"createdSince": seeded[0]["createdAt"]}))
    assert ids == [seeded[0]["id"]]


def test_repeated_query_parameter_is_400(client: TestClient) -> None:
    problem(client.get("/downlinks?limit=1&limit=2"), 400)


def test_e2_unknown_query_parameter_is_400_naming_the_known(client: TestClient) -> None:
    data = problem(client.get("/downlinks", params={"createdAfter": "2025-01-01T00:00:00Z"}), 400)
    assert data["errors"][0]["parameter"] == "createdAfter"
    assert "createdSince" in data["errors"][0]["detail"]
    problem(client.post("/downlinks?dryRun=true", json=body()), 400)
    assert client.get("/downlinks").json() == {"items": []}


def test_e2_spec_and_list_rule_violations_come_together(client: TestClient) -> None:
    data = problem(
        client.get(
            "/downlinks",
            params={"q": "", "createdSince": "yesterday", "limit": "0", "sort": "name"},
        ),
        400,
    )
    assert {e["parameter"] for e in data["errors"]} == {"q", "createdSince", "limit", "sort"}
