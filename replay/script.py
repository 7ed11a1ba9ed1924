"""Hand-written replay scripts (YAML): steps with expectations, validated against
`SCRIPT_SCHEMA` at load time with errors that name the file, the step and the fix.
See docs/record-replay.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from mock_server.http.auth import SCOPES
from replay.cassette import Auth, CassetteError, Expect, Recorded, Step

__all__ = ["SCRIPT_SCHEMA", "read_script"]


_AUTH_SCHEMA = {
    "oneOf": [
        {"const": "none", "description": "send no Authorization header"},
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["client"],
            "properties": {
                "client": {"type": "string", "minLength": 1},
                "scopes": {"type": "array", "items": {"type": "string"}},
            },
        },
    ]
}

SCRIPT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Downlinks mock replay script",
    "type": "object",
    "additionalProperties": False,
    "required": ["steps"],
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "auth": _AUTH_SCHEMA,
        "steps": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["request", "expect"],
                "properties": {
                    "name": {"type": "string"},
                    "request": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["method", "path"],
                        "properties": {
                            "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
                            "path": {"type": "string", "pattern": "^/"},
                            "query": {
                                "type": "object",
                                "additionalProperties": {"type": ["string", "number", "boolean"]},
                            },
                            "headers": {
                                "type": "object",
                                "additionalProperties": {"type": "string"},
                            },
                            "json": {},
                            "text": {"type": "string"},
                            "auth": _AUTH_SCHEMA,
                        },
                        "not": {"required": ["json", "text"]},
                    },
                    "expect": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["status"],
                        "properties": {
                            "status": {"type": "integer", "minimum": 100, "maximum": 599},
                            "headers": {
                                "type": "object",
                                "additionalProperties": {"type": "string"},
                            },
                            "body": {},
                        },
                    },
                    "save": {
                        "type": "object",
                        "description": "variable name -> JSON pointer into the response body",
                        "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                        "additionalProperties": {"type": "string", "pattern": "^(/.*)?$"},
                    },
                },
            },
        },
    },
}
_SCRIPT_VALIDATOR = Draft202012Validator(SCRIPT_SCHEMA)


def _script_auth(value: Any, default: Auth | None) -> Auth | None:
    """`none`: no Authorization header; a client: a token minted for it; absent: default."""
    if value == "none":
        return None
    if isinstance(value, dict):
        return Auth(value["client"], tuple(value.get("scopes", SCOPES)))
    return default


def read_script(path: Path) -> list[Step]:
    """The steps of a YAML replay script, checked against SCRIPT_SCHEMA."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CassetteError(f"cannot read {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise CassetteError(f"{path}: not YAML: {exc}") from None
    errors = sorted(_SCRIPT_VALIDATOR.iter_errors(document), key=lambda e: list(e.path))
    if errors:
        lines = [f"  at /{'/'.join(str(p) for p in e.path)}: {e.message}" for e in errors[:10]]
        raise CassetteError(f"{path}: not a replay script:\n" + "\n".join(lines))
    default_auth = _script_auth(document.get("auth"), Auth("demo-client", SCOPES))
    steps: list[Step] = []
    for number, raw in enumerate(document["steps"], 1):
        request, expect = raw["request"], raw["expect"]
        headers = {k.lower(): v for k, v in (request.get("headers") or {}).items()}
        has_json = "json" in request
        if has_json:
            headers.setdefault("content-type", "application/json")
        query = urlencode(
            [
                (k, str(v).lower() if isinstance(v, bool) else str(v))
                for k, v in (request.get("query") or {}).items()
            ]
        )
        steps.append(
            Step(
                index=number,
                source=f"{path} step {number}",
                name=raw.get("name", ""),
                method=request["method"],
                path=request["path"],
                query=query,
                request=Recorded(
                    headers=headers,
                    body=request.get("json"),
                    text=request.get("text"),
                    has_json=has_json,
                ),
                auth=_script_auth(request.get("auth"), default_auth),
                expect=Expect(
                    status=expect["status"],
                    headers={k.lower(): v for k, v in (expect.get("headers") or {}).items()},
                    body=expect.get("body"),
                    has_body="body" in expect,
                    subset=True,
                ),
                save=dict(raw.get("save") or {}),
                file=path,
            )
        )
    return steps
