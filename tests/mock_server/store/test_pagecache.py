"""Rendered pages are reused only while the store is unchanged (L1-L6 stay exact)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.config import ClockMode, MockConfig
from mock_server.store.pagecache import PageCache
from tests.mock_server.conftest import START_MS, auth, body


def test_repeated_page_is_served_until_the_store_changes(client: TestClient, mock: Any) -> None:
    client.post("/downlinks", json=body())
    first = client.get("/downlinks", params={"limit": 5})
    calls = []
    real_page = mock.store.page_steps
    mock.store.page_steps = lambda *a, **k: calls.append(1) or real_page(*a, **k)
    assert client.get("/downlinks", params={"limit": 5}).content == first.content
    assert calls == []  # served from the cache
    client.post("/downlinks", json=body(externalReference="x"))
    assert len(client.get("/downlinks", params={"limit": 5}).json()["items"]) == 2
    assert calls == [1]


def test_cache_is_per_client_and_per_origin(client: TestClient) -> None:
    client.post("/downlinks", json=body())
    assert len(client.get("/downlinks").json()["items"]) == 1
    assert client.get("/downlinks", headers=auth("client-b")).json() == {"items": []}
    for i in range(3):
        client.post("/downlinks", json=body(externalReference=f"r{i}"))
    a = client.get("/downlinks", params={"limit": 1}, headers={"host": "a.localhost"}).json()
    b = client.get("/downlinks", params={"limit": 1}, headers={"host": "b.localhost"}).json()
    assert a["next"].startswith("http://a.localhost/") and b["next"].startswith(
        "http://b.localhost/"
    )


def test_a_due_move_invalidates_cached_pages() -> None:
    app = create_app(
        MockConfig(clock_mode=ClockMode.MANUAL, clock_start=START_MS)
    )  # default scenario
    with TestClient(app) as c:
        c.headers.update(auth())
        c.post("/downlinks", json=body())
        assert c.get("/downlinks").json()["items"][0]["status"] == "PENDING"
        c.post("/__mock/clock", json={"advance": "PT1M"})
        assert c.get("/downlinks").json()["items"][0]["status"] == "DELIVERED"


def test_invalid_requests_are_never_cached(client: TestClient) -> None:
    assert client.get("/downlinks", params={"limit": 0}).status_code == 400
    assert client.get("/downlinks", params={"limit": 0}).status_code == 400


def test_page_cache_bounds_and_versions() -> None:
    cache = PageCache(size=2)
    cache.put(1, "a", b"", "o", b"A")
    cache.put(1, "b", b"", "o", b"B")
    cache.put(1, "c", b"", "o", b"C")
    assert cache.get(1, "a", b"", "o") is None and cache.get(1, "c", b"", "o") == b"C"
    assert cache.get(2, "c", b"", "o") is None
    cache.put(2, "d", b"", "o", b"D")
    assert cache.get(2, "b", b"", "o") is None


def test_page_cache_is_bounded_by_bytes() -> None:
    cache = PageCache(size=1000, max_bytes=10_000)
    for i in range(50):
        cache.put(1, "a", f"q={i}".encode(), "o", b"x" * 1000)
        assert cache.bytes <= 10_000
    assert 0 < len(cache) < 10
    assert cache.get(1, "a", b"q=49", "o") == b"x" * 1000  # the newest stay
    assert cache.get(1, "a", b"q=0", "o") is None
    cache.put(1, "a", b"big", "o", b"x" * 20_000)  # alone over the budget: not kept
    assert cache.get(1, "a", b"big", "o") is None and cache.bytes <= 10_000


def test_host_names_do_not_multiply_cached_pages(client: TestClient, mock: Any) -> None:
    """60 requests that differ only in `Host` keep one page, not 60 (security issue)."""
    for i in range(3):
        client.post("/downlinks", json=body(externalReference=f"r{i}"))
    for i in range(60):
        r = client.get("/downlinks", params={"limit": 1}, headers={"host": f"h{i}.localhost"})
        assert r.json()["next"].startswith(f"http://h{i}.localhost/")
    assert len(mock.pages) == 1
    # The page kept is the last origin's; another origin renders its own links again.
    r = client.get("/downlinks", params={"limit": 1}, headers={"host": "h0.localhost"})
    assert r.json()["next"].startswith("http://h0.localhost/")


def test_page_cache_byte_budget_is_configurable() -> None:
    app = create_app(
        MockConfig(clock_mode=ClockMode.MANUAL, clock_start=START_MS, page_cache_bytes=2_000)
    )
    with TestClient(app) as c:
        c.headers.update(auth())
        for i in range(5):
            c.post("/downlinks", json=body(externalReference=f"r{i}"))
        for limit in range(1, 6):
            assert len(c.get("/downlinks", params={"limit": limit}).json()["items"]) == limit
        pages = app.state.mock.pages
        assert pages.max_bytes == 2_000 and pages.bytes <= 2_000 and len(pages) < 5
