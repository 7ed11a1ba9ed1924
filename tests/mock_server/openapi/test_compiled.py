"""The compiled create-body check agrees with the detailed validator: it never accepts what
the detailed one refuses, and accepts what it accepts (C1-C5's schema part, E2)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.openapi.compiled import CompiledCheck, compiled_schema
from mock_server.openapi.create import CreateReader
from mock_server.openapi.spec import load_spec

SPEC = load_spec()
READER = CreateReader(SPEC)
VALID: dict[str, Any] = {
    "instruction": [{"bn": "urn:dev:DEVEUI:0004a30b001c0530:"}, {"n": "setpoint", "v": 21.5}],
    "method": {"protocol": "LORA", "fPort": 3},
    "retryLimit": 2,
    "feedbackTimeout": "PT25H",
    "externalReference": "order-1",
    "dryRun": False,
}

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "LORA", "MQTT", "HTTP", "SMS", "PT10M", "P1D", "x", "\u00e9"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)
_paths = st.sampled_from(
    [
        ("instruction",),
        ("instruction", 0),
        ("instruction", 1),
        ("instruction", 1, "v"),
        ("instruction", 1, "n"),
        ("instruction", 0, "bn"),
        ("method",),
        ("method", "protocol"),
        ("method", "fPort"),
        ("method", "topic"),
        ("method", "contentType"),
        ("retryLimit",),
        ("feedbackTimeout",),
        ("externalReference",),
        ("dryRun",),
        ("extra",),
    ]
)


def _detailed_valid(body: object) -> bool:
    return not list(READER._create.iter_errors(body))


def _put(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    node: Any = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_paths, _json, st.sampled_from(["LORA", "MQTT", "HTTP", "SMS", "CARRIER"]))
def test_the_compiled_check_agrees_with_the_detailed_validator(
    path: tuple[Any, ...], value: Any, protocol: str
) -> None:
    body = _put(_put(VALID, ("method", "protocol"), protocol), path, value)
    assert READER._compiled.valid(body) == _detailed_valid(body), body


@pytest.mark.rule("C1")
@pytest.mark.parametrize(
    "method",
    [
        {"protocol": "LORA", "fPort": 3},
        {"protocol": "MQTT", "topic": "t", "contentType": "text/plain"},
        {"protocol": "HTTP"},
        {"protocol": "SMS"},
    ],
)
def test_each_discriminated_variant_passes_the_compiled_check(method: dict[str, Any]) -> None:
    assert READER._compiled.valid({**VALID, "method": method})


@pytest.mark.rule("C1")
@pytest.mark.parametrize(
    "method",
    [
        {"protocol": "CARRIER_PIGEON"},
        {"fPort": 3},
        {"protocol": "LORA", "fPort": "3"},
        {"protocol": "MQTT", "topic": 7},
    ],
)
def test_a_wrong_variant_goes_to_the_detailed_validator(method: dict[str, Any]) -> None:
    body = {**VALID, "method": method}
    assert not READER._compiled.valid(body)
    new, errors = READER.read(body)
    assert new is None and any(e["pointer"].startswith("#/method") for e in errors)


def test_values_past_the_compiled_validator_fall_back_rather_than_fail() -> None:
    assert not READER._compiled.valid({**VALID, "retryLimit": 2**80}) or _detailed_valid(
        {**VALID, "retryLimit": 2**80}
    )
    assert CompiledCheck({"type": "object"}).valid({"a": 1})


def test_names_that_look_like_keywords_are_kept() -> None:
    document = {
        "components": {
            "schemas": {
                "P": {
                    "type": "object",
                    "properties": {"title": {"type": "string"}, "format": {"type": "integer"}},
                }
            }
        }
    }
    check = CompiledCheck(compiled_schema(document, "#/components/schemas/P"))
    assert check.valid({"title": "t", "format": 1})
    assert not check.valid({"title": 1})
    assert not check.valid({"format": "x"})
