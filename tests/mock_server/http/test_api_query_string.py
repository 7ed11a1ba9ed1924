"""The list and create handlers read the query string as Starlette's `QueryParams` does
(E2, X5): the same pairs, in order, blanks kept, `+` and `%XX` decoded."""

from __future__ import annotations

import random

import pytest
from starlette.datastructures import QueryParams
from starlette.requests import Request

from mock_server.app import create_app
from mock_server.config import MockConfig
from mock_server.http.api import _params

# Pieces that exercise the decoding: separators, `+`, escapes (valid, broken, UTF-8 and
# not), and text that is already plain.
_PIECES = ["q", "=", "&", "+", "%2B", "%26", "%3D", "%c3%a9", "%e9", "%", "%4", "a", " ", "é", "~"]


def _request(query: bytes) -> Request:
    scope = {"type": "http", "method": "GET", "path": "/downlinks", "query_string": query}
    return Request(scope)


@pytest.mark.rule("E2")
def test_e2_query_pairs_are_what_query_params_gives():
    mock = create_app(MockConfig()).state.mock
    rng = random.Random(7)
    samples = [b"", b"q=a+b", b"q=%c3%a9t%c3%a9&limit=5", b"&&q=&", b"q", b"q=1&q=2"]
    samples += [
        "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 12))).encode("utf-8")
        for _ in range(3000)
    ]
    for query in samples:
        expected = QueryParams(query).multi_items()
        _, raw, errors = _params(_request(query), mock, "searchDownlinks", report=False)
        assert raw == dict(expected), query
        # What the spec check reports is built from the same pairs: a repeat is named.
        if len(dict(expected)) != len(expected):
            assert any("more than once" in e["detail"] for e in errors), query
