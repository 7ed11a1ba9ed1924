"""JSON Schema validation as OpenAPI 3.1 means it, with violations a reader can act on.

Validation is JSON Schema Draft 2020-12 (what OpenAPI 3.1 uses) with two changes:

- A schema with a `discriminator` and a `oneOf` (or `anyOf`) validates an object against
  the one variant that ``mapping[object[propertyName]]`` names, as OpenAPI prescribes.
  Plain `oneOf` would refuse every valid `method`, since each variant accepts any object
  with a `protocol`. A missing property is reported at that property; an unknown value is
  reported with the values allowed (the mapping's keys plus the implicit schema names).
- A missing required property is reported at the property itself (``#/instruction``),
  not at the object that lacks it; so is a property `additionalProperties: false` does
  not allow, and a property name `propertyNames` refuses.

An error's place is an RFC 6901 JSON Pointer written as a URI fragment (`json_pointer`:
``#/method/fPort``, ``#`` for the whole instance), with ``~`` and ``/`` escaped as ``~0``
and ``~1`` and the characters a fragment cannot hold percent-encoded (RFC 6901 section 6).
What is wrong is `error_detail` of its `leaf_error`: readable, and never the whole value.
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from jsonschema import Draft202012Validator, ValidationError  # type: ignore[import-untyped]
from jsonschema.exceptions import relevance  # type: ignore[import-untyped]
from jsonschema.protocols import Validator  # type: ignore[import-untyped]
from jsonschema.validators import extend  # type: ignore[import-untyped]

from mock_server.domain.timefmt import DURATION_HINT

if TYPE_CHECKING:  # `referencing` exports no Resolver; only its type is needed
    from referencing._core import Resolver

__all__ = [
    "OpenApiValidator",
    "validator_class",
    "discriminator_variants",
    "leaf_error",
    "error_detail",
    "json_pointer",
    "show_value",
]

# What a URI fragment may hold besides letters, digits and -._~ (RFC 3986 `fragment`).
_FRAGMENT_SAFE = "!$&'()*+,;=:@/?"

# Days alone ("P1D"): the spec's SimpleDuration pattern wants "P1DT"; the detail says so.
_DAYS_ONLY = re.compile(r"P([0-9]+)D", re.ASCII)

_short = reprlib.Repr()
_short.maxstring = 60
_short.maxother = 60
_short.maxlong = 40


def show_value(value: object) -> str:
    """A value for a detail: short, so a megabyte string does not end up in an answer."""
    return _short.repr(value)


def json_pointer(path: Iterable[str | int]) -> str:
    """An RFC 6901 JSON Pointer as a URI fragment: ``("method", "fPort")`` -> ``#/method/fPort``."""
    return "#" + "".join(
        "/"
        + quote(
            str(segment).replace("~", "~0").replace("/", "~1"),
            safe=_FRAGMENT_SAFE,
            errors="surrogatepass",
        )
        for segment in path
    )


# -- the validator: Draft 2020-12, discriminator-aware --------------------------------


def discriminator_variants(
    discriminator: Mapping[str, Any], subschemas: list[Any]
) -> dict[str, tuple[int | str, Any]]:
    """The discriminator's values and, for each, where the variant sits and its schema.

    Explicit `mapping` entries first (a value may be a reference or a bare schema name),
    then the implicit ones: each `$ref` variant the mapping does not name, by its name.
    """
    at_ref = {
        sub["$ref"]: index
        for index, sub in enumerate(subschemas)
        if isinstance(sub, dict) and isinstance(sub.get("$ref"), str)
    }
    choices: dict[str, tuple[int | str, Any]] = {}
    mapped: set[str] = set()
    mapping = discriminator.get("mapping")
    if isinstance(mapping, dict):
        for value, target in mapping.items():
            if not isinstance(target, str):
                continue
            ref = target if "/" in target or "#" in target else f"#/components/schemas/{target}"
            mapped.add(ref)
            index = at_ref.get(ref)
            choices[value] = (
                (index, subschemas[index]) if index is not None else (value, {"$ref": ref})
            )
    for ref, index in at_ref.items():
        if ref not in mapped:
            choices.setdefault(ref.rsplit("/", 1)[-1], (index, subschemas[index]))
    return choices


