"""The web view's own read-only endpoints, in-process: listing across clients, one
downlink with its scheduled moves, tokens for a cancel, the spec, the page and its files."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.config import OPENAPI_PATH, AuthMode, ClockMode, MockConfig
from mock_server.domain.timefmt import format_ms
from tests.mock_server.conftest import START_MS, auth, body, problem

UI = "/__mock/ui/api"


def make(**config: Any) -> TestClient:
    cfg = MockConfig(clock_mode=ClockMode.MANUAL, clock_start=START_MS, **config)
    return TestClient(create_app(cfg), raise_server_exceptions=False)


@pytest.fixture
def http() -> TestClient:
    return make(scenario="static")


def seed(http: TestClient, clients: dict[str, int]) -> list[dict[str, Any]]:
    """Seed `n` downlinks per client, one millisecond apart, statuses in turn (M3)."""
    statuses = ["PENDING", "DELIVERED", "FAILED", "EXECUTING"]
    records = []
    i = 0
    for client, n in clients.items():
        for k in range(n):
            at = format_ms(START_MS - 100_000 + (i % 9) * 1000)  # ties on purpose (L4)
            records.append(
                {
                    "owner": client,
                    "networkId": f"urn:dev:DEVEUI:{client}-{k:04d}:",
                    "status": statuses[i % 4],
                    "createdAt": at,
                    "modifiedAt": at,
                    "externalReference": f"{client}-{k}" if k % 3 else None,
                }
            )
            i += 1
    for r in records:
        if r["externalReference"] is None:
            del r["externalReference"]
    answer = http.post("/__mock/downlinks", json=records)
    assert answer.status_code == 201, answer.text
    return answer.json()


def walk(http: TestClient, **params: str) -> tuple[list[dict[str, Any]], list[list[str]]]:
    """Every item of a list, following `next`; and the pages' ids (for the walk back)."""
    items: list[dict[str, Any]] = []
    pages: list[list[str]] = []
    cursor = None
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        answer = http.get(f"{UI}/downlinks", params=query)
        assert answer.status_code == 200, answer.text
        data = answer.json()
        items += data["items"]
        pages.append([d["id"] for d in data["items"]])
        assert len(pages) < 100
        cursor = data["next"]
        if cursor is None:
            return items, pages


@pytest.mark.parametrize(
    "sort",
    ["-createdAt", "createdAt", "-modifiedAt", "status", "-networkId", "externalReference"],
)
def test_lists_every_client_once_in_order_forward_and_back(http, sort):
    """The merge of per-client keyset pages walks every downlink once, in the total order
    of L4 (ties on id), and `prev` walks the same pages back (L6)."""
    stored = seed(http, {"acme": 23, "globex": 17, "initech": 5})
    items, pages = walk(http, sort=sort, limit="7")
    assert sorted(d["id"] for d in items) == sorted(d["id"] for d in stored)
    assert {d["owner"] for d in items} == {"acme", "globex", "initech"}
    field = sort.lstrip("-")
    by_id = {d["id"]: d for d in stored}

    def key(d: dict[str, Any]) -> Any:
        value = by_id[d["id"]].get(field)
        return (0, "") if value is None else (1, value)

    expected = _in_order(items, key, sort.startswith("-"))
    assert [d["id"] for d in items] == [d["id"] for d in expected]
    assert all(len(p) == 7 for p in pages[:-1])
    # Walk back with prev from the last page.
    last = http.get(f"{UI}/downlinks", params={"sort": sort, "limit": "7"}).json()
    while last["next"]:
        last = http.get(
            f"{UI}/downlinks", params={"sort": sort, "limit": "7", "cursor": last["next"]}
        ).json()
    back = [[d["id"] for d in last["items"]]]
    while last["prev"]:
        last = http.get(
            f"{UI}/downlinks", params={"sort": sort, "limit": "7", "cursor": last["prev"]}
        ).json()
        back.append([d["id"] for d in last["items"]])
    assert back[::-1] == pages


