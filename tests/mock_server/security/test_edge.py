"""The public edge keeps only what it can serve, and bounds what callers can make it hold
(the security issue): tokens with unencodable claims, bodies that are not UTF-8 JSON, odd
media types, trailing slashes, and the token cache's byte budget."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server.http import auth as auth_module
from tests.mock_server.conftest import NID, auth, body, problem


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _raw_token(payload: str) -> str:
    """An unsigned JWT whose payload is `payload` as written (JSON escapes kept)."""
    header = _b64(b'{"alg":"none","typ":"JWT"}')
    return f"{header}.{_b64(payload.encode())}."


@pytest.mark.rule("A1")
@pytest.mark.parametrize(
    "payload",
    [
        '{"client_id":"a\\ud800","scope":"downlink.read"}',
        '{"sub":"\\udfff","scope":"downlink.read"}',
        '{"client_id":"a","scope":"downlink.read \\ud800"}',
        '{"client_id":"a","scp":["downlink.read","\\ud800"]}',
    ],
)
def test_a1_a_token_with_a_lone_surrogate_claim_is_a_401(client: TestClient, payload: str) -> None:
    r = client.get("/downlinks", headers={"Authorization": f"Bearer {_raw_token(payload)}"})
    data = problem(r, 401)
    assert "surrogate" in data["detail"]
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


@pytest.mark.rule("M7")
def test_m7_a_refused_token_with_a_lone_surrogate_leaves_the_journal_readable(
    client: TestClient,
) -> None:
    payload = '{"client_id":"a\\ud800","scope":"downlink.read"}'
    client.get("/downlinks", headers={"Authorization": f"Bearer {_raw_token(payload)}"})
    journal = client.get("/__mock/requests")
    assert journal.status_code == 200, journal.text


@pytest.mark.rule("E3")
@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-16", b""), ("utf-16-le", b""), ("utf-32", b""), ("utf-8", b"\xef\xbb\xbf")],
)
def test_e3_a_body_that_is_not_plain_utf8_is_a_400(
    client: TestClient, mock: Any, encoding: str, bom: bytes
) -> None:
    raw = bom + json.dumps(body()).encode(encoding)
    r = client.post("/downlinks", content=raw, headers={"content-type": "application/json"})
    assert problem(r, 400)["errors"][0]["pointer"] == "#"
    assert len(mock.store) == 0


@pytest.mark.rule("E3")
@pytest.mark.parametrize(
    ("text", "pointer"),
    [
        ('"externalReference":"ref-\\ud800"', "#/externalReference"),
        ('"externalReference":"ok","x\\udc00":1', "#/x%5CuDC00"),
    ],
)
def test_e3_a_lone_surrogate_in_a_body_is_a_400_and_stores_nothing(
    client: TestClient, mock: Any, text: str, pointer: str
) -> None:
    raw = json.dumps(body())[:-1] + "," + text + "}"
    r = client.post("/downlinks", content=raw, headers={"content-type": "application/json"})
    data = problem(r, 400)
    assert "surrogate" in data["errors"][0]["detail"]
    assert data["errors"][0]["pointer"].startswith("#/")
    assert len(mock.store) == 0
    assert client.get("/__mock/requests").status_code == 200


@pytest.mark.rule("E3")
def test_e3_an_escaped_backslash_before_u_is_no_surrogate(client: TestClient) -> None:
    raw = json.dumps(body(externalReference="a\\ud800"))  # the text \ud800, escaped
    r = client.post("/downlinks", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 201, r.text
    assert r.json()["externalReference"] == "a\\ud800"


@pytest.mark.rule("E3")
@pytest.mark.parametrize("ctype", ["application/+json", "application/json+json", "text/json"])
def test_e3_a_media_type_that_only_looks_like_json_is_a_415(client: TestClient, ctype: str) -> None:
    r = client.post("/downlinks", content=json.dumps(body()), headers={"content-type": ctype})
    if ctype == "application/json+json":  # a real (if odd) +json subtype
        assert r.status_code == 201, r.text
    else:
        problem(r, 415)


@pytest.mark.rule("E3")
def test_e3_a_json_suffix_type_is_json(client: TestClient) -> None:
    r = client.post(
        "/downlinks",
        content=json.dumps(body()),
        headers={"content-type": "application/merge-patch+json; charset=utf-8"},
    )
    assert r.status_code == 201, r.text


@pytest.mark.rule("E3")
@pytest.mark.parametrize("path", ["/downlinks/", "/downlinks/abc/", "/__mock/requests/"])
def test_e3_a_trailing_slash_is_a_404_problem_not_a_redirect(client: TestClient, path: str) -> None:
    r = client.get(path, follow_redirects=False)
    problem(r, 404)
    assert "location" not in r.headers


@pytest.mark.rule("A4")
def test_a4_the_token_cache_is_bounded_by_bytes(
    client: TestClient, mock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    authenticator = mock.auth
    monkeypatch.setattr(authenticator, "_cache_budget", 20_000)
    for i in range(100):
        r = client.get("/downlinks", headers=auth(f"client-{i}-" + "x" * 200))
        assert r.status_code == 200
        assert authenticator.cached_bytes <= 20_000
    assert 0 < len(authenticator._cache) < 100


@pytest.mark.rule("A4")
def test_a4_an_oversized_token_is_verified_but_never_cached(client: TestClient, mock: Any) -> None:
    big = "c" * (auth_module.MAX_CACHED_TOKEN + 1)
    headers = auth(big)
    before = dict(mock.auth._cache)
    r = client.post("/downlinks", json=body(NID), headers=headers)
    assert r.status_code == 201
    assert client.get(f"/downlinks/{r.json()['id']}", headers=headers).status_code == 200
    assert headers["Authorization"] not in mock.auth._cache
    assert mock.auth._cache.keys() >= before.keys()


@pytest.mark.rule("E3")
@pytest.mark.parametrize("depth", [65, 300, 900])
@pytest.mark.parametrize("path", ["/downlinks", "/__mock/downlinks"])
def test_e3_a_body_nested_past_the_bound_is_a_400_anywhere(
    client: TestClient, depth: int, path: str
) -> None:
    from mock_server.http.api import MAX_DEPTH

    assert depth > MAX_DEPTH
    deep = "[" * depth + "]" * depth
    body = f'{{"instruction": {deep}, "method": {{"protocol": "SMS"}}}}'
    if path.startswith("/__mock"):
        body = f'[{{"networkId": "urn:dev:DEVEUI:01:", "method": {deep}}}]'
    answer = client.post(path, content=body, headers={"content-type": "application/json"})
    data = problem(answer, 400)
    assert "nested too deeply" in data["errors"][0]["detail"]
    assert client.get("/__mock/requests").status_code == 200