def _discriminating(plain: Any) -> Any:
    """Wrap the `oneOf`/`anyOf` keyword so a sibling `discriminator` picks the variant."""

    def keyword(
        validator: Validator, subschemas: list[Any], instance: Any, schema: Mapping[str, Any]
    ) -> Iterator[ValidationError]:
        discriminator = schema.get("discriminator")
        if not isinstance(discriminator, dict) or not isinstance(
            discriminator.get("propertyName"), str
        ):
            yield from plain(validator, subschemas, instance, schema)
            return
        if not validator.is_type(instance, "object"):
            if "type" not in schema:  # else `type` reports it
                yield ValidationError(f"{show_value(instance)} is not of type 'object'")
            return
        name = discriminator["propertyName"]
        choices = discriminator_variants(discriminator, subschemas)
        if name not in instance:
            yield ValidationError(
                f"{name!r} is a required property: one of {', '.join(choices)}",
                validator="discriminator",
                validator_value=list(choices),
                path=(name,),
            )
            return
        tag = instance[name]
        chosen = choices.get(tag) if isinstance(tag, str) else None
        if chosen is None:
            yield ValidationError(
                f"{show_value(tag)} is not a known {name}: use one of {', '.join(choices)}",
                validator="discriminator",
                validator_value=list(choices),
                instance=tag,
                path=(name,),
            )
            return
        index, variant = chosen
        yield from validator.descend(instance, variant, schema_path=index)

    return keyword