def _in_order(items: list[dict[str, Any]], key: Any, desc: bool) -> list[dict[str, Any]]:
    """By `key` (descending when `desc`), ids ascending within equal keys (L4)."""
    groups: dict[Any, list[dict[str, Any]]] = {}
    for d in sorted(items, key=lambda d: d["id"]):
        groups.setdefault(key(d), []).append(d)
    return [d for k in sorted(groups, reverse=desc) for d in groups[k]]


def test_filters_by_client_status_and_q(http):
    seed(http, {"acme": 12, "globex": 8})
    one = http.get(f"{UI}/downlinks", params={"client": "globex", "limit": "200"}).json()
    assert len(one["items"]) == 8 and {d["owner"] for d in one["items"]} == {"globex"}
    assert one["owners"] == ["acme", "globex"]
    delivered = http.get(f"{UI}/downlinks", params={"status": "DELIVERED,FAILED"}).json()
    assert delivered["items"] and {d["status"] for d in delivered["items"]} <= {
        "DELIVERED",
        "FAILED",
    }
    assert len(delivered["items"]) == 10  # every other one of 20
    q = http.get(f"{UI}/downlinks", params={"q": "acme-0003"}).json()
    assert [d["networkId"] for d in q["items"]] == ["urn:dev:DEVEUI:acme-0003:"]


def test_status_filter_pages_walk_every_match(http):
    seed(http, {"acme": 30, "globex": 30})
    items, _ = walk(http, status="EXECUTING", limit="4")
    assert len(items) == 15 and {d["status"] for d in items} == {"EXECUTING"}
    assert len({d["id"] for d in items}) == 15


def test_scan_budget_ends_a_page_early_and_next_goes_on(http, monkeypatch):
    """A rare status stops the scan at its budget; `next` resumes after what was read."""
    from mock_server.ui import listing

    monkeypatch.setattr(listing, "_BATCH", 5)
    monkeypatch.setattr(listing, "_FETCHES_INDEXED", 2)
    seed(http, {"acme": 40})
    first = http.get(f"{UI}/downlinks", params={"status": "FAILED", "limit": "50"}).json()
    assert first["partial"] is True and first["next"]
    items, _ = walk(http, status="FAILED", limit="50")
    assert len(items) == 10 and {d["status"] for d in items} == {"FAILED"}


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"limit": "0"}, ["limit"]),
        ({"limit": "201"}, ["limit"]),
        ({"status": "LOST"}, ["status"]),
        ({"sort": "owner"}, ["sort"]),
        ({"cursor": "garbage!"}, ["cursor"]),
        ({"createdSince": "yesterday"}, ["createdSince"]),
        ({"colour": "red", "limit": "x"}, ["colour", "limit"]),
    ],
)
def test_bad_list_parameters_are_400_naming_each(http, params, names):
    data = problem(http.get(f"{UI}/downlinks", params=params), 400)
    assert sorted(e["parameter"] for e in data["errors"]) == sorted(names)


def test_a_cursor_of_another_sort_is_400(http):
    seed(http, {"acme": 5})
    page = http.get(f"{UI}/downlinks", params={"limit": "2"}).json()
    data = problem(
        http.get(
            f"{UI}/downlinks", params={"limit": "2", "sort": "status", "cursor": page["next"]}
        ),
        400,
    )
    assert data["errors"][0]["parameter"] == "cursor"


def test_repeated_parameter_is_400(http):
    problem(http.get(f"{UI}/downlinks?limit=5&limit=6"), 400)


