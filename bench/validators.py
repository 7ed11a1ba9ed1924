"""The create body's JSON Schema check: the mock's validator against compiled ones.

    python bench/validators.py [--rounds 7]

Times, in one run and on the same bodies, what `POST /downlinks` pays to check its body:

- `Spec.validate_create` (the whole of C1-C5: the schema pass, the SenML checks, the
  defaults) and its JSON Schema pass alone (`jsonschema`, pure Python, with the
  discriminator-aware extension of `mock_server/openapi/validation.py`);
- `jsonschema-rs` and `fastjsonschema` on the same schema, rewritten so that a plain
  JSON Schema validator means what the discriminator means (`compiled_schema`).

A plain validator ignores `discriminator` and applies `oneOf`: every `method` variant
accepts any object with a string `protocol`, so a valid LORA method matches all four and
`oneOf` refuses it. The rewrite replaces each `oneOf` + `discriminator.mapping` with an
`allOf` of `if {protocol: const V} then {$ref variant}` and an `enum` of the mapping's
keys on the property (plus `required`), which is what OpenAPI's discriminator prescribes;
formats the validators do not know (`int32`, `double`, `duration`) are dropped (the spec's
`SimpleDuration` carries a `pattern` for what `duration` says). Before timing, every
validator is checked to agree with the mock's on valid and invalid bodies.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson

__all__ = ["compiled_schema", "main"]

REPO = Path(__file__).resolve().parent.parent
_KNOWN_FORMATS = {"date-time", "uri", "uri-reference"}

VALID = {
    "instruction": [
        {"bn": "urn:dev:DEVEUI:0004a30b001c0530:"},
        {"n": "setpoint", "u": "Cel", "v": 21.5},
    ],
    "method": {"protocol": "LORA", "fPort": 10},
    "retryLimit": 2,
}
# (body, what is wrong): the plain validators must refuse each of these too.
INVALID: list[tuple[dict[str, Any], str]] = [
    ({**VALID, "method": {"protocol": "CARRIER_PIGEON"}}, "unknown protocol"),
    ({**VALID, "method": {"fPort": 10}}, "protocol missing"),
    ({**VALID, "method": {"protocol": "LORA", "fPort": "10"}}, "fPort a string"),
    ({**VALID, "method": {"protocol": "MQTT", "topic": 7}}, "MQTT topic a number"),
    ({**VALID, "retryLimit": -1}, "retryLimit below 0"),
    ({**VALID, "instruction": {"bn": "x"}}, "instruction not an array"),
    ({**VALID, "instruction": [{"v": "warm"}]}, "v a string"),
    ({"method": VALID["method"]}, "instruction missing"),
    ({**VALID, "feedbackTimeout": "ten minutes"}, "feedbackTimeout not a duration"),
    ({**VALID, "dryRun": "yes"}, "dryRun a string"),
]


def compiled_schema(
    document: dict[str, Any], name: str = "CreateDownlinkRequest"
) -> dict[str, Any]:
    """A self-contained Draft 7 / 2020-12 schema for `#/components/schemas/<name>` with
    every discriminator expressed as if/then, readable by plain validators."""
    components = copy.deepcopy(document["components"]["schemas"])

    def rewrite(node: Any) -> Any:
        if isinstance(node, list):
            return [rewrite(n) for n in node]
        if not isinstance(node, dict):
            return node
        node = {k: rewrite(v) for k, v in node.items() if k not in ("example", "readOnly")}
        if isinstance(node.get("format"), str) and node["format"] not in _KNOWN_FORMATS:
            del node["format"]
        if isinstance(node.get("$ref"), str):
            node["$ref"] = node["$ref"].replace("#/components/schemas/", "#/definitions/")
        discriminator = node.pop("discriminator", None)
        if isinstance(discriminator, dict) and isinstance(discriminator.get("mapping"), dict):
            prop = discriminator["propertyName"]
            mapping = discriminator["mapping"]
            node.pop("oneOf", None)
            node.pop("anyOf", None)
            node.setdefault("required", []).append(prop)
            node.setdefault("properties", {})[prop] = {"enum": sorted(mapping)}
            node["allOf"] = [
                {
                    "if": {"properties": {prop: {"const": value}}, "required": [prop]},
                    "then": {"$ref": ref.replace("#/components/schemas/", "#/definitions/")},
                }
                for value, ref in sorted(mapping.items())
            ]
        return node

    definitions = {key: rewrite(value) for key, value in components.items()}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$ref": f"#/definitions/{name}",
        "definitions": definitions,
    }


def _best_us(call: Callable[[], object], rounds: int, number: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        for _ in range(number):
            call()
        best = min(best, (time.perf_counter() - began) / number)
    return best * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)

    import fastjsonschema
    import jsonschema_rs

    from mock_server.openapi.spec import load_spec

    spec = load_spec()
    document = orjson.loads((REPO / "openapi.json").read_bytes())
    schema = compiled_schema(document)
    rs = jsonschema_rs.validator_for(schema)
    fast = fastjsonschema.compile(schema)

    def fast_ok(body: object) -> bool:
        try:
            fast(body)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    # Agreement first: a fast validator that says yes where the mock says no is no use.
    checks = [(VALID, "valid", True)] + [(b, why, False) for b, why in INVALID]
    disagree = []
    for body, why, want in checks:
        mock_ok = spec.validate_create(body)[1] == []
        if mock_ok != want:
            disagree.append(f"the mock's validator: {why}")
        schema_ok = not list(spec._create.iter_errors(body))
        for label, ok in (("jsonschema-rs", rs.is_valid(body)), ("fastjsonschema", fast_ok(body))):
            if ok != schema_ok:
                disagree.append(f"{label} on {why}: {ok}, the mock's schema pass: {schema_ok}")
    print("agreement on", len(checks), "bodies:", "all agree" if not disagree else disagree)

    body = VALID
    raw = orjson.dumps(body)
    bad = INVALID[2][0]
    rows = [
        ("Spec.validate_create (all of C1-C5)", lambda: spec.validate_create(body), 2000),
        ("  its JSON Schema pass (jsonschema)", lambda: list(spec._create.iter_errors(body)), 2000),
        ("jsonschema-rs is_valid", lambda: rs.is_valid(body), 50_000),
        ("jsonschema-rs is_valid + orjson.loads", lambda: rs.is_valid(orjson.loads(raw)), 50_000),
        ("fastjsonschema validate", lambda: fast(body), 50_000),
        (
            "jsonschema (invalid body, fPort a string)",
            lambda: list(spec._create.iter_errors(bad)),
            2000,
        ),
        ("jsonschema-rs is_valid (same invalid body)", lambda: rs.is_valid(bad), 50_000),
    ]
    timed = [(label, _best_us(call, args.rounds, n)) for label, call, n in rows]
    schema_pass = timed[1][1]
    print("\n| validator, valid create body | us per body | vs the jsonschema pass |")
    print("|---|---:|---:|")
    for label, us in timed:
        print(f"| {label} | {us:,.2f} | {schema_pass / us:,.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
