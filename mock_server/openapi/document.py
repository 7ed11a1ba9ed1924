"""An OpenAPI 3.1 document as the one source of request shapes: parameters coerced and
validated, JSON bodies validated, every violation reported at once (E2).

One `Document` serves any OpenAPI document: the public `openapi.json` (`Spec` adds its
create-request reader) and the control plane's `control.openapi.yaml`. Everything comes
from the document: schemas, `$ref`s, defaults, patterns, bounds and the discriminator's
mapping. Validation is `mock_server.openapi.validation` (JSON Schema Draft 2020-12, as
OpenAPI 3.1 uses it, discriminator-aware).

Violations are ``{"pointer": ..., "detail": ...}`` for a body, the pointer an RFC 6901
JSON Pointer written as a URI fragment (``#/method/fPort``, ``#`` for the body; see
`json_pointer`), and ``{"parameter": ..., "detail": ...}`` for a query or path parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import FormatChecker  # type: ignore[import-untyped]
from jsonschema.protocols import Validator  # type: ignore[import-untyped]
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from mock_server.http.problems import Violation
from mock_server.openapi.validation import (
    OpenApiValidator,
    error_detail,
    json_pointer,
    leaf_error,
    validator_class,
)
from mock_server.openapi.values import KeyPath, coerce, unfit_values, violations

__all__ = ["Document", "KeyPath", "json_pointer"]


_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


# Schema keywords that assert nothing about a coerced value (2020-12: `format` annotates,
# unless the document is given a checker for it).
_ANNOTATIONS = frozenset(
    {"type", "format", "example", "examples", "default", "description", "title", "deprecated"}
)


@dataclass(frozen=True, slots=True)
class _Parameter:
    """A query or path parameter as the document declares it."""

    name: str
    type: str | None  # the JSON type its string is coerced to
    validator: Validator
    asserts: bool  # whether the schema says more than its type (which coercion ensures)


# -- the document ----------------------------------------------------------------------


class Document:
    """An OpenAPI document, compiled once: for each operation its query and path
    parameters and its JSON body, each with a validator.

    `resources` are further JSON Schemas (by URI) the document's `$ref`s, or schemas
    validated with `validator_for`, may point into. `formats` turns `format` keywords into
    assertions: name -> a parser that raises ValueError with a readable reason (JSON
    Schema 2020-12 leaves `format` an annotation otherwise).
    """

    document: dict[str, Any]

    def __init__(
        self,
        document: dict[str, Any],
        *,
        uri: str,
        resources: Mapping[str, Any] | None = None,
        formats: Mapping[str, Callable[[str], object]] | None = None,
    ) -> None:
        self.document = document
        self.uri = uri
        registry: Registry[Any] = Registry().with_resource(
            uri, DRAFT202012.create_resource(document)
        )
        for extra_uri, schema in (resources or {}).items():
            registry = registry.with_resource(extra_uri, DRAFT202012.create_resource(schema))
        self._registry = registry.crawl()
        self._resolver = self._registry.resolver(base_uri=uri)
        # Further resources move the base URI: their `$ref`s cannot be resolved once for all.
        self._validator_class = (
            OpenApiValidator if resources else validator_class(document, self._resolver)
        )
        self._formats = frozenset(formats or ())
        self._format_checker: FormatChecker | None = None
        if formats:
            checker = FormatChecker(())
            for name, parse in formats.items():
                checker.checks(name, raises=ValueError)(parse)
            self._format_checker = checker
        self._schema_validators: dict[str, Validator] = {}
        self.operations = self._operations()
        self._query = {op: self._parameters(at, "query") for op, at in self.operations.items()}
        # Per operation, its query parameters' names and the list an unknown one is told.
        self._known_query = {
            op: (frozenset(p.name for p in declared), ", ".join(p.name for p in declared) or "none")
            for op, declared in self._query.items()
        }
        self._path = {op: self._parameters(at, "path") for op, at in self.operations.items()}
        self._bodies = {
            op: self._validator_at(body_at)
            for op, at in self.operations.items()
            if (body_at := self._json_body_at(at)) is not None
        }

    # -- reading the document

    def at(self, path: KeyPath) -> Any:
        """The value at `path` from the document's root, through `$ref`s on the way."""
        return self._resolver.lookup(json_pointer(path)).contents

    def lookup(self, ref: str) -> Any:
        """The value a `$ref` names."""
        return self._resolver.lookup(ref).contents

    def deref_at(self, path: KeyPath) -> KeyPath:
        """Follow local `$ref`s from `path` to where the object really is."""
        target = self.at(path)
        seen = 0
        while isinstance(target, dict) and isinstance(target.get("$ref"), str) and seen < 32:
            ref = target["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"only local references are supported, not {ref!r}")
            path = tuple(part.replace("~1", "/").replace("~0", "~") for part in ref[2:].split("/"))
            target = self.at(path)
            seen += 1
        return path

    def validator_for(self, ref: str) -> Validator:
        """A validator for the schema `ref` names: a URI with a fragment, or a pointer
        (``#/components/schemas/X``) into this document."""
        target = self.uri + ref if ref.startswith("#") else ref
        return self._validator_class(
            {"$ref": target}, registry=self._registry, format_checker=self._format_checker
        )

    def _validator_at(self, path: KeyPath) -> Validator:
        return self.validator_for(json_pointer(path))

    def expand(self, schema: Any) -> Iterator[dict[str, Any]]:
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
                pulled.insert(0, self.lookup(current["$ref"]))
            stack.extend(reversed(pulled))

    def _type(self, schema: Any) -> str | None:
        for part in self.expand(schema):
            kind = part.get("type")
            if isinstance(kind, str):
                return kind
            if isinstance(kind, list):
                return next((k for k in kind if k != "null"), None)
        return None

    def _operations(self) -> dict[str, KeyPath]:
        """operationId -> where the operation sits in the document."""
        found: dict[str, KeyPath] = {}
        for route, item in self.document.get("paths", {}).items():
            if not isinstance(item, dict):
                continue
            for method in _HTTP_METHODS:
                operation = item.get(method)
                if isinstance(operation, dict) and isinstance(operation.get("operationId"), str):
                    found[operation["operationId"]] = ("paths", route, method)
        return found

    def _json_body_at(self, operation_at: KeyPath) -> KeyPath | None:
        """Where the operation's JSON request body schema sits, if it has one."""
        if "requestBody" not in self.at(operation_at):
            return None
        body_at = self.deref_at(operation_at + ("requestBody",))
        content = self.at(body_at).get("content", {})
        if "schema" not in content.get("application/json", {}):
            return None
        return body_at + ("content", "application/json", "schema")

    def _asserts(self, schema: Any) -> bool:
        if set(schema) - _ANNOTATIONS:
            return True
        return schema.get("format") in self._formats

    def _parameters(self, operation_at: KeyPath, where: str) -> list[_Parameter]:
        """The operation's parameters `in` `where`, path-level ones overridden by its own."""
        declared: dict[tuple[str, str], KeyPath] = {}
        for owner in (operation_at[:-1], operation_at):
            for index, _ in enumerate(self.at(owner).get("parameters", [])):
                at = self.deref_at(owner + ("parameters", index))
                parameter = self.at(at)
                declared[(parameter.get("name"), parameter.get("in"))] = at
        return [
            _Parameter(
                name=name,
                type=self._type(self.at(at).get("schema", {})),
                validator=self._validator_at(at + ("schema",)),
                asserts=self._asserts(self.at(at + ("schema",))),
            )
            for (name, kind), at in declared.items()
            if kind == where and "schema" in self.at(at)
        ]

    # -- the checks

    def has_body(self, operation_id: str) -> bool:
        """Whether the operation takes a JSON request body."""
        return operation_id in self._bodies

    def body_violations(self, operation_id: str, body: object) -> list[Violation]:
        """Every violation of a parsed JSON body against the operation's request body
        schema (E2). KeyError if the operation takes no JSON body."""
        try:
            validator = self._bodies[operation_id]
        except KeyError:
            raise KeyError(f"the operation {operation_id!r} takes no JSON body") from None
        found, fatal = unfit_values([((), body)])
        if fatal:
            return violations(found)
        skip = {path for path, _ in found}
        for error in validator.iter_errors(body):
            leaf = leaf_error(error)
            path = tuple(leaf.absolute_path)
            if path not in skip:
                found.append((path, error_detail(leaf)))
        return violations(found)

    def schema_violations(self, name: str, instance: object, prefix: str = "#") -> list[Violation]:
        """Every violation of `instance` against `#/components/schemas/<name>`, as E2
        entries whose pointers start at `prefix` (e.g. "#/3" for the fourth record)."""
        validator = self._schema_validators.get(name)
        if validator is None:
            validator = self._validator_at(("components", "schemas", name))
            self._schema_validators[name] = validator
        found = [
            (tuple(leaf.absolute_path), error_detail(leaf))
            for leaf in map(leaf_error, validator.iter_errors(instance))
        ]
        return violations(found, prefix)

    def unknown_params(self, operation_id: str, names: Iterable[str]) -> list[Violation]:
        """A violation for each query parameter the operation does not declare, naming the
        ones it does (a typo such as `createdAfter` would otherwise select everything)."""
        known, allowed = self._known_query[operation_id]
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
        are not filled in; date-times are left as strings.

        Integers are an optional ``-`` and ASCII digits, booleans exactly ``true`` or
        ``false`` (X5). A parameter given more than once (when `params` is a multi-dict
        with `getlist`) is a violation: the document declares each as a single value.
        """
        try:
            declared = self._query[operation_id]
        except KeyError:
            raise KeyError(f"the OpenAPI document has no operation {operation_id!r}") from None
        return self._coerce_all(declared, params)

    def coerce_path(
        self, operation_id: str, params: Mapping[str, str]
    ) -> tuple[dict[str, object], list[Violation]]:
        """`coerce_params` for the operation's path parameters."""
        try:
            declared = self._path[operation_id]
        except KeyError:
            raise KeyError(f"the OpenAPI document has no operation {operation_id!r}") from None
        return self._coerce_all(declared, params)

    def check_query(
        self, operation_id: str, items: list[tuple[str, str]]
    ) -> tuple[dict[str, object], list[Violation]]:
        """The query string's (name, value) pairs, all at once: each parameter given at most
        once, only declared ones, each coerced and valid."""
        raw = dict(items)
        errors = self.unknown_params(operation_id, raw)
        if len(raw) != len(items):
            counts: dict[str, int] = {}
            for name, _ in items:
                counts[name] = counts.get(name, 0) + 1
            errors += [
                {"parameter": name, "detail": "is given more than once"}
                for name, n in counts.items()
                if n > 1
            ]
            raw = {name: value for name, value in raw.items() if counts[name] == 1}
        values, invalid = self.coerce_params(operation_id, raw)
        return values, errors + invalid

    def _coerce_all(
        self, declared: list[_Parameter], params: Mapping[str, str]
    ) -> tuple[dict[str, object], list[Violation]]:
        values: dict[str, object] = {}
        found: list[Violation] = []
        getlist = getattr(params, "getlist", None)
        for parameter in declared:
            name = parameter.name
            if name not in params:
                continue
            if getlist is not None and len(getlist(name)) > 1:
                found.append({"parameter": name, "detail": "is given more than once"})
                continue
            try:
                value = coerce(params[name], parameter.type)
            except ValueError as exc:
                found.append({"parameter": name, "detail": str(exc)})
                continue
            details = (
                [error_detail(leaf_error(e)) for e in parameter.validator.iter_errors(value)]
                if parameter.asserts
                else []
            )
            if details:
                found.extend({"parameter": name, "detail": d} for d in details)
            else:
                values[name] = value
        return values, found
