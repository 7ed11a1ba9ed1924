"""The shared journal's entries in Redis (store/redis/journal.py): bodies kept as they
are, seqs from their places, and an entry that cannot be read left out of a read."""

from __future__ import annotations

import httpx
import pytest
import redis

from mock_server.server import MockServer
from mock_server.store.redis.journal import decode_entry, encode_entry
from tests.mock_server.conftest import auth
from tests.mock_server.store.redis.conftest import shared_config


def test_an_entry_keeps_its_bytes_as_they_were() -> None:
    fields = (
        "POST",
        "/downlinks",
        b"a=\xff",
        [(b"content-type", b"application/json"), (b"x-odd", b"\xe9t\xe9")],
        [b'{"n": "\xff', b'\x00"}'],
        9,
        400,
        [(b"content-type", b"application/problem+json")],
        [b'{"detail": "\\u00e9"}'],
        20,
        1_736_503_200_000,
        1234,
        None,
        None,
        None,
        False,
        True,
        8192,
        321,
    )
    seq, *decoded = decode_entry(encode_entry(fields), 7)
    assert seq == 7
    assert decoded[:4] == list(fields[:4])
    assert b"".join(decoded[4]) == b"".join(fields[4])  # one chunk, the same bytes
    assert decoded[5:8] == list(fields[5:8])
    assert b"".join(decoded[8]) == b"".join(fields[8])
    assert decoded[9:] == list(fields[9:])
    for bad in (b"", b"x|[]", b"5|[1,2]", b"2|[]extra", encode_entry(fields)[:-1]):
        with pytest.raises((ValueError, TypeError, IndexError)):
            decode_entry(bad, 1)


@pytest.mark.rule("M7")
def test_a_bad_body_is_journaled_as_sent_and_a_foreign_entry_left_out(redis_url: str) -> None:
    config = shared_config(redis_url, store_prefix="journal-entries")
    with MockServer(config) as one, MockServer(config) as two:
        with httpx.Client(headers={**auth(), "content-type": "application/json"}) as client:
            sent = b'{"instruction": "\xff\xfe"}'
            assert client.post(f"{one.base_url}/downlinks", content=sent).status_code == 400
            # An entry of another kind (another version, a hand's RPUSH), counted.
            server = redis.Redis.from_url(redis_url)
            server.rpush("journal-entries:journal", b"12|not json")
            server.incr("journal-entries:journal-seq")
            client.get(f"{one.base_url}/downlinks")
            read = client.get(f"{two.base_url}/__mock/requests")
            assert read.status_code == 200
            items = read.json()["items"]
            assert [item["method"] for item in items] == ["POST", "GET"]
            assert [item["seq"] for item in items] == [1, 3]  # the foreign one was 2
            local = client.get(f"{one.base_url}/__mock/requests").json()["items"]
            assert local[0]["request"] == items[0]["request"]
