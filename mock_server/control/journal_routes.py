"""Control-plane routes for the request journal (M7) and fault injection (M8)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.control.faults import MAX_LATENCY_MS
from mock_server.control.journal import parse_filter
from mock_server.http.api import read_json_body
from mock_server.mock import Mock

__all__ = ["routes", "OPENAPI_PATHS"]


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


async def requests(request: Request) -> Response:
    """M7: the journal, oldest first, filtered (GET); or empty it (DELETE)."""
    mock: Mock = request.app.state.mock
    if request.method == "DELETE":
        mock.journal.clear()
        return Response(status_code=204)
    where = parse_filter(request.query_params.multi_items())
    return _json(mock.journal.to_json(where))


async def faults(request: Request) -> Response:
    """M8: add a fault (POST, 201), list them (GET), or remove them all (DELETE)."""
    mock: Mock = request.app.state.mock
    if request.method == "POST":
        body = await read_json_body(request, mock.config.body_limit)
        fault = mock.faults.add(body)
        return _json(fault.to_json(), 201)
    if request.method == "DELETE":
        mock.faults.clear()
        return Response(status_code=204)
    return _json([fault.to_json() for fault in mock.faults.list()])


async def fault(request: Request) -> Response:
    """M8: remove one fault; 404 when no fault has that id."""
    mock: Mock = request.app.state.mock
    mock.faults.remove(request.path_params["faultId"])
    return Response(status_code=204)


routes = [
    Route("/__mock/requests", requests, methods=["GET", "DELETE"]),
    Route("/__mock/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/__mock/faults/{faultId}", fault, methods=["DELETE"]),
]

# -- the control plane's OpenAPI for these routes -------------------------------------

_PROBLEM = {"$ref": "#/components/schemas/Problem"}
_ERR = {"description": "Problem", "content": {"application/problem+json": {"schema": _PROBLEM}}}
_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
_BODY = {"description": "JSON when it parses, else text; null when empty"}
_MESSAGE = {
    "type": "object",
    "required": ["headers", "body"],
    "properties": {
        "headers": _STRINGS,
        "body": _BODY,
        "bodyTruncated": {"type": "boolean"},
        "bodySize": {"type": "integer"},
    },
}
_ENTRY = {
    "type": "object",
    "required": ["seq", "time", "durationMs", "method", "path", "query", "status"],
    "properties": {
        "seq": {"type": "integer", "description": "increasing from 1; a clear does not restart it"},
        "time": {"type": "string", "format": "date-time", "description": "the mock's clock"},
        "durationMs": {"type": "number"},
        "method": {"type": "string"},
        "path": {"type": "string"},
        "query": {"type": "string", "description": "the raw query string"},
        "status": {"type": ["integer", "null"], "description": "null: dropped (a fault)"},
        "request": {
            "allOf": [
                _MESSAGE,
                {
                    "properties": {
                        "client": {
                            "type": ["string", "null"],
                            "description": "the token's client_id (or sub); the token "
                            "itself is redacted",
                        }
                    }
                },
            ]
        },
        "response": _MESSAGE,
        "downlinkId": {"type": ["string", "null"], "description": "the downlink a create made"},
        "progression": {
            "type": ["string", "null"],
            "description": "the progression the created downlink got (S4)",
        },
        "fault": {"type": ["string", "null"], "description": "the id of the fault applied"},
    },
}
_FAULT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]},
        "path": {"type": "string", "pattern": "^/", "default": "/*", "description": "a glob"},
        "query": {**_STRINGS, "description": "pairs that must be in the request's query"},
        "latencyMs": {
            "oneOf": [
                {"type": "integer", "minimum": 0, "maximum": MAX_LATENCY_MS},
                {
                    "type": "object",
                    "required": ["min", "max"],
                    "additionalProperties": False,
                    "properties": {
                        "min": {"type": "integer", "minimum": 0, "maximum": MAX_LATENCY_MS},
                        "max": {"type": "integer", "minimum": 0, "maximum": MAX_LATENCY_MS},
                    },
                },
            ]
        },
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "type": {"type": "string"},
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "headers": _STRINGS,
        "drop": {"type": "boolean", "default": False},
        "times": {"type": "integer", "minimum": 1},
        "probability": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "seed": {"type": "integer"},
    },
}
_FAULT_OUT = {
    "type": "object",
    "required": ["id", "applied"],
    "properties": {
        "id": {"type": "string"},
        "applied": {"type": "integer"},
        "remaining": {"type": ["integer", "null"]},
    },
}
_FILTERS = [
    {"name": "method", "in": "query", "schema": {"type": "string"}, "description": "GET,POST"},
    {"name": "path", "in": "query", "schema": {"type": "string"}, "description": "exact or glob"},
    {"name": "status", "in": "query", "schema": {"type": "string"}, "description": "404 or 4xx"},
    {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
    {"name": "before", "in": "query", "schema": {"type": "string", "format": "date-time"}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}},
]

OPENAPI_PATHS: dict[str, Any] = {
    "/__mock/requests": {
        "get": {
            "operationId": "readJournal",
            "summary": "M7: the journal of public requests and answers, oldest first",
            "parameters": _FILTERS,
            "responses": {
                "200": {
                    "description": "The matching entries",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["items", "capacity", "evicted"],
                                "properties": {
                                    "items": {"type": "array", "items": _ENTRY},
                                    "capacity": {"type": "integer"},
                                    "evicted": {"type": "integer"},
                                },
                            }
                        }
                    },
                },
                "400": _ERR,
            },
        },
        "delete": {
            "operationId": "clearJournal",
            "summary": "M7: empty the journal",
            "responses": {"204": {"description": "Emptied"}},
        },
    },
    "/__mock/faults": {
        "post": {
            "operationId": "addFault",
            "summary": "M8: inject latency, an error status or a dropped connection",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _FAULT}},
            },
            "responses": {
                "201": {
                    "description": "The fault, with its id",
                    "content": {"application/json": {"schema": _FAULT_OUT}},
                },
                "400": _ERR,
            },
        },
        "get": {
            "operationId": "listFaults",
            "summary": "M8: the faults, with how often each applied",
            "responses": {
                "200": {
                    "description": "Faults, first added first",
                    "content": {
                        "application/json": {"schema": {"type": "array", "items": _FAULT_OUT}}
                    },
                }
            },
        },
        "delete": {
            "operationId": "clearFaults",
            "summary": "M8: remove every fault",
            "responses": {"204": {"description": "Removed"}},
        },
    },
    "/__mock/faults/{faultId}": {
        "delete": {
            "operationId": "removeFault",
            "summary": "M8: remove one fault",
            "parameters": [
                {"name": "faultId", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {"204": {"description": "Removed"}, "404": _ERR},
        }
    },
}
