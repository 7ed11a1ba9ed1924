"""A compiled JSON Schema check for the request path: is this body valid, yes or no.

The detailed validator (`mock_server.openapi.validation`, pure Python) explains every
violation with its pointer (E2), but costs most of a create's time even when the body is
valid. `CompiledCheck` answers the common case in microseconds with `jsonschema-rs`; only a
body it refuses goes to the detailed validator, which then says why. The two must agree:
`tests/mock_server/openapi/test_compiled.py` compares them on generated bodies.

A plain validator does not know OpenAPI's `discriminator`: it would apply `oneOf`, under
which a LORA method also matches the HTTP, MQTT and SMS variants and is refused. The schema
is therefore rewritten as the discriminator prescribes: the property is required, its value
one of the mapping's keys, and `if {property: V} then {the variant V maps to}`. Formats are
dropped: the public document uses them as annotations (2020-12), and so does the detailed
validator.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["CompiledCheck", "compiled_schema"]

_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_COMPONENTS = "#/components/schemas/"
_DROPPED = frozenset({"format", "example", "examples", "readOnly", "description", "title"})
_NAMED = frozenset({"properties", "patternProperties", "$defs", "definitions"})


def compiled_schema(document: dict[str, Any], pointer: str) -> dict[str, Any]:
    """A self-contained 2020-12 schema for the schema at `pointer` (``#/components/...``
    or a path to an inline one) with every discriminator written out for plain
    validators."""

    def rewrite(node: Any) -> Any:
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {
            # A map of names to schemas keeps every name, "title" and "format" included.
            key: {k: rewrite(v) for k, v in value.items()}
            if key in _NAMED and isinstance(value, dict)
            else rewrite(value)
            for key, value in node.items()
            if key not in _DROPPED
        }
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith(_COMPONENTS):
            out["$ref"] = "#/$defs/" + ref[len(_COMPONENTS) :]
        discriminator = out.pop("discriminator", None)
        if isinstance(discriminator, dict) and isinstance(discriminator.get("mapping"), dict):
            name = discriminator["propertyName"]
            mapping: dict[str, str] = discriminator["mapping"]
            out.pop("oneOf", None)
            out.pop("anyOf", None)
            out["required"] = sorted({*out.get("required", []), name})
            out.setdefault("properties", {})[name] = {"enum": sorted(mapping)}
            out["allOf"] = [
                *out.get("allOf", []),
                *(
                    {
                        "if": {"properties": {name: {"const": value}}, "required": [name]},
                        "then": {"$ref": "#/$defs/" + target[len(_COMPONENTS) :]},
                    }
                    for value, target in sorted(mapping.items())
                ),
            ]
        return out

    components = document.get("components", {}).get("schemas", {})
    target = _at(document, pointer)
    return {
        "$schema": _DIALECT,
        **rewrite(copy.deepcopy(target)),
        "$defs": {name: rewrite(copy.deepcopy(schema)) for name, schema in components.items()},
    }


def _at(document: dict[str, Any], pointer: str) -> Any:
    node: Any = document
    for part in pointer.lstrip("#/").split("/"):
        if part:
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


class CompiledCheck:
    """`valid(instance)`: True only when the schema surely accepts `instance`.

    False means "ask the detailed validator": the instance is invalid, or it holds values
    the compiled validator cannot take (integers past 64 bits, unpaired surrogates), or
    `jsonschema-rs` is not installed.
    """

    def __init__(self, schema: dict[str, Any]) -> None:
        try:
            import jsonschema_rs
        except ImportError:  # a slower mock, never a different one
            self._validator: Any = None
        else:
            self._validator = jsonschema_rs.validator_for(schema, validate_formats=False)

    def valid(self, instance: object) -> bool:
        if self._validator is None:
            return False
        try:
            return bool(self._validator.is_valid(instance))
        except (ValueError, OverflowError, TypeError, UnicodeError):
            return False
