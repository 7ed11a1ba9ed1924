"""A `$ref` to a schema that only bounds a string's length (as `q`'s does) is checked by
the bounds alone when they hold; the errors are the full validator's either way (E2)."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.openapi.document import Document

SCHEMAS: dict[str, Any] = {
    "Q": {"type": "string", "minLength": 1, "example": "abc"},
    "Short": {"type": "string", "maxLength": 3, "description": "at most three"},
    "Both": {"type": "string", "minLength": 2, "maxLength": 4},
    "Pattern": {"type": "string", "minLength": 1, "pattern": "^a"},
    "Float": {"type": "string", "minLength": 1.0},
    "Dated": {"type": "string", "minLength": 1, "format": "date-time"},
}
VALUES: list[Any] = ["", "a", "ab", "abcd", "abcde", "bcd", "é" * 3, "\U0001f600" * 4, 5, None, []]


def _document() -> dict[str, Any]:
    return {"openapi": "3.1.0", "paths": {}, "components": {"schemas": SCHEMAS}}


def _errors(document: Document, name: str, value: Any) -> list[tuple[str, str]]:
    validator = document.validator_for(f"#/components/schemas/{name}")
    return sorted((e.validator, e.message) for e in validator.iter_errors(value))


@pytest.mark.rule("E2")
@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_e2_length_bounds_check_agrees_with_the_full_validator(name):
    fast = Document(_document(), uri="urn:test:lengths")
    # Another resource moves the base URI: that document takes the plain validator.
    plain = Document(_document(), uri="urn:test:lengths", resources={"urn:other": {}})
    for value in VALUES:
        assert _errors(fast, name, value) == _errors(plain, name, value), (name, value)


@pytest.mark.rule("E2")
def test_e2_q_empty_is_still_refused():
    from mock_server.openapi.spec import load_spec

    values, errors = load_spec().check_query("searchDownlinks", [("q", "")])
    assert "q" not in values
    assert [e["parameter"] for e in errors] == ["q"]
    values, errors = load_spec().check_query("searchDownlinks", [("q", "x")])
    assert values == {"q": "x"} and errors == []
