"""The real redis-server the Redis store's tests use (tests/support/redis_server.py)."""

from __future__ import annotations

import pytest
import redis

from tests.support.redis_server import RedisServer

pytest_plugins = ["pytester"]


def test_redis_url_is_a_running_empty_server(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.ping() is True
        assert client.dbsize() == 0  # emptied for this test
        client.set("downlinks-mock:probe", "1")
        assert client.get("downlinks-mock:probe") == b"1"
        # Nothing is persisted: no RDB snapshots, no append-only file.
        assert client.config_get("save")["save"] == ""
        assert client.config_get("appendonly")["appendonly"] == "no"
        assert client.config_get("bind")["bind"] == "127.0.0.1"
    finally:
        client.close()


def test_each_test_starts_empty(redis_url: str) -> None:
    # The test above left a key behind; this one sees none.
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.dbsize() == 0
    finally:
        client.close()


def test_restart_comes_back_on_the_same_port_empty(
    redis_server: RedisServer, redis_url: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        client.set("k", "v")
        port = redis_server.port
        redis_server.restart()
        assert redis_server.port == port and redis_server.url() == redis_url
        assert client.get("k") is None  # the client reconnects; the data is gone
    finally:
        client.close()


def test_down_makes_redis_unreachable_for_the_block(
    redis_server: RedisServer, redis_url: str
) -> None:
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
    try:
        with redis_server.down():
            assert not redis_server.running
            with pytest.raises(redis.ConnectionError):
                client.ping()
        assert redis_server.running and client.ping() is True
    finally:
        client.close()


_USES_REDIS = """
pytest_plugins = ["tests.support.redis_server"]

def test_needs_redis(redis_url):
    assert redis_url
"""


@pytest.mark.parametrize(("required", "outcome"), [("", "skipped"), ("1", "errors")])
def test_without_redis_server_a_test_skips_or_fails_when_required(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, required: str, outcome: str
) -> None:
    monkeypatch.setenv("PATH", str(pytester.path))  # no redis-server on it
    monkeypatch.setenv("DOWNLINKS_REQUIRE_REDIS", required)
    pytester.makepyfile(test_uses_redis=_USES_REDIS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(**{outcome: 1})
    result.stdout.fnmatch_lines(["*the Redis tests need redis-server: apt-get install*"])
