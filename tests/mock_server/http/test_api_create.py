"""POST /downlinks over HTTP: C1-C9, E2, E3, and no state change on any rejection."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.mock_server.conftest import NID, START, auth, body, problem

pytestmark = pytest.mark.both_stores

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _stored(client: TestClient, q: str = NID) -> list[dict[str, Any]]:
    r = client.get("/downlinks", params={"q": q})
    assert r.status_code == 200
    return r.json()["items"]


def test_c7_created_downlink_shape_and_location(client: TestClient) -> None:
    pack = [
        {"bn": NID},
        {"n": "temperature", "u": "Cel", "v": 23.1},
        {"n": "display", "vs": "ünï ✓"},
    ]
    r = client.post("/downlinks", json=body(instruction=pack, externalReference="ref-1"))
    assert r.status_code == 201, r.text
    dl = r.json()
    assert UUID.match(dl["id"])
    assert r.headers["location"] == f"/downlinks/{dl['id']}"
    assert dl["networkId"] == NID
    assert dl["externalReference"] == "ref-1"
    assert dl["status"] == "PENDING"
    assert dl["message"] == json.dumps(pack, separators=(",", ":"), ensure_ascii=False)
    assert dl["createdAt"] == dl["modifiedAt"] == START
    assert dl["logs"] == [{"createdAt": START, "event": "DOWNLINK_ACCEPTED"}]


def test_r2_read_after_create_equals_create_answer(client: TestClient) -> None:
    created = client.post("/downlinks", json=body()).json()
    assert client.get(f"/downlinks/{created['id']}").json() == created


def test_c9_read_only_fields_are_ignored(client: TestClient) -> None:
    r = client.post(
        "/downlinks",
        json=body(id="x", status="DELIVERED", createdAt="2000-01-01T00:00:00.000Z", logs=[]),
    )
    assert r.status_code == 201
    dl = r.json()
    assert dl["id"] != "x" and dl["status"] == "PENDING" and dl["createdAt"] == START


@pytest.mark.parametrize(
    ("field", "value", "pointer"),
    [
        ("retryLimit", -1, "#/retryLimit"),  # C1 minimum 0
        ("retryLimit", "3", "#/retryLimit"),
        ("retryLimit", 1.5, "#/retryLimit"),
        ("dryRun", "yes", "#/dryRun"),
        ("feedbackTimeout", "PT9M59S", "#/feedbackTimeout"),  # C4
        ("feedbackTimeout", "P1D", "#/feedbackTimeout"),  # C4: needs a T
        ("method", {"protocol": "CARRIER_PIGEON"}, "#/method/protocol"),  # C1 discriminator
        ("method", {"protocol": "LORA", "fPort": 0}, "#/method/fPort"),  # C5
        ("method", {"protocol": "LORA", "fPort": 224}, "#/method/fPort"),
        ("method", {}, "#/method/protocol"),
        ("instruction", [], "#/instruction"),  # C2 empty pack
        ("instruction", [{"n": "x", "v": 1}], "#/instruction"),  # C2 no bn
        ("externalReference", 12, "#/externalReference"),
    ],
)
def test_c1_c5_invalid_create_is_400_with_pointer_and_stores_nothing(
    client: TestClient, field: str, value: Any, pointer: str
) -> None:
    data = problem(client.post("/downlinks", json=body(**{field: value})), 400)
    assert any(e["pointer"].startswith(pointer) for e in data["errors"]), data["errors"]
    assert _stored(client) == []


def test_c1_unknown_protocol_names_the_four(client: TestClient) -> None:
    data = problem(client.post("/downlinks", json=body(method={"protocol": "X"})), 400)
    detail = " ".join(e["detail"] for e in data["errors"])
    for name in ("HTTP", "LORA", "MQTT", "SMS"):
        assert name in detail


@pytest.mark.parametrize("protocol", ["HTTP", "LORA", "MQTT", "SMS"])
def test_c1_every_protocol_is_accepted(client: TestClient, protocol: str) -> None:
    assert client.post("/downlinks", json=body(method={"protocol": protocol})).status_code == 201


@pytest.mark.parametrize("timeout", ["PT10M", "PT600S", "P1DT", "PT25H"])
def test_c4_feedback_timeout_at_least_ten_minutes(client: TestClient, timeout: str) -> None:
    assert client.post("/downlinks", json=body(feedbackTimeout=timeout)).status_code == 201


@pytest.mark.parametrize("port", [1, 223])
def test_c5_lora_fport_bounds(client: TestClient, port: int) -> None:
    r = client.post("/downlinks", json=body(method={"protocol": "LORA", "fPort": port}))
    assert r.status_code == 201


def test_e2_every_violation_is_reported(client: TestClient) -> None:
    data = problem(
        client.post(
            "/downlinks",
            json={
                "instruction": [{"n": "x"}],
                "method": {"protocol": "LORA", "fPort": 0},
                "retryLimit": -1,
            },
        ),
        400,
    )
    pointers = {e["pointer"] for e in data["errors"]}
    assert {"#/retryLimit", "#/method/fPort"} <= pointers
    assert len(data["errors"]) >= 3


def test_c2_two_devices_in_one_pack_is_400(client: TestClient) -> None:
    pack = [{"bn": NID, "n": "a", "v": 1}, {"bn": "urn:dev:DEVEUI:ffff:", "n": "b", "v": 2}]
    problem(client.post("/downlinks", json=body(instruction=pack)), 400)


def test_c3_senml_name_charset(client: TestClient) -> None:
    pack = [{"bn": NID}, {"n": "bad name!", "v": 1}]
    problem(client.post("/downlinks", json=body(instruction=pack)), 400)


def test_c6_external_reference_conflict_is_409_and_other_client_may_reuse(
    client: TestClient,
) -> None:
    assert client.post("/downlinks", json=body(externalReference="r")).status_code == 201
    problem(client.post("/downlinks", json=body(externalReference="r")), 409)
    r = client.post("/downlinks", json=body(externalReference="r"), headers=auth("client-b"))
    assert r.status_code == 201
    assert len(_stored(client)) == 1


def test_c6_concurrent_creates_have_one_winner(app: Any) -> None:
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        with TestClient(app) as c:
            barrier.wait()
            statuses.append(
                c.post(
                    "/downlinks", json=body(externalReference="once"), headers=auth()
                ).status_code
            )

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] + [409] * 7


def test_c8_dry_run_stores_nothing_and_takes_no_slot(client: TestClient) -> None:
    r = client.post("/downlinks", json=body(dryRun=True, externalReference="dry"))
    assert r.status_code == 201
    assert "location" not in r.headers
    assert r.json()["status"] == "PENDING"
    problem(client.get(f"/downlinks/{r.json()['id']}"), 404)
    assert _stored(client) == []
    assert client.post("/downlinks", json=body(externalReference="dry")).status_code == 201
    # a taken reference is 409 in a dry run too
    problem(client.post("/downlinks", json=body(dryRun=True, externalReference="dry")), 409)


@pytest.mark.parametrize(
    ("content", "ctype", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"", "application/json", 400),
        (b'{"a": NaN}', "application/json", 400),
        (b"\xff\xfe\x00", "application/json", 400),
        (b"[" * 100_000, "application/json", 400),
        (b"{}", "text/plain", 415),
        (b"{}", "", 415),
        (b"instruction=x", "application/x-www-form-urlencoded", 415),
    ],
)
def test_e3_malformed_bodies(client: TestClient, content: bytes, ctype: str, status: int) -> None:
    headers = {"content-type": ctype} if ctype else {}
    r = client.post("/downlinks", content=content, headers=headers)
    problem(r, status)
    assert _stored(client, "urn") == []


def test_e3_oversized_body_is_413(client: TestClient) -> None:
    big = body(externalReference="x" * (1024 * 1024))
    problem(client.post("/downlinks", json=big), 413)
    assert _stored(client) == []


def test_huge_and_negative_numbers_are_judged_not_crashed(client: TestClient) -> None:
    assert client.post("/downlinks", json=body(retryLimit=10**30)).status_code == 201
    problem(
        client.post("/downlinks", json=body(method={"protocol": "LORA", "fPort": -(10**30)})), 400
    )
    content = (
        b'{"instruction":[{"bn":"urn:dev:x:"}],"method":{"protocol":"SMS"},"retryLimit":1'
        + b"0" * 5000
        + b"}"
    )
    problem(
        client.post("/downlinks", content=content, headers={"content-type": "application/json"}),
        400,
    )


def test_e1_body_not_an_object(client: TestClient) -> None:
    data = problem(client.post("/downlinks", json=[1, 2]), 400)
    assert data["errors"][0]["pointer"] == "#"
    assert data["instance"] == "/downlinks"


@pytest.mark.rule("C7")
def test_c7_long_numbers_reach_the_message_exactly(client: TestClient) -> None:
    # Read by the standard parser (orjson would turn the integer into a float).
    content = (
        b'{"instruction":[{"bn":"' + NID.encode() + b'"},{"n":"c","v":12345678901234567890123}],'
        b'"method":{"protocol":"SMS"}}'
    )
    r = client.post("/downlinks", content=content, headers={"content-type": "application/json"})
    assert r.status_code == 201, r.text
    assert '"v":12345678901234567890123' in r.json()["message"]


@pytest.mark.rule("E2")
def test_e2_a_number_past_the_float_range_is_reported(client: TestClient) -> None:
    content = (
        b'{"instruction":[{"bn":"' + NID.encode() + b'"},{"n":"c","v":1e400}],'
        b'"method":{"protocol":"SMS"}}'
    )
    r = client.post("/downlinks", content=content, headers={"content-type": "application/json"})
    found = problem(r, 400)
    assert any("Infinity is not a JSON number" in e["detail"] for e in found["errors"])