@pytest.mark.rule("S4")
def test_one_downlink_shows_owner_method_and_scheduled_moves():
    http = make(scenario="default")
    created = http.post(
        "/downlinks",
        json=body(method={"protocol": "LORA", "fPort": 3}, externalReference="o-1"),
        headers=auth("acme"),
    ).json()
    data = http.get(f"{UI}/downlinks/{created['id']}").json()
    assert data["owner"] == "acme"
    assert data["method"] == {"protocol": "LORA", "fPort": 3}
    assert data["instruction"][0] == {"bn": created["networkId"]}
    assert data["downlink"] == created
    assert data["progression"] == "happy-path"
    # default.yaml: EXECUTING after 1 s, SENT_TO_CARRIER 1 s later, DELIVERED 2 s after.
    assert [(m["earliest"], m["to"]) for m in data["upcoming"]] == [
        (format_ms(START_MS + 1000), "EXECUTING"),
        (format_ms(START_MS + 2000), "SENT_TO_CARRIER"),
        (format_ms(START_MS + 4000), "DELIVERED"),
    ]
    assert data["moves"] == ["CANCELLED", "EXECUTING", "FAILED"]
    assert data["cancel"] == {"plain": True, "forced": True}
    http.post("/__mock/clock", json={"advance": "PT1.5S"})
    later = http.get(f"{UI}/downlinks/{created['id']}").json()
    assert later["downlink"]["status"] == "EXECUTING"
    assert [m["to"] for m in later["upcoming"]] == ["SENT_TO_CARRIER", "DELIVERED"]
    assert later["cancel"] == {"plain": False, "forced": True}
    http.post(f"/__mock/downlinks/{created['id']}/transition", json={"status": "FAILED"})
    assert http.get(f"{UI}/downlinks/{created['id']}").json()["upcoming"] == []


@pytest.mark.rule("S4")
def test_random_delays_show_as_ranges_and_the_feedback_timeout_as_a_move():
    http = make(scenario="fleet")
    created = http.post(
        "/downlinks",
        json=body(method={"protocol": "LORA", "fPort": 3}, feedbackTimeout="PT10M"),
        headers=auth("acme"),
    ).json()
    moves = http.get(f"{UI}/downlinks/{created['id']}").json()["upcoming"]
    assert [m["to"] for m in moves] == ["EXECUTING", "SENT_TO_CARRIER", "DELIVERED"]
    assert moves[0]["earliest"] == moves[0]["latest"]  # drawn when it was scheduled
    assert moves[2]["earliest"] < moves[2]["latest"]  # a range of 1 to 15 minutes
    http.post("/__mock/clock", json={"advance": "PT16M"})
    # A 1..15 min wait, then SENT_TO_CARRIER: at most DELIVERED, or the timeout armed.
    data = http.get(f"{UI}/downlinks/{created['id']}").json()
    if data["downlink"]["status"] == "SENT_TO_CARRIER":
        assert any(m["timeout"] and m["errorCode"] == "FEEDBACK_TIMEOUT" for m in data["upcoming"])


def test_unknown_downlink_is_404(http):
    problem(http.get(f"{UI}/downlinks/nope"), 404)


@pytest.mark.rule("X1")
def test_token_cancels_as_the_owner_through_the_public_api(http):
    created = http.post("/downlinks", json=body(), headers=auth("acme")).json()
    minted = http.get(f"{UI}/token", params={"client": "acme"}).json()
    assert minted["client"] == "acme"
    assert http.get(f"{UI}/token", params={"client": "acme"}).headers["cache-control"] == (
        "no-store"
    )
    headers = {"Authorization": f"Bearer {minted['token']}"}
    # The token grants the delete scope only (least privilege, A2).
    problem(http.get(f"/downlinks/{created['id']}", headers=headers), 403)
    assert http.delete(f"/downlinks/{created['id']}", headers=headers).status_code == 202
    problem(http.delete(f"/downlinks/{created['id']}", headers=headers), 409)