def _required(
    validator: Validator, required: list[str], instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """`required`, reported at the missing property rather than at its parent."""
    if not validator.is_type(instance, "object"):
        return
    for name in required:
        if name not in instance:
            yield ValidationError(f"{name!r} is a required property", path=(name,))


def _additional_properties(
    validator: Validator, allowed: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """`additionalProperties`, with each property it refuses reported at that property."""
    if allowed is not False or not validator.is_type(instance, "object"):
        yield from _PLAIN["additionalProperties"](validator, allowed, instance, schema)
        return
    known = schema.get("properties", {})
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    names = ", ".join(known) if known else "none"
    for name in instance:
        if name in known or any(p.search(name) for p in patterns):
            continue
        yield ValidationError(
            f"{show_value(name)} is not a known property; this object takes {names}",
            path=(name,),
        )


def _property_names(
    validator: Validator, names: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """`propertyNames`, with each name it refuses reported at that property."""
    if not validator.is_type(instance, "object"):
        return
    for name in instance:
        for error in validator.descend(instance=name, schema=names):
            error.path.appendleft(name)
            yield error


_PLAIN = Draft202012Validator.VALIDATORS
OpenApiValidator = extend(
    Draft202012Validator,
    validators={
        "oneOf": _discriminating(_PLAIN["oneOf"]),
        "anyOf": _discriminating(_PLAIN["anyOf"]),
        "required": _required,
        "additionalProperties": _additional_properties,
        "propertyNames": _property_names,
    },
)
"""Draft 2020-12 with the changes above: `discriminator` picks the variant, and a missing,
unknown or badly named property is reported at the property."""


def leaf_error(error: ValidationError) -> ValidationError:
    """The error that says what is wrong: inside a failed oneOf/anyOf, its best branch."""
    while error.context:
        error = min(error.context, key=relevance)
    return error


def error_detail(error: ValidationError) -> str:
    """A readable, bounded detail for one schema error."""
    keyword, expected, value = error.validator, error.validator_value, error.instance
    # A schema may say in words what it wants (`errorMessage`, as the scenario schema does).
    for schema in (error.schema, error.parent.schema if error.parent is not None else None):
        if isinstance(schema, dict) and isinstance(schema.get("errorMessage"), str):
            return f"{show_value(value)} is not valid here: {schema['errorMessage']}"
    if keyword == "type":
        kinds = [expected] if isinstance(expected, str) else list(expected)
        return f"{show_value(value)} is not of type {' or '.join(map(repr, kinds))}"
    if keyword == "pattern":
        schema = error.schema if isinstance(error.schema, dict) else {}
        if schema.get("format") == "duration" and isinstance(value, str):
            days = _DAYS_ONLY.fullmatch(value)
            hint = (
                f"write P{days[1]}DT or PT{int(days[1]) * 24}H instead" if days else DURATION_HINT
            )
            return f"{show_value(value)} is not a SimpleDuration as the spec writes it: {hint}"
        hint = f" ({schema['description']})" if isinstance(schema.get("description"), str) else ""
        return f"{show_value(value)} does not match the pattern {expected!r}{hint}"
    bounds = {
        "minimum": "is less than the minimum of",
        "maximum": "is greater than the maximum of",
        "exclusiveMinimum": "is less than or equal to the minimum of",
        "exclusiveMaximum": "is greater than or equal to the maximum of",
    }
    if keyword in bounds:
        return f"{show_value(value)} {bounds[keyword]} {expected!r}"
    if keyword == "minLength":
        if expected == 1:
            return f"{show_value(value)} is empty: give at least one character"
        return f"{show_value(value)} is shorter than {expected} characters"
    if keyword == "maxLength":
        return f"{show_value(value)} is longer than {expected} characters"
    if keyword == "enum":
        return f"{show_value(value)} is not one of {', '.join(map(repr, expected))}"
    if keyword == "const":
        return f"{show_value(value)} is not {expected!r}"
    if keyword in ("minProperties", "maxProperties"):
        fewer = "fewer" if keyword == "minProperties" else "more"
        schema = error.schema if isinstance(error.schema, dict) else {}
        hint = f": {schema['description']}" if isinstance(schema.get("description"), str) else ""
        return f"the object has {fewer} than {expected} members{hint}"
    if keyword == "format" and error.cause is not None:
        return str(error.cause)
    if keyword == "minItems":
        return f"the array has fewer than {expected} items"
    if keyword == "maxItems":
        return f"the array has more than {expected} items"
    message = str(error.message)
    return message if len(message) <= 300 else message[:297] + "..."


def _has_id(document: Any) -> bool:
    """Whether some schema in `document` sets `$id` (and so moves the base URI)."""
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("$id"), str):
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


# What a schema may hold besides `type: string` and length bounds and still be checked by
# the bounds alone: annotations, which never fail.
_STRING_ONLY = frozenset(
    {"type", "minLength", "maxLength", "title", "description", "example", "examples"}
)


def _string_lengths(schema: Any) -> tuple[int, float] | None:
    """(minLength, maxLength) of a schema that says only "a string of this length",
    else None."""
    if not isinstance(schema, dict) or schema.get("type") != "string" or set(schema) - _STRING_ONLY:
        return None
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    if type(low) is not int or (high is not None and type(high) is not int):
        return None  # bounds written otherwise (1.0, true): the full check reads them
    return low, float("inf") if high is None else high


def validator_class(document: Any, resolver: Resolver[Any]) -> Any:
    """`OpenApiValidator` for `document`, whose `$ref`s `resolver` resolves.

    With no `$id` anywhere in the document the base URI never changes, so each `$ref`
    always lands in one place and is resolved once (resolving on every request costs a
    third of a validation).
    """
    if _has_id(document):
        return OpenApiValidator
    targets: dict[str, Any] = {}
    # For each `$ref` whose target only bounds a string's length: (minLength, maxLength).
    lengths: dict[str, tuple[int, float] | None] = {}

    def ref(
        validator: Validator, ref: str, instance: Any, schema: Mapping[str, Any]
    ) -> Iterator[ValidationError]:
        target = targets.get(ref)
        if target is None:
            target = targets[ref] = resolver.lookup(ref)
            lengths[ref] = _string_lengths(target.contents)
        bounds = lengths[ref]
        if bounds is not None and isinstance(instance, str):
            # A string within the bounds passes such a schema: nothing to descend into
            # (a query parameter like `q` is checked on every request that has it).
            if bounds[0] <= len(instance) <= bounds[1]:
                return
        yield from validator.descend(instance, target.contents, resolver=target.resolver)

    return extend(OpenApiValidator, validators={"$ref": ref})
