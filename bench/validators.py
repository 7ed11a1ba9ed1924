"""The create body's JSON Schema check: the mock's validator against compiled ones.

    python bench/validators.py [--rounds 7]

Times, in one run and on the same bodies, what `POST /downlinks` pays to check its body:

- `Spec.validate_create` (the whole of C1-C5: the schema pass, the SenML checks, the
  defaults) and its JSON Schema pass alone (`jsonschema`, pure Python, with the
  discriminator-aware extension of `mock_server/openapi/validation.py`);
- `jsonschema-rs` and `fastjsonschema` on the same schema, rewritten so that a plain
  JSON Schema validator means what the discriminator means (`compiled_schema` of
  `mock_server/openapi/compiled.py`, the schema the mock's own fast path uses).

A plain validator ignores `discriminator` and applies `oneOf`: every `method` variant
accepts any object with a string `protocol`, so a valid LORA method matches all four and
`oneOf` refuses it. The rewrite replaces each `oneOf` + `discriminator.mapping` with an
`allOf` of `if {protocol: const V} then {$ref variant}` and an `enum` of the mapping's
keys on the property (plus `required`), which is what OpenAPI's discriminator prescribes;
formats are dropped, as the mock reads them as annotations (the spec's
`SimpleDuration` carries a `pattern` for what `duration` says). Before timing, every
validator is checked to agree with the mock's on valid and invalid bodies.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson

__all__ = ["main"]

REPO = Path(__file__).resolve().parent.parent

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

    from mock_server.openapi.compiled import compiled_schema
    from mock_server.openapi.spec import load_spec

    spec = load_spec()
    detailed = spec.validator_for("#/components/schemas/CreateDownlinkRequest")
    document = orjson.loads((REPO / "openapi.json").read_bytes())
    # The schema the mock's own fast path uses (mock_server/openapi/compiled.py).
    schema = compiled_schema(document, "#/components/schemas/CreateDownlinkRequest")
    rs = jsonschema_rs.validator_for(schema, validate_formats=False)
    # fastjsonschema knows drafts up to 7; the schema uses nothing later but `$defs`,
    # which it resolves as a plain JSON Pointer.
    fast = fastjsonschema.compile({**schema, "$schema": "http://json-schema.org/draft-07/schema#"})

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
        schema_ok = not list(detailed.iter_errors(body))
        for label, ok in (("jsonschema-rs", rs.is_valid(body)), ("fastjsonschema", fast_ok(body))):
            if ok != schema_ok:
                disagree.append(f"{label} on {why}: {ok}, the mock's schema pass: {schema_ok}")
    print("agreement on", len(checks), "bodies:", "all agree" if not disagree else disagree)

    body = VALID
    raw = orjson.dumps(body)
    bad = INVALID[2][0]
    rows = [
        ("Spec.validate_create (all of C1-C5)", lambda: spec.validate_create(body), 2000),
        ("  its JSON Schema pass (jsonschema)", lambda: list(detailed.iter_errors(body)), 2000),
        ("jsonschema-rs is_valid", lambda: rs.is_valid(body), 50_000),
        ("jsonschema-rs is_valid + orjson.loads", lambda: rs.is_valid(orjson.loads(raw)), 50_000),
        ("fastjsonschema validate", lambda: fast(body), 50_000),
        (
            "jsonschema (invalid body, fPort a string)",
            lambda: list(detailed.iter_errors(bad)),
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