def test_token_needs_a_client_and_cannot_be_signed_for_jwks(http, tmp_path):
    problem(http.get(f"{UI}/token"), 400)
    off = make(auth_mode=AuthMode.OFF)
    assert off.get(f"{UI}/token", params={"client": "x"}).json()["token"] is None
    hs = make(auth_mode=AuthMode.HS256, secret="a-shared-secret-of-32-bytes-at-least")
    token = hs.get(f"{UI}/token", params={"client": "acme"}).json()["token"]
    created = hs.post(
        "/downlinks",
        json=body(),
        headers=auth("acme", mode="hs256", secret="a-shared-secret-of-32-bytes-at-least"),
    )
    assert created.status_code == 201, created.text
    answer = hs.delete(
        f"/downlinks/{created.json()['id']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 202
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "k1"}]}))
    signed = make(auth_mode=AuthMode.JWKS, jwks_path=jwks)
    data = problem(signed.get(f"{UI}/token", params={"client": "acme"}), 409)
    assert "JWKS" in data["detail"]


def test_state_changes_with_the_store_clock_journal_and_faults(http):
    first = http.get(f"{UI}/state").json()
    assert first["mode"] == "manual" and first["stored"] == 0 and first["journal"] == 0
    http.post("/downlinks", json=body(), headers=auth())
    http.post("/__mock/faults", json={"path": "/nowhere", "status": 503})
    http.post("/__mock/clock", json={"advance": "PT1S"})
    second = http.get(f"{UI}/state").json()
    assert second["version"] > first["version"]
    assert second["stored"] == 1 and second["journal"] == 1
    assert second["faults"] == [["f1", 0]]
    assert second["now"] == format_ms(START_MS + 1000)


def test_public_spec_is_served_byte_for_byte(http):
    for path in ("/openapi.json", "/__mock/ui/openapi.json"):
        answer = http.get(path)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        assert answer.content == OPENAPI_PATH.read_bytes()
    assert json.loads(http.get("/openapi.json").content)["info"]["title"]


def test_page_and_static_files(http):
    page = http.get("/__mock/ui")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    scripts = ("core.js", "downlinks.js", "clock.js", "journal.js", "api.js", "main.js")
    for name in scripts:  # classic scripts in order: they share one global scope
        assert f'src="/__mock/ui/static/{name}" defer'.encode() in page.content
    assert [page.content.index(name.encode()) for name in scripts] == sorted(
        page.content.index(name.encode()) for name in scripts
    )
    for name, media in (*((n, "javascript") for n in scripts), ("app.css", "text/css")):
        answer = http.get(f"/__mock/ui/static/{name}")
        assert answer.status_code == 200 and media in answer.headers["content-type"]
    problem(http.get("/__mock/ui/static/nope.js"), 404)
    problem(http.get("/__mock/ui/static/..%2Froutes.py"), 404)
    # Revalidation: the same ETag is a 304 without a body.
    etag = page.headers["etag"]
    again = http.get("/__mock/ui", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""


def test_scenario_library_lists_builtins_and_library(http):
    names = [s["name"] for s in http.get(f"{UI}/scenarios").json()]
    assert {"default", "static", "fleet", "sms-delivered"} <= set(names)


def test_ui_requests_are_not_journaled(http):
    http.get(f"{UI}/state")
    http.get(f"{UI}/downlinks")
    http.get("/__mock/ui")
    assert http.get("/__mock/requests").json()["items"] == []


def test_a_page_over_many_clients_reads_about_a_page_not_a_page_each(http):
    """Each client's first batch is its share of the page, so 40 clients cost about one
    page of reads, not 40 (the page's requests cost no more than a client's)."""
    seed(http, {f"client-{c:02d}": 5 for c in range(40)})
    store = http.app.state.mock.store  # type: ignore[attr-defined]
    read: list[int] = []
    page_of = store.page

    def counting(owner: str, query: Any) -> Any:
        page = page_of(owner, query)
        read.append(len(page.items))
        return page

    store.page = counting
    items, _ = walk(http, limit="10")
    assert len(items) == 200
    read.clear()
    first = http.get(f"{UI}/downlinks", params={"limit": "10"}).json()
    assert len(first["items"]) == 10
    assert sum(read) <= 100  # 40 clients x 2, plus the few that fill the page
