"""The bound on records per create (C2, the mock's choice; the security issue's huge
creates): a pack of 35,000 records just under the body limit held the server for hundreds
of milliseconds in its per-record checks. These tests bound the work (records checked),
never the time."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server.domain import senml
from mock_server.domain.senml import MAX_RECORDS
from mock_server.openapi import create
from mock_server.openapi.spec import Spec, load_spec
from tests.mock_server.conftest import NID, body, problem


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec()


def _pack(records: int) -> list[dict[str, Any]]:
    return [{"bn": NID}] + [{"n": f"k{i}", "v": i} for i in range(records - 1)]


@pytest.mark.rule("C2")
def test_c2_a_pack_at_the_bound_is_taken(spec: Spec) -> None:
    request, errors = spec.validate_create(body(instruction=_pack(MAX_RECORDS)))
    assert errors == [] and request is not None
    assert request.parts == MAX_RECORDS - 1


@pytest.mark.rule("C2")
def test_c2_a_pack_past_the_bound_is_refused_naming_it_with_every_other_violation(
    spec: Spec, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[int] = []
    check_pack = senml.check_pack

    def counting(pack: list[Any], **kw: Any) -> senml.PackReport:
        checked.append(len(pack))
        return check_pack(pack, **kw)

    monkeypatch.setattr(create, "check_pack", counting)
    pack = _pack(35_000)
    pack[5] = {"n": "bad name!", "v": 1}  # within the bound: still reported (E2)
    pack[20_000] = {"n": "also bad!", "v": 1}  # past it: not looked at
    request, errors = spec.validate_create(
        body(instruction=pack, method={"protocol": "LORA", "fPort": 0})
    )
    assert request is None
    pointers = {e["pointer"]: e["detail"] for e in errors}
    assert f"at most {MAX_RECORDS}" in pointers["#/instruction"]
    assert "35000 records" in pointers["#/instruction"]
    assert "#/instruction/5/n" in pointers
    assert "#/method/fPort" in pointers
    assert not any(p.startswith("#/instruction/20000") for p in pointers)
    assert checked and max(checked) <= MAX_RECORDS


@pytest.mark.rule("C2")
def test_c2_a_create_past_the_bound_is_a_400_problem_and_stores_nothing(
    client: TestClient, mock: Any
) -> None:
    r = client.post("/downlinks", json=body(instruction=_pack(MAX_RECORDS + 1)))
    data = problem(r, 400)
    assert data["errors"][0]["pointer"] == "#/instruction"
    assert str(MAX_RECORDS) in data["errors"][0]["detail"]
    assert len(mock.store) == 0
