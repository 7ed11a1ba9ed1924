"""openapi.json as the one source of request shapes: validated create bodies and query
parameters, with every violation reported at once (E2).

The document is read at run time (`mock_server.config.OPENAPI_PATH`), never copied: the
schemas, their `$ref`s, defaults, patterns and the discriminator's mapping all come from
it. Validation is `mock_server.openapi.validation`: JSON Schema Draft 2020-12 (what
OpenAPI 3.1 uses) that follows a `discriminator` to its variant and reports a missing
required property at the property itself.

Violations are ``{"pointer": ..., "detail": ...}``: the pointer is an RFC 6901 JSON
Pointer written as a URI fragment (``#/method/fPort``, ``#`` for the body; see
`json_pointer`). Query parameters give ``{"parameter": ..., "detail": ...}``.
"""

from __future__ import annotations

import copy
import json
import math
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema.protocols import Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from mock_server import config
from mock_server.domain.model import NewDownlink
from mock_server.domain.senml import check_pack
from mock_server.domain.timefmt import parse_duration_ms
from mock_server.http.problems import Violation
from mock_server.openapi.validation import (
    discriminator_variants,
    error_detail,
    json_pointer,
    leaf_error,
    show_value,
    validator_class,
)

__all__ = ["Spec", "load_spec", "json_pointer", "FEEDBACK_TIMEOUT_MIN_MS"]

CREATE_OPERATION = "createDownlink"
FEEDBACK_TIMEOUT_MIN_MS = 10 * 60 * 1000
"""C4: the spec's `feedbackTimeout` "must be at least 10 minutes"."""

LORA_PORTS = range(1, 224)
"""C5: LoRaWAN application ports; 0 is MAC traffic, 224 and up are reserved."""

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

_SURROGATE = re.compile("[\ud800-\udfff]")
_INTEGER = re.compile(r"-?[0-9]+", re.ASCII)
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?", re.ASCII)


# Schema keywords that assert nothing about a coerced value (2020-12: `format` annotates).
_ANNOTATIONS = frozenset(
    {"type", "format", "example", "examples", "default", "description", "title", "deprecated"}
)


@dataclass(frozen=True, slots=True)
class _Parameter:
    """A query parameter as the spec declares it."""

    name: str
    type: str | None  # the JSON type its string is coerced to
    validator: Validator
    asserts: bool  # whether the schema says more than its type (which coercion ensures)


# -- values a JSON schema cannot judge ------------------------------------------------


