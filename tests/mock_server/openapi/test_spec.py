"""Request validation from openapi.json: create bodies (C1-C5, C9, E2) and query
parameters (L1, L3, X5)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from starlette.datastructures import QueryParams

from mock_server import config
from mock_server.domain.model import NewDownlink
from mock_server.openapi.spec import Spec, json_pointer, load_spec

DEVICE = "urn:dev:ow:10e2073a01080063:"
PACK = [
    {"bn": DEVICE},
    {"n": "temperature", "u": "Cel", "v": 23.1},
    {"n": "heating", "u": "/", "v": 1},
    {"n": "fan", "u": "/", "v": 0},
]


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec()


def body(**fields: Any) -> dict[str, Any]:
    """A valid create body, with `fields` replacing or adding members."""
    out: dict[str, Any] = {"instruction": copy.deepcopy(PACK), "method": {"protocol": "HTTP"}}
    out.update(fields)
    return out


def accept(spec: Spec, value: object) -> NewDownlink:
    request, violations = spec.validate_create(value)
    assert violations == []
    assert request is not None
    return request


def refuse(spec: Spec, value: object) -> dict[str, str]:
    """The violations of a refused body, as pointer -> detail."""
    request, violations = spec.validate_create(value)
    assert request is None
    assert violations, "a refused body must come with violations"
    pointers = [v["pointer"] for v in violations]
    assert len(pointers) == len(set(pointers)), f"one violation per place: {violations}"
    return {v["pointer"]: v["detail"] for v in violations}


# -- C1: the request schema


def test_c1_c7_valid_request_is_normalized(spec: Spec) -> None:
    request = accept(spec, body(externalReference="ref-1"))
    assert request.network_id == DEVICE
    assert request.instruction == PACK
    assert request.message == json.dumps(PACK, separators=(",", ":"))
    assert request.method == {"protocol": "HTTP"}
    assert request.external_reference == "ref-1"
    assert request.retry_limit == 0
    assert request.feedback_timeout_ms is None
    assert request.dry_run is False
    assert request.parts == 3


def test_c7_message_is_compact_json_keeping_non_ascii(spec: Spec) -> None:
    pack = [{"bn": DEVICE, "n": "label", "vs": "café ☕"}]
    request = accept(spec, body(instruction=pack))
    assert request.message == '[{"bn":"urn:dev:ow:10e2073a01080063:","n":"label","vs":"café ☕"}]'
    assert json.loads(request.message) == pack


def test_c1_missing_instruction_and_method_both_reported(spec: Spec) -> None:
    errors = refuse(spec, {})
    assert set(errors) == {"#/instruction", "#/method"}
    assert all("required" in detail for detail in errors.values())


@pytest.mark.parametrize("value", [[], "text", None, 5, 1.5, True, [{"instruction": []}]])
def test_c1_body_not_an_object_is_one_violation_at_root(spec: Spec, value: object) -> None:
    request, violations = spec.validate_create(value)
    assert request is None
    assert len(violations) == 1
    assert violations[0]["pointer"] == "#"
    assert "object" in violations[0]["detail"]


@pytest.mark.parametrize("value", [0, 1, 3, 10**30, 2.0])
def test_c1_retry_limit_accepted(spec: Spec, value: object) -> None:
    request = accept(spec, body(retryLimit=value))
    assert request.retry_limit == int(value)  # type: ignore[call-overload]
    assert type(request.retry_limit) is int


@pytest.mark.parametrize("value", [-1, -(10**30), 1.5, True, False, "1", None, [1]])
def test_c1_retry_limit_refused(spec: Spec, value: object) -> None:
    errors = refuse(spec, body(retryLimit=value))
    assert list(errors) == ["#/retryLimit"]


def test_c1_retry_limit_negative_detail_names_the_minimum(spec: Spec) -> None:
    assert refuse(spec, body(retryLimit=-1))["#/retryLimit"] == "-1 is less than the minimum of 0"


@pytest.mark.parametrize("value", [True, False])
def test_c1_dry_run_accepted(spec: Spec, value: bool) -> None:
    assert accept(spec, body(dryRun=value)).dry_run is value


@pytest.mark.parametrize("value", ["true", 1, 0, None])
def test_c1_dry_run_must_be_boolean(spec: Spec, value: object) -> None:
    assert list(refuse(spec, body(dryRun=value))) == ["#/dryRun"]


def test_c1_external_reference_must_be_a_string(spec: Spec) -> None:
    assert list(refuse(spec, body(externalReference=5))) == ["#/externalReference"]


def test_c1_instruction_must_be_an_array_of_objects(spec: Spec) -> None:
    assert list(refuse(spec, body(instruction={"bn": DEVICE}))) == ["#/instruction"]
    errors = refuse(spec, body(instruction=[{"bn": DEVICE}, 5]))
    assert list(errors) == ["#/instruction/1"]
    assert "object" in errors["#/instruction/1"]


def test_c1_senml_field_types_come_from_the_record_schema(spec: Spec) -> None:
    pack = [{"bn": DEVICE}, {"n": "a", "v": "hot"}, {"n": "b", "vb": "yes"}]
    errors = refuse(spec, body(instruction=pack))
    assert set(errors) == {"#/instruction/1/v", "#/instruction/2/vb"}
    assert errors["#/instruction/1/v"] == "'hot' is not of type 'number'"


def test_c1_long_values_are_shortened_in_details(spec: Spec) -> None:
    detail = refuse(spec, body(externalReference=["x" * 100_000]))["#/externalReference"]
    assert len(detail) < 200


# -- C1: the method discriminator


@pytest.mark.parametrize("protocol", ["HTTP", "LORA", "MQTT", "SMS"])
def test_c1_each_protocol_is_accepted(spec: Spec, protocol: str) -> None:
    request = accept(spec, body(method={"protocol": protocol}))
    assert request.method["protocol"] == protocol


def test_c1_plain_one_of_would_refuse_a_valid_method(spec: Spec) -> None:
    """Why the discriminator matters: every variant matches, so plain oneOf fails."""
    registry = Registry().with_resource("urn:doc", DRAFT202012.create_resource(spec.document))
    plain = Draft202012Validator(
        {"$ref": "urn:doc#/components/schemas/CreateDownlinkRequest"}, registry=registry
    )
    assert not plain.is_valid(body(method={"protocol": "LORA", "fPort": 3}))
    accept(spec, body(method={"protocol": "LORA", "fPort": 3}))


@pytest.mark.parametrize("protocol", ["FOO", "lora", "", 5, None, ["LORA"]])
def test_c1_unknown_protocol_lists_the_four(spec: Spec, protocol: object) -> None:
    detail = refuse(spec, body(method={"protocol": protocol}))["#/method/protocol"]
    for name in ("HTTP", "LORA", "MQTT", "SMS"):
        assert name in detail


def test_c1_missing_protocol_is_reported_at_the_property(spec: Spec) -> None:
    errors = refuse(spec, body(method={"fPort": 3}))
    assert list(errors) == ["#/method/protocol"]
    assert "required" in errors["#/method/protocol"]


@pytest.mark.parametrize("method", [5, "LORA", [], None])
def test_c1_method_must_be_an_object(spec: Spec, method: object) -> None:
    errors = refuse(spec, body(method=method))
    assert list(errors) == ["#/method"]
    assert "object" in errors["#/method"]


def test_c1_only_the_named_variant_applies(spec: Spec) -> None:
    # HttpMethod declares no fPort or topic, so they are not checked for HTTP
    accept(spec, body(method={"protocol": "HTTP", "fPort": "x", "topic": 5}))
    assert list(refuse(spec, body(method={"protocol": "LORA", "fPort": "3"}))) == ["#/method/fPort"]
    assert list(refuse(spec, body(method={"protocol": "MQTT", "topic": 5}))) == ["#/method/topic"]
    assert list(refuse(spec, body(method={"protocol": "MQTT", "contentType": 1}))) == [
        "#/method/contentType"
    ]


# -- C2: the bn names the device


def test_c2_network_id_is_the_bn(spec: Spec) -> None:
    pack = [{"bn": "urn:dev:DEVEUI:0004A30B001B7AD2:", "n": "a", "v": 1}]
    assert accept(spec, body(instruction=pack)).network_id == "urn:dev:DEVEUI:0004A30B001B7AD2:"


def test_c2_empty_pack_is_refused(spec: Spec) -> None:
    errors = refuse(spec, body(instruction=[]))
    assert list(errors) == ["#/instruction"]
    assert "empty" in errors["#/instruction"]


def test_c2_pack_without_bn_is_refused(spec: Spec) -> None:
    errors = refuse(spec, body(instruction=[{"n": "a", "v": 1}]))
    assert list(errors) == ["#/instruction"]
    assert "bn" in errors["#/instruction"]


def test_c2_different_bn_are_refused(spec: Spec) -> None:
    pack = [{"bn": DEVICE}, {"n": "a", "v": 1}, {"bn": "urn:dev:other:", "n": "b", "v": 1}]
    assert list(refuse(spec, body(instruction=pack))) == ["#/instruction/2/bn"]


def test_c2_equal_bn_in_several_records_are_fine(spec: Spec) -> None:
    pack = [{"bn": DEVICE, "n": "a", "v": 1}, {"bn": DEVICE, "n": "b", "v": 2}]
    assert accept(spec, body(instruction=pack)).network_id == DEVICE


# -- C3: SenML records, as seen through the request


def test_c3_invalid_full_name_is_refused_at_n(spec: Spec) -> None:
    pack = [{"bn": DEVICE}, {"n": "bad name", "v": 1}]
    assert list(refuse(spec, body(instruction=pack))) == ["#/instruction/1/n"]


def test_c3_two_values_refused(spec: Spec) -> None:
    pack = [{"bn": DEVICE}, {"n": "a", "v": 1, "vs": "x"}]
    assert list(refuse(spec, body(instruction=pack))) == ["#/instruction/1"]


def test_c3_must_understand_label_refused_and_i_understood(spec: Spec) -> None:
    accept(spec, body(instruction=[{"bn": DEVICE, "i_": 1, "n": "a", "v": 1}]))
    pack = [{"bn": DEVICE, "zz_": 1, "n": "a", "v": 1}]
    assert list(refuse(spec, body(instruction=pack))) == ["#/instruction/0/zz_"]


def test_c3_vd_both_encodings_accepted(spec: Spec) -> None:
    pack = [{"bn": DEVICE}, {"n": "a", "vd": "-_8"}, {"n": "b", "vd": "+/8="}]
    assert accept(spec, body(instruction=pack)).parts == 2


def test_c3_vd_invalid_refused(spec: Spec) -> None:
    pack = [{"bn": DEVICE}, {"n": "a", "vd": "+/8"}]
    assert list(refuse(spec, body(instruction=pack))) == ["#/instruction/1/vd"]


def test_c3_bver_must_agree(spec: Spec) -> None:
    pack = [{"bn": DEVICE, "bver": 10}, {"n": "a", "v": 1, "bver": 9}]
    assert list(refuse(spec, body(instruction=pack))) == ["#/instruction/1/bver"]


def test_c3_bver_of_wrong_type_reported_once(spec: Spec) -> None:
    pack = [{"bn": DEVICE, "bver": "10"}, {"n": "a", "v": 1}]
    errors = refuse(spec, body(instruction=pack))
    assert list(errors) == ["#/instruction/0/bver"]
    assert "integer" in errors["#/instruction/0/bver"]


# -- C4: feedbackTimeout


@pytest.mark.parametrize(
    "text,ms",
    [
        ("PT10M", 600_000),
        ("PT600S", 600_000),
        ("P1DT", 86_400_000),
        ("PT25H", 90_000_000),
        ("P1DT0H", 86_400_000),
        ("PT9M60S", 600_000),
        ("PT10M0.5S", 600_500),
        ("P3DT4H5M6.5S", 273_906_500),
    ],
)
def test_c4_feedback_timeout_accepted(spec: Spec, text: str, ms: int) -> None:
    assert accept(spec, body(feedbackTimeout=text)).feedback_timeout_ms == ms


@pytest.mark.parametrize("text", ["PT9M59S", "PT9M59.999S", "PT599S", "PT1M", "PT0S", "PT"])
def test_c4_feedback_timeout_under_ten_minutes_refused(spec: Spec, text: str) -> None:
    assert list(refuse(spec, body(feedbackTimeout=text))) == ["#/feedbackTimeout"]


def test_c4_feedback_timeout_minimum_detail(spec: Spec) -> None:
    detail = refuse(spec, body(feedbackTimeout="PT9M59S"))["#/feedbackTimeout"]
    assert "10 minutes" in detail


@pytest.mark.parametrize("days,hours", [(1, 24), (2, 48)])
def test_c4_days_without_t_refused_with_a_hint(spec: Spec, days: int, hours: int) -> None:
    detail = refuse(spec, body(feedbackTimeout=f"P{days}D"))["#/feedbackTimeout"]
    assert f"P{days}DT" in detail
    assert f"PT{hours}H" in detail


@pytest.mark.parametrize("text", ["10m", "", "P", "PT10m", "P1W", "PT1.5M", "-PT10M", "P1Y"])
def test_c4_feedback_timeout_off_pattern_refused(spec: Spec, text: str) -> None:
    assert list(refuse(spec, body(feedbackTimeout=text))) == ["#/feedbackTimeout"]


@pytest.mark.parametrize("value", [600, 600.0, None, True])
def test_c4_feedback_timeout_must_be_a_string(spec: Spec, value: object) -> None:
    errors = refuse(spec, body(feedbackTimeout=value))
    assert list(errors) == ["#/feedbackTimeout"]
    assert "string" in errors["#/feedbackTimeout"]


def test_c4_absurdly_long_timeout_is_exact_not_crashed(spec: Spec) -> None:
    """The spec sets no maximum; durations are computed in exact integers."""
    request = accept(spec, body(feedbackTimeout="PT" + "9" * 400 + "S"))
    assert request.feedback_timeout_ms == int("9" * 400) * 1000


# -- C5: method details


@pytest.mark.parametrize("port", [1, 3, 223, 100.0])
def test_c5_lora_fport_inside_range(spec: Spec, port: object) -> None:
    request = accept(spec, body(method={"protocol": "LORA", "fPort": port}))
    assert request.method["fPort"] == port


@pytest.mark.parametrize("port", [0, 224, -1, 10**30])
def test_c5_lora_fport_outside_range(spec: Spec, port: int) -> None:
    errors = refuse(spec, body(method={"protocol": "LORA", "fPort": port}))
    assert list(errors) == ["#/method/fPort"]
    assert "1..223" in errors["#/method/fPort"]


def test_c5_lora_fport_may_be_left_out(spec: Spec) -> None:
    assert accept(spec, body(method={"protocol": "LORA"})).method == {"protocol": "LORA"}


def test_c5_mqtt_topic_defaults_to_downlink(spec: Spec) -> None:
    request = accept(spec, body(method={"protocol": "MQTT"}))
    assert request.method == {"protocol": "MQTT", "topic": "downlink"}


def test_c5_mqtt_topic_given_is_kept(spec: Spec) -> None:
    method = {"protocol": "MQTT", "topic": "cmd", "contentType": "text/plain"}
    assert accept(spec, body(method=method)).method == method


def test_c5_defaults_do_not_touch_the_callers_body(spec: Spec) -> None:
    sent = body(method={"protocol": "MQTT"})
    accept(spec, sent)
    assert sent["method"] == {"protocol": "MQTT"}


# -- C9: read-only fields


def test_c9_read_only_fields_are_ignored(spec: Spec) -> None:
    sent = body(
        id="not-a-uuid",
        status=5,
        createdAt="yesterday",
        modifiedAt=None,
        logs="none",
        networkId=["x"],
        message=float("nan"),
    )
    request = accept(spec, sent)
    assert request.network_id == DEVICE
    assert request.message == json.dumps(PACK, separators=(",", ":"))


# -- JSON values the schema cannot judge


def test_c1_non_finite_numbers_are_violations(spec: Spec) -> None:
    pack = [{"bn": DEVICE}, {"n": "a", "v": float("nan")}, {"n": "b", "v": float("-inf")}]
    errors = refuse(spec, body(instruction=pack, retryLimit=float("inf")))
    assert set(errors) == {"#/instruction/1/v", "#/instruction/2/v", "#/retryLimit"}
    assert "NaN" in errors["#/instruction/1/v"]


def test_c1_integers_past_the_decimal_limit_are_refused_not_crashed(spec: Spec) -> None:
    errors = refuse(spec, body(retryLimit=10**5000))
    assert list(errors) == ["#/retryLimit"]


def test_c1_unpaired_surrogates_are_violations(spec: Spec) -> None:
    pack = [{"bn": DEVICE, "n": "a", "vs": "\ud800"}]
    assert list(refuse(spec, body(instruction=pack))) == ["#/instruction/0/vs"]


# -- E2: every violation, and where


def test_e2_all_violations_reported_together(spec: Spec) -> None:
    sent = {
        "instruction": [{"n": "a", "v": 1, "vs": "x"}, {"bn": ""}],
        "method": {"protocol": "LORA", "fPort": 0},
        "retryLimit": -1,
        "feedbackTimeout": "PT1M",
        "dryRun": "no",
        "externalReference": 7,
    }
    errors = refuse(spec, sent)
    assert set(errors) == {
        "#/instruction/0",
        "#/instruction/1/bn",
        "#/method/fPort",
        "#/retryLimit",
        "#/feedbackTimeout",
        "#/dryRun",
        "#/externalReference",
    }


def test_e2_semantic_checks_skip_what_the_schema_refused(spec: Spec) -> None:
    # a schema error and no C4/C5 crash or second report on the same field
    errors = refuse(
        spec,
        body(method={"protocol": "LORA", "fPort": "0"}, feedbackTimeout=["PT1M"]),
    )
    assert set(errors) == {"#/method/fPort", "#/feedbackTimeout"}


@pytest.mark.parametrize(
    "label,pointer",
    [
        ("a/b_", "#/instruction/0/a~1b_"),
        ("m~n_", "#/instruction/0/m~0n_"),
        ("~/_", "#/instruction/0/~0~1_"),
        ("x y_", "#/instruction/0/x%20y_"),
        ("é_", "#/instruction/0/%C3%A9_"),
    ],
)
def test_e2_pointer_escaping(spec: Spec, label: str, pointer: str) -> None:
    assert list(refuse(spec, body(instruction=[{"bn": DEVICE, label: 1}]))) == [pointer]


def test_e2_json_pointer_rendering() -> None:
    assert json_pointer(()) == "#"
    assert json_pointer(("method", "fPort")) == "#/method/fPort"
    assert json_pointer(("instruction", 0, "bn")) == "#/instruction/0/bn"
    assert json_pointer(("", "a~/b")) == "#//a~0~1b"
    assert json_pointer(("100%", "a#b")) == "#/100%25/a%23b"


# -- query parameters


@pytest.mark.parametrize(
    "text,value",
    [("10", 10), ("0", 0), ("-5", -5), ("007", 7), ("-0", 0), ("1" * 40, int("1" * 40))],
)
def test_l3_limit_coerced_to_integer(spec: Spec, text: str, value: int) -> None:
    assert spec.coerce_params("searchDownlinks", {"limit": text}) == ({"limit": value}, [])


@pytest.mark.parametrize("text", ["1.5", "", "+5", " 5", "5 ", "1e3", "0x10", "٣", "ten", "--1"])
def test_l3_limit_not_an_integer(spec: Spec, text: str) -> None:
    values, violations = spec.coerce_params("searchDownlinks", {"limit": text})
    assert values == {}
    assert [v["parameter"] for v in violations] == ["limit"]
    assert "integer" in violations[0]["detail"]


def test_l3_limit_with_too_many_digits_is_refused_not_crashed(spec: Spec) -> None:
    values, violations = spec.coerce_params("searchDownlinks", {"limit": "9" * 10_000})
    assert values == {}
    assert [v["parameter"] for v in violations] == ["limit"]


def test_l3_limit_default_is_not_filled_in(spec: Spec) -> None:
    assert spec.coerce_params("searchDownlinks", {}) == ({}, [])


@pytest.mark.parametrize("text,value", [("true", True), ("false", False)])
def test_x5_forced_boolean(spec: Spec, text: str, value: bool) -> None:
    assert spec.coerce_params("cancelDownlink", {"forced": text}) == ({"forced": value}, [])


@pytest.mark.parametrize("text", ["TRUE", "True", "1", "0", "", "yes", "true "])
def test_x5_forced_anything_else_refused(spec: Spec, text: str) -> None:
    values, violations = spec.coerce_params("cancelDownlink", {"forced": text})
    assert values == {}
    assert [v["parameter"] for v in violations] == ["forced"]
    assert "true or false" in violations[0]["detail"]


def test_l1_q_must_not_be_empty(spec: Spec) -> None:
    values, violations = spec.coerce_params("searchDownlinks", {"q": ""})
    assert values == {}
    assert [v["parameter"] for v in violations] == ["q"]
    assert spec.coerce_params("searchDownlinks", {"q": "x"}) == ({"q": "x"}, [])


def test_l2_date_times_are_passed_through_unparsed(spec: Spec) -> None:
    params = {
        "createdBefore": "2025-05-01T00:00:00Z",
        "createdSince": "not a date",
        "modifiedBefore": "",
        "modifiedSince": "2025-05-01",
    }
    assert spec.coerce_params("searchDownlinks", params) == (params, [])


def test_l4_l7_sort_and_cursor_are_strings(spec: Spec) -> None:
    params = {"sort": "-createdAt,id", "cursor": "opaque=="}
    assert spec.coerce_params("searchDownlinks", params) == (params, [])


def test_e2_every_parameter_violation_reported(spec: Spec) -> None:
    values, violations = spec.coerce_params(
        "searchDownlinks", {"limit": "x", "q": "", "sort": "id"}
    )
    assert values == {"sort": "id"}
    assert sorted(v["parameter"] for v in violations) == ["limit", "q"]


def test_undeclared_parameters_are_ignored(spec: Spec) -> None:
    assert spec.coerce_params("searchDownlinks", {"page": "x", "forced": "maybe"}) == ({}, [])
    assert spec.coerce_params("cancelDownlink", {"limit": "x", "q": ""}) == ({}, [])


def test_parameter_given_twice_is_refused(spec: Spec) -> None:
    values, violations = spec.coerce_params("searchDownlinks", QueryParams("limit=1&limit=2"))
    assert values == {}
    assert [v["parameter"] for v in violations] == ["limit"]
    ok = spec.coerce_params("searchDownlinks", QueryParams("limit=1&q=a"))
    assert ok == ({"limit": 1, "q": "a"}, [])


def test_unknown_operation_is_a_key_error(spec: Spec) -> None:
    with pytest.raises(KeyError, match="nope"):
        spec.coerce_params("nope", {})


# -- the document is the source


def test_spec_reads_the_project_document(spec: Spec) -> None:
    assert spec.document == json.loads(config.OPENAPI_PATH.read_text(encoding="utf-8"))
    assert load_spec() is spec
    assert load_spec(config.OPENAPI_PATH) is spec


def test_missing_document_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        load_spec(tmp_path / "absent.json")


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> Spec:
    """A copy of openapi.json with a fifth protocol, another MQTT default topic, a
    stricter retryLimit and a limit maximum."""
    document = json.loads(config.OPENAPI_PATH.read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    method = schemas["CreateDownlinkRequest"]["properties"]["method"]
    method["discriminator"]["mapping"]["NBIOT"] = "#/components/schemas/NbiotMethod"
    method["oneOf"].append({"$ref": "#/components/schemas/NbiotMethod"})
    schemas["NbiotMethod"] = {
        "type": "object",
        "properties": {"protocol": {"type": "string"}, "band": {"type": "integer"}},
        "required": ["protocol", "band"],
    }
    schemas["MqttMethod"]["properties"]["topic"]["default"] = "commands"
    schemas["CreateDownlinkRequest"]["properties"]["retryLimit"]["minimum"] = 1
    document["components"]["parameters"]["limit"]["schema"]["maximum"] = 1000
    path = tmp_path_factory.mktemp("spec") / "openapi.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return load_spec(path)


def test_c1_allowed_protocols_come_from_the_document_mapping(edited: Spec) -> None:
    detail = refuse(edited, body(method={"protocol": "FOO"}))["#/method/protocol"]
    assert "NBIOT" in detail
    accept(edited, body(method={"protocol": "NBIOT", "band": 20}))
    assert list(refuse(edited, body(method={"protocol": "NBIOT"}))) == ["#/method/band"]


def test_c5_defaults_come_from_the_document(edited: Spec) -> None:
    assert accept(edited, body(method={"protocol": "MQTT"})).method["topic"] == "commands"


def test_c1_bounds_come_from_the_document(edited: Spec, spec: Spec) -> None:
    accept(spec, body(retryLimit=0))
    assert list(refuse(edited, body(retryLimit=0))) == ["#/retryLimit"]
    assert edited.coerce_params("searchDownlinks", {"limit": "1001"})[1] == [
        {"parameter": "limit", "detail": "1001 is greater than the maximum of 1000"}
    ]


def test_c1_implicit_discriminator_names(tmp_path: Path) -> None:
    """Without a mapping, OpenAPI names each variant by its schema's name."""
    document = json.loads(config.OPENAPI_PATH.read_text(encoding="utf-8"))
    method = document["components"]["schemas"]["CreateDownlinkRequest"]["properties"]["method"]
    del method["discriminator"]["mapping"]
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    implicit = load_spec(path)
    accept(implicit, body(method={"protocol": "LoraMethod", "fPort": 3}))
    detail = refuse(implicit, body(method={"protocol": "LORA"}))["#/method/protocol"]
    assert "HttpMethod, LoraMethod, MqttMethod, SmsMethod" in detail
