"""Control-plane requests read and checked against the control plane's OpenAPI document.

Every `/__mock/` handler starts with `parse(request, operationId)`: the query, path
parameters and JSON body are validated by the same validator as the public API, and every
violation of all three is reported in one 400 problem+json (E2). Handlers then apply only
the rules across fields that a schema cannot state.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from mock_server.http.api import read_json_body
from mock_server.http.problems import BadRequest, Violation
from mock_server.mock import Mock
from mock_server.openapi.control import body_schema, control_spec

__all__ = ["Parsed", "parse", "mock_of", "json_response", "reject", "CHUNK", "SLICEABLE"]

CHUNK = 256
"""Records checked (and made) between two turns of the event loop: a big seed (M3) takes
a while, but other requests are answered in between."""


@dataclass(frozen=True)
class Parsed:
    """A control-plane request, valid against its operation: coerced values."""

    query: dict[str, Any] = field(default_factory=dict)
    path: dict[str, Any] = field(default_factory=dict)
    body: Any = None


async def mock_of(request: Request) -> Mock:
    """The running mock, with what has fallen due fired first (T3)."""
    mock: Mock = request.app.state.mock
    await mock.state.sync()
    return mock


def json_response(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def reject(detail: str, errors: list[Violation]) -> BadRequest:
    """The 400 for `errors`; `detail` says what was refused, and that nothing changed."""
    return BadRequest(f"{detail} ({len(errors)} problem(s)); nothing changed", errors=errors)


async def parse(
    request: Request, operation_id: str, *, body_limit: int | None = None, body: bool = True
) -> Parsed:
    """The request's parameters and JSON body, checked against `operation_id`.

    The body is read when the operation takes one, unless `body` is False (for a handler
    that reads other media types itself): 415 unless JSON, 413 over the limit, 400 if
    malformed. BadRequest names every violation of parameters and body at once. An array
    body is checked CHUNK items at a time, with the event loop free in between.
    """
    spec = control_spec()
    query, errors = spec.check_query(operation_id, request.query_params.multi_items())
    path, invalid = spec.coerce_path(operation_id, request.path_params)
    errors += invalid
    value: Any = None
    if body and spec.has_body(operation_id):
        mock: Mock = request.app.state.mock
        value = await read_json_body(request, body_limit or mock.config.body_limit)
        errors += await _body_violations(operation_id, value)
    if errors:
        raise reject("the request is invalid", errors)
    return Parsed(query=query, path=path, body=value)


# What an array body's schema may say of the array as a whole, for `_body_violations` to
# check in slices: `type` and `maxItems` are checked on the whole, `items` slice by slice.
SLICEABLE = frozenset({"type", "maxItems", "items", "description"})


async def _body_violations(operation_id: str, value: Any) -> list[Violation]:
    """`body_violations` of `value`; an array in slices of CHUNK items, with the event loop
    free in between, pointers moved back to the whole array's indexes.

    Sound for an array schema that says no more than `SLICEABLE` (the seeding bodies:
    a test keeps them so): `maxItems` is checked first, on the whole array.
    """
    spec = control_spec()
    schema = body_schema(operation_id)
    if not isinstance(value, list) or len(value) <= CHUNK or set(schema) - SLICEABLE:
        return spec.body_violations(operation_id, value)
    most = schema.get("maxItems")
    if most is not None and len(value) > most:
        return [{"pointer": "#", "detail": f"{len(value)} items: at most {most} a request"}]
    errors: list[Violation] = []
    for start in range(0, len(value), CHUNK):
        await asyncio.sleep(0)  # let other requests in between slices
        for error in spec.body_violations(operation_id, value[start : start + CHUNK]):
            pointer = error.get("pointer")
            if pointer is not None and pointer.startswith("#/"):
                index = pointer[2:].split("/", 1)[0]
                if index.isdigit():
                    moved = f"#/{int(index) + start}{pointer[2 + len(index) :]}"
                    error = {**error, "pointer": moved}
            errors.append(error)
    return errors
