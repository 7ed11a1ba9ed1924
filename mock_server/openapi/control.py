"""The control plane's OpenAPI document (`mock_server/data/control.openapi.yaml`; the dot
in its stem keeps it out of the built-in scenarios beside it), compiled with the same
validator as the public API.

Two schemas from elsewhere join it: the scenario files' JSON Schema is put in place as
`components/schemas/Scenario` (so PUT /__mock/scenario and scenario files share one
definition, and the served document is self-contained), and the fixture-file schema
(`mock_server/data/fixture.schema.json`, whose records are this document's `SeedDevice`
and `SeedDownlink`) is registered beside it, so one validator checks both.
"""

from __future__ import annotations

import copy
import json
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import yaml

from mock_server.domain.timefmt import parse_rfc3339
from mock_server.openapi.document import Document
from mock_server.timeline.scenarios import scenario_schema

__all__ = [
    "CONTROL_URI",
    "FIXTURE_SCHEMA_URI",
    "control_document",
    "control_spec",
    "fixture_schema",
    "read_control_yaml",
    "control_document_bytes",
    "body_schema",
]

CONTROL_URI = "https://downlinks-mock.invalid/__mock/openapi.json"
"""The document's base URI (where the mock serves it, under a host that never resolves)."""
FIXTURE_SCHEMA_URI = "https://downlinks-mock.invalid/fixture.schema.json"
"""The fixture schema's `$id`; it points into this document for its records."""

_DATA = resources.files("mock_server") / "data"


def read_control_yaml() -> dict[str, Any]:
    """The control plane's OpenAPI document exactly as its YAML file says."""
    document = yaml.safe_load(_DATA.joinpath("control.openapi.yaml").read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError("control.openapi.yaml is not a mapping")
    return document


def fixture_schema() -> dict[str, Any]:
    """The fixture-file JSON Schema (a fresh copy)."""
    schema: dict[str, Any] = json.loads(
        _DATA.joinpath("fixture.schema.json").read_text(encoding="utf-8")
    )
    return schema


def _date_time(value: object) -> bool:
    """`format: date-time` as the mock reads it (RFC 3339 with an offset, T1)."""
    if isinstance(value, str):
        parse_rfc3339(value)  # ValueError says what is wrong
    return True


@lru_cache(maxsize=1)
def _compiled() -> tuple[Document, bytes]:
    document = read_control_yaml()
    # Without `$schema`: OpenAPI 3.1's dialect is 2020-12 already, and jsonschema would
    # validate a schema naming it with the plain Draft 2020-12 class instead of ours.
    scenario, fixture = scenario_schema(), fixture_schema()
    scenario.pop("$schema", None)
    fixture.pop("$schema", None)
    document["components"]["schemas"]["Scenario"] = scenario
    spec = Document(
        document,
        uri=CONTROL_URI,
        resources={FIXTURE_SCHEMA_URI: fixture},
        formats={"date-time": _date_time},
    )
    return spec, json.dumps(document, ensure_ascii=False).encode("utf-8")


def control_spec() -> Document:
    """The compiled control-plane document, read once."""
    return _compiled()[0]


def control_document() -> dict[str, Any]:
    """The document as served at /__mock/openapi.json (a fresh copy)."""
    return copy.deepcopy(_compiled()[0].document)


def control_document_bytes() -> bytes:
    """The served document, rendered once as JSON."""
    return _compiled()[1]


@cache
def _body_schemas() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for item in read_control_yaml()["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "operationId" in operation:
                content = operation.get("requestBody", {}).get("content", {})
                schema = content.get("application/json", {}).get("schema")
                if isinstance(schema, dict):
                    found[operation["operationId"]] = schema
    return found


def body_schema(operation_id: str) -> dict[str, Any]:
    """The JSON body schema of `operation_id` as the document writes it (refs unresolved);
    empty when the operation takes no JSON body."""
    return _body_schemas().get(operation_id, {})