def _json_type(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "null" if value is None else type(value).__name__


def _printable(number: int) -> bool:
    """Whether Python can write `number` in decimal (3.11 caps the digits)."""
    limit = getattr(sys, "get_int_max_str_digits", lambda: 0)()
    if not limit or number.bit_length() <= limit * 3:
        return True
    try:
        str(number)
    except ValueError:
        return False
    return True


def _unfit(
    items: Iterable[tuple[tuple[str | int, ...], Any]],
) -> tuple[list[tuple[tuple[str | int, ...], str]], bool]:
    """Values no JSON text can carry or this server can render: NaN and infinities,
    unpaired surrogates, integers past Python's decimal limit (`fatal`: no error message
    could quote them, so nothing else is checked)."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    fatal = False
    stack = list(items)
    stack.reverse()
    while stack:
        path, value = stack.pop()
        if isinstance(value, float):
            if not math.isfinite(value):
                name = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
                found.append((path, f"{name} is not a JSON number: give a finite number"))
        elif isinstance(value, bool):
            pass
        elif isinstance(value, int):
            if not _printable(value):
                fatal = True
                found.append((path, "the integer has more digits than this server handles"))
        elif isinstance(value, str):
            if _SURROGATE.search(value):
                found.append((path, "the string holds an unpaired surrogate, not a character"))
        elif isinstance(value, dict):
            for key, inner in reversed(value.items()):
                if isinstance(key, str) and _SURROGATE.search(key):
                    found.append((path + (key,), "the label holds an unpaired surrogate"))
                stack.append((path + (key,), inner))
        elif isinstance(value, list):
            for index in range(len(value) - 1, -1, -1):
                stack.append((path + (index,), value[index]))
    return found, fatal


# -- the spec --------------------------------------------------------------------------


class Spec:
    """The OpenAPI document, compiled once: validators for the create body and for each
    operation's query parameters."""

    document: dict[str, Any]

    def __init__(self, document: dict[str, Any], *, uri: str = "urn:downlinks:openapi") -> None:
        self.document = document
        self._uri = uri
        registry: Registry[Any] = Registry().with_resource(
            uri, DRAFT202012.create_resource(document)
        )
        self._registry = registry
        self._resolver = registry.resolver(base_uri=uri)
        self._validator_class = validator_class(document, self._resolver)
        self._defaults: dict[int, tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]] = {}
        self._schema_validators: dict[str, Validator] = {}

        operations = self._operations()
        if CREATE_OPERATION not in operations:
            raise ValueError(f"the OpenAPI document has no operation {CREATE_OPERATION!r}")
        create_at = operations[CREATE_OPERATION]
        body_at = self._deref_at(create_at + ("requestBody",))
        body_at = body_at + ("content", "application/json", "schema")
        self._create = self._validator_at(body_at)
        self._create_schema = self._at(body_at)
        self._create_properties = self._properties(self._create_schema)
        self._method_schema = self._create_properties.get("method", {})
        self._record_labels = frozenset(
            name
            for pack in self._expand(self._create_properties.get("instruction", {}))
            if "items" in pack
            for record in self._expand(pack["items"])
            for name in record.get("properties", {})
        )
        self._parameters = {
            operation_id: self._query_parameters(at) for operation_id, at in operations.items()
        }

    # -- reading the document

    def _at(self, path: tuple[str | int, ...]) -> Any:
        return self._resolver.lookup(json_pointer(path)).contents

    def _lookup(self, ref: str) -> Any:
        return self._resolver.lookup(ref).contents

    def _deref_at(self, path: tuple[str | int, ...]) -> tuple[str | int, ...]:
        """Follow local `$ref`s from `path` to where the object really is."""
        target = self._at(path)
        seen = 0
        while isinstance(target, dict) and isinstance(target.get("$ref"), str) and seen < 32:
            ref = target["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"only local references are supported, not {ref!r}")
            path = tuple(part.replace("~1", "/").replace("~0", "~") for part in ref[2:].split("/"))
            target = self._at(path)
            seen += 1
        return path

    def _validator_at(self, path: tuple[str | int, ...]) -> Validator:
        return self._validator_class(
            {"$ref": self._uri + json_pointer(path)}, registry=self._registry
        )

    def _expand(self, schema: Any) -> Iterator[dict[str, Any]]:
        """`schema` and every schema it pulls in through `$ref` and `allOf`, in order."""
        stack, seen = [schema], set()
        while stack:
            current = stack.pop()
            if not isinstance(current, dict) or id(current) in seen:
                continue
            seen.add(id(current))
            yield current
            pulled = list(current.get("allOf", []))
            if isinstance(current.get("$ref"), str):
                pulled.insert(0, self._lookup(current["$ref"]))
            stack.extend(reversed(pulled))

    def _properties(self, schema: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for part in self._expand(schema):
            for name, sub in part.get("properties", {}).items():
                out.setdefault(name, sub)
        return out

    def _default(self, schema: Any) -> tuple[bool, Any]:
        for part in self._expand(schema):
            if "default" in part:
                return True, part["default"]
        return False, None

    def _type(self, schema: Any) -> str | None:
        for part in self._expand(schema):
            kind = part.get("type")
            if isinstance(kind, str):
                return kind
            if isinstance(kind, list):
                return next((k for k in kind if k != "null"), None)
        return None

    def _with_defaults(self, schema: Any, instance: dict[str, Any]) -> dict[str, Any]:
        """`instance` with the defaults of its schema's properties filled in, following
        a discriminator to the variant it names."""
        out = dict(instance)
        defaults, switches = self._defaults_of(schema)
        for name, value in defaults.items():
            if name not in out:
                out[name] = copy.deepcopy(value)
        for name, variants in switches:
            tag = instance.get(name)
            variant = variants.get(tag) if isinstance(tag, str) else None
            if variant is not None:
                out = self._with_defaults(variant, out)
        return out

    def _defaults_of(self, schema: Any) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
        """The defaults of `schema`'s properties, and its discriminators (property name,
        value -> variant schema); computed once per schema."""
        key = id(schema)
        if key not in self._defaults:
            defaults: dict[str, Any] = {}
            switches: list[tuple[str, dict[str, Any]]] = []
            for part in self._expand(schema):
                for name, sub in part.get("properties", {}).items():
                    found, value = self._default(sub)
                    if found:
                        defaults.setdefault(name, value)
                discriminator = part.get("discriminator")
                subschemas = part.get("oneOf", part.get("anyOf"))
                if (
                    isinstance(discriminator, dict)
                    and isinstance(discriminator.get("propertyName"), str)
                    and isinstance(subschemas, list)
                ):
                    variants = discriminator_variants(discriminator, subschemas)
                    switches.append(
                        (
                            discriminator["propertyName"],
                            {tag: variant for tag, (_, variant) in variants.items()},
                        )
                    )
            self._defaults[key] = (defaults, switches)
        return self._defaults[key]

    def _operations(self) -> dict[str, tuple[str | int, ...]]:
        """operationId -> where the operation sits in the document."""
        found: dict[str, tuple[str | int, ...]] = {}
        for route, item in self.document.get("paths", {}).items():
            if not isinstance(item, dict):
                continue
            for method in _HTTP_METHODS:
                operation = item.get(method)
                if isinstance(operation, dict) and isinstance(operation.get("operationId"), str):
                    found[operation["operationId"]] = ("paths", route, method)
        return found

    def _query_parameters(self, operation_at: tuple[str | int, ...]) -> list[_Parameter]:
        """The operation's query parameters, path-level ones overridden by its own."""
        declared: dict[tuple[str, str], tuple[str | int, ...]] = {}
        for owner in (operation_at[:-1], operation_at):
            for index, _ in enumerate(self._at(owner).get("parameters", [])):
                at = self._deref_at(owner + ("parameters", index))
                parameter = self._at(at)
                declared[(parameter.get("name"), parameter.get("in"))] = at
        return [
            _Parameter(
                name=name,
                type=self._type(self._at(at).get("schema", {})),
                validator=self._validator_at(at + ("schema",)),
                asserts=bool(set(self._at(at + ("schema",))) - _ANNOTATIONS),
            )
            for (name, where), at in declared.items()
            if where == "query" and "schema" in self._at(at)
        ]

    # -- the public checks

    def validate_create(self, body: object) -> tuple[NewDownlink | None, list[Violation]]:
        """Check a parsed `POST /downlinks` body against C1-C5 (C9: fields the request
        schema does not declare, such as `id` or `status`, are ignored).

        Returns the normalized request and no violations, or None and every violation.
        """
        if not isinstance(body, dict):
            return None, [
                {
                    "pointer": "#",
                    "detail": f"the body must be a JSON object (a CreateDownlinkRequest),"
                    f" not {_json_type(body)}",
                }
            ]
        found: list[tuple[tuple[str | int, ...], str]] = []
        unfit, fatal = _unfit(
            ((name,), value) for name, value in body.items() if name in self._create_properties
        )
        found.extend(unfit)
        if fatal:
            return None, _violations(found)
        skip = {path for path, _ in unfit}

        broken: list[tuple[str | int, ...]] = []
        for error in self._create.iter_errors(body):
            leaf = leaf_error(error)
            path = tuple(leaf.absolute_path)
            broken.append(path)
            if path not in skip:
                found.append((path, error_detail(leaf)))
        broken.extend(skip)

        def intact(prefix: tuple[str | int, ...]) -> bool:
            return not any(path[: len(prefix)] == prefix for path in broken)

        report = None
        instruction = body.get("instruction")
        if isinstance(instruction, list):
            report = check_pack(instruction, understood=self._record_labels)
            found.extend((("instruction",) + issue.path, issue.detail) for issue in report.issues)

        feedback_timeout_ms = None
        timeout = body.get("feedbackTimeout")
        if isinstance(timeout, str) and intact(("feedbackTimeout",)):
            try:
                feedback_timeout_ms = parse_duration_ms(timeout)
            except ValueError as exc:
                found.append((("feedbackTimeout",), str(exc)))
            except OverflowError:
                found.append(
                    (("feedbackTimeout",), f"{show_value(timeout)} is too long a duration")
                )
            else:
                if feedback_timeout_ms < FEEDBACK_TIMEOUT_MIN_MS:
                    found.append(
                        (
                            ("feedbackTimeout",),
                            f"{show_value(timeout)} is shorter than 10 minutes: the feedback"
                            " timeout must be at least PT10M",
                        )
                    )

        method = body.get("method")
        if isinstance(method, dict) and method.get("protocol") == "LORA":
            port = method.get("fPort")
            if (
                intact(("method", "fPort"))
                and isinstance(port, (int, float))
                and not isinstance(port, bool)
                and int(port) not in LORA_PORTS  # 3.0 is an integer to JSON Schema
            ):
                found.append(
                    (
                        ("method", "fPort"),
                        f"the fPort {show_value(port)} is outside 1..223, the LoRaWAN "
                        "application ports",
                    )
                )

        if found or report is None or report.device is None:
            return None, _violations(found)

        fields = self._with_defaults(self._create_schema, body)
        request = NewDownlink(
            network_id=report.device,
            instruction=instruction,
            message=json.dumps(instruction, separators=(",", ":"), ensure_ascii=False),
            method=self._with_defaults(self._method_schema, method),
            external_reference=body.get("externalReference"),
            retry_limit=int(fields.get("retryLimit", 0)),
            feedback_timeout_ms=feedback_timeout_ms,
            dry_run=fields.get("dryRun", False) is True,
            parts=report.parts,
        )
        return request, []

    def schema_violations(self, name: str, instance: object, prefix: str = "#") -> list[Violation]:
        """Every violation of `instance` against `#/components/schemas/<name>`, as E2
        entries whose pointers start at `prefix` (e.g. "#/3" for the fourth record of M3)."""
        validator = self._schema_validators.get(name)
        if validator is None:
            validator = self._validator_at(("components", "schemas", name))
            self._schema_validators[name] = validator
        out: list[Violation] = []
        for error in validator.iter_errors(instance):
            leaf = leaf_error(error)
            pointer = json_pointer(tuple(leaf.absolute_path))
            out.append({"pointer": prefix + pointer[1:], "detail": error_detail(leaf)})
        return out

    def unknown_params(self, operation_id: str, names: Iterable[str]) -> list[Violation]:
        """A violation for each query parameter the operation does not declare, naming the
        ones it does (a typo such as `createdAfter` would otherwise select everything)."""
        known = [p.name for p in self._parameters[operation_id]]
        allowed = ", ".join(known) if known else "none"
        return [
            {
                "parameter": name,
                "detail": f"unknown query parameter; this operation takes {allowed}",
            }
            for name in names
            if name not in known
        ]

    def coerce_params(
        self, operation_id: str, params: Mapping[str, str]
    ) -> tuple[dict[str, object], list[Violation]]:
        """Coerce the query parameters the operation declares to their schema types and
        validate them against their schemas. Undeclared parameters are ignored; defaults
        are not filled in; date-times are left as strings (L2 parses them).

        Integers are an optional ``-`` and ASCII digits, booleans exactly ``true`` or
        ``false`` (X5). A parameter given more than once (when `params` is a multi-dict
        with `getlist`) is a violation: the spec declares each as a single value.
        """
        try:
            declared = self._parameters[operation_id]
        except KeyError:
            raise KeyError(f"the OpenAPI document has no operation {operation_id!r}") from None
        values: dict[str, object] = {}
        violations: list[Violation] = []
        getlist = getattr(params, "getlist", None)
        for parameter in declared:
            name = parameter.name
            if name not in params:
                continue
            if getlist is not None and len(getlist(name)) > 1:
                violations.append({"parameter": name, "detail": "is given more than once"})
                continue
            try:
                value = _coerce(params[name], parameter.type)
            except ValueError as exc:
                violations.append({"parameter": name, "detail": str(exc)})
                continue
            details = (
                [error_detail(leaf_error(e)) for e in parameter.validator.iter_errors(value)]
                if parameter.asserts
                else []
            )
            if details:
                violations.extend({"parameter": name, "detail": d} for d in details)
            else:
                values[name] = value
        return values, violations


def _coerce(text: str, kind: str | None) -> object:
    """A query string value as the JSON type its schema declares. ValueError if it is not."""
    if kind == "integer":
        if not _INTEGER.fullmatch(text):
            raise ValueError(
                f"{show_value(text)} is not an integer: write digits, with a leading - if negative"
            )
        limit = getattr(sys, "get_int_max_str_digits", lambda: 0)()
        if limit and len(text.lstrip("-")) > limit:
            raise ValueError(f"the integer has more than {limit} digits")
        return int(text)
    if kind == "number":
        if not _NUMBER.fullmatch(text):
            raise ValueError(f"{show_value(text)} is not a number")
        number = float(text) if any(c in text for c in ".eE") else int(text)
        if isinstance(number, float) and not math.isfinite(number):
            raise ValueError(f"{show_value(text)} is too large a number")
        return number
    if kind == "boolean":
        if text == "true":
            return True
        if text == "false":
            return False
        raise ValueError(f"{show_value(text)} is not a boolean: write true or false")
    return text


def _violations(found: list[tuple[tuple[str | int, ...], str]]) -> list[Violation]:
    """Render (path, detail) pairs as E2 entries, without repeats, in the order found."""
    out: list[Violation] = []
    seen: set[tuple[str, str]] = set()
    for path, detail in found:
        pointer = json_pointer(path)
        if (pointer, detail) not in seen:
            seen.add((pointer, detail))
            out.append({"pointer": pointer, "detail": detail})
    return out


@lru_cache(maxsize=8)
def _load(path: Path) -> Spec:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the OpenAPI document {path}: {exc}") from exc
    if not isinstance(document, dict):
        raise ValueError(f"the OpenAPI document {path} is not a JSON object")
    return Spec(document, uri=path.as_uri())


def load_spec(path: Path | None = None) -> Spec:
    """The compiled spec of the OpenAPI document at `path` (default:
    `config.OPENAPI_PATH`), read once per path."""
    return _load(Path(path if path is not None else config.OPENAPI_PATH).resolve())
