"""Quick start: the `downlinks_mock` fixture gives every test a clean mock.

Install the package and the fixtures are there (the `downlinks_mock` pytest plugin); no
conftest needed. Each test starts from an empty mock on a manual clock at
2025-01-01T00:00:00.000Z.
"""

from __future__ import annotations

DEVICE = "urn:dev:DEVEUI:0004A30B001C0530:"


def create_body(ref: str | None = None) -> dict:
    body = {
        "instruction": [{"bn": DEVICE, "n": "setpoint", "u": "Cel", "v": 21.5}],
        "method": {"protocol": "SMS"},
    }
    if ref is not None:
        body["externalReference"] = ref
    return body


def test_create_then_read(downlinks_mock):
    """C7, R1: `client` is an httpx.Client with a token for demo-client."""
    created = downlinks_mock.client.post("/downlinks", json=create_body("order-42"))
    assert created.status_code == 201
    downlink = created.json()
    assert downlink["status"] == "PENDING"
    assert downlink["createdAt"] == "2025-01-01T00:00:00.000Z"  # the manual clock

    read = downlinks_mock.client.get(created.headers["location"])
    assert read.json() == downlink


def test_each_test_starts_empty(downlinks_mock):
    """M2 runs before each test: nothing from the test above is left."""
    assert downlinks_mock.client.get("/downlinks").json() == {"items": []}


def test_tokens_for_other_clients(downlinks_mock):
    """A5: `client_for` and `token` make callers of other tenants, or with fewer scopes."""
    mine = downlinks_mock.client.post("/downlinks", json=create_body()).json()
    other = downlinks_mock.client_for("another-client")
    assert other.get(f"/downlinks/{mine['id']}").status_code == 404

    reader = downlinks_mock.client_for(scopes=["downlink.read"])
    assert reader.post("/downlinks", json=create_body()).status_code == 403


def test_your_own_http_client(downlinks_mock):
    """Point any client at `base_url` with a `token()`."""
    import httpx

    headers = {"Authorization": f"Bearer {downlinks_mock.token()}"}
    with httpx.Client(base_url=downlinks_mock.base_url, headers=headers) as http:
        assert http.get("/downlinks").status_code == 200


def test_in_process_variant(downlinks_mock_app):
    """`downlinks_mock_app` is the same handle without a socket (Starlette's TestClient)."""
    created = downlinks_mock_app.client.post("/downlinks", json=create_body())
    assert created.status_code == 201
    assert downlinks_mock_app.base_url == "http://testserver"
