"""The control plane under /__mock (M1-M6; the journal and faults M7-M8 live in control_journal): test hooks outside openapi.json."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.config import AuthMode
from mock_server.control.journal_routes import OPENAPI_PATHS as JOURNAL_PATHS
from mock_server.control.seeding import parse_devices, parse_downlinks
from mock_server.domain.model import Status
from mock_server.domain.timefmt import format_ms, parse_duration_ms, parse_rfc3339
from mock_server.http.api import read_body, read_json_body
from mock_server.http.problems import (
    BadRequest,
    NotFound,
    Unauthorized,
    UnsupportedMediaType,
)
from mock_server.mock import Mock
from mock_server.timeline.scenarios import (
    ScenarioError,
    load_named,
    parse_scenario,
    parse_text,
    scenario_schema,
)

__all__ = ["routes", "CONTROL_OPENAPI"]

_STATUSES = [s.value for s in Status]


def _mock(request: Request) -> Mock:
    mock: Mock = request.app.state.mock
    mock.tick()
    return mock


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


async def health(request: Request) -> Response:
    """M1: liveness, version and auth mode (the contract suite picks full mode on it)."""
    mock = _mock(request)
    return _json({"status": "ok", "version": mock.version, "auth": mock.auth.mode.value})


async def reset(request: Request) -> Response:
    """M2: back to the start: fixtures reloaded, clock at its start."""
    _mock(request).reset()
    return Response(status_code=204)


def _default_owner(mock: Mock, request: Request) -> str:
    header = request.headers.get("authorization")
    if header is None or mock.auth.mode is AuthMode.OFF:
        return "default"
    try:
        return mock.auth.identify(header).client_id
    except Unauthorized as exc:
        raise Unauthorized(
            f"the Authorization header names no usable client ({exc.detail}); "
            "send none to seed for client 'default', or give each record an `owner`",
            headers=exc.headers,
        ) from None


async def seed_downlinks(request: Request) -> Response:
    """M3: store prepared downlinks, all or nothing."""
    mock = _mock(request)
    body = await read_json_body(request, mock.config.body_limit * 64)
    owner = _default_owner(mock, request)
    downlinks = parse_downlinks(body, default_owner=owner, now=mock.clock.now())
    mock.store.seed(downlinks)
    stored = [dict(dl.to_json(), owner=dl.owner) for dl in downlinks]
    return _json(stored, 201)


async def seed_devices(request: Request) -> Response:
    """M3: register (replace) the tags that `q` matches exactly."""
    mock = _mock(request)
    body = await read_json_body(request, mock.config.body_limit * 64)
    devices = parse_devices(body)
    mock.store.register_devices(devices)
    return _json([{"networkId": nid, "tags": tags} for nid, tags in devices], 201)


async def transition(request: Request) -> Response:
    """M4: move a downlink as S1 allows, logged as S2 says (retry limits do not apply)."""
    mock = _mock(request)
    body = await read_json_body(request, mock.config.body_limit)
    errors = []
    if not isinstance(body, dict):
        raise BadRequest(
            'send {"status": ...}', errors=[{"pointer": "#", "detail": "expected an object"}]
        )
    status_text = body.get("status")
    error_code = body.get("errorCode")
    if status_text not in _STATUSES:
        errors.append(
            {"pointer": "#/status", "detail": f"status must be one of {', '.join(_STATUSES)}"}
        )
    if error_code is not None and (not isinstance(error_code, str) or not error_code.strip()):
        errors.append({"pointer": "#/errorCode", "detail": "errorCode must be a non-blank string"})
    if errors:
        raise BadRequest("the transition is invalid", errors=errors)
    store = mock.store
    with store.lock:
        dl = store.find(request.path_params["downlinkId"])
        if dl is None:
            raise NotFound(f"no downlink with id {request.path_params['downlinkId']!r}")
        store.transition(dl, Status(status_text), mock.clock.now(), error_code=error_code)
        return Response(store.encoded(dl), media_type="application/json")


def _clock_body(mock: Mock) -> dict[str, str]:
    return {"now": format_ms(mock.clock.now()), "mode": mock.clock.mode.value}


async def clock(request: Request) -> Response:
    """M5: read the clock, or move it forward (what falls due fires on the way)."""
    mock = _mock(request)
    if request.method == "GET":
        return _json(_clock_body(mock))
    body = await read_json_body(request, mock.config.body_limit)
    if not isinstance(body, dict) or len(set(body) & {"advance", "set"}) != 1 or len(body) != 1:
        raise BadRequest(
            'send {"advance": "<duration>"} or {"set": "<date-time>"}',
            errors=[{"pointer": "#", "detail": "exactly one of advance or set"}],
        )
    try:
        if "advance" in body:
            mock.clock.advance(parse_duration_ms(_text(body["advance"])))
        else:
            mock.clock.set(parse_rfc3339(_text(body["set"])))
    except ValueError as exc:
        key = "advance" if "advance" in body else "set"
        raise BadRequest(
            "the clock change is invalid", errors=[{"pointer": f"#/{key}", "detail": str(exc)}]
        ) from None
    return _json(_clock_body(mock))


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


_YAML = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
_SCENARIO_SOURCE = "the request body"


async def scenario(request: Request) -> Response:
    """M6: the current scenario (GET), or load or swap the one new downlinks get (PUT)."""
    mock = _mock(request)
    engine = mock.progressions
    if request.method == "GET":
        return _json({**engine.describe(), "document": engine.scenario.document})
    limit = mock.config.body_limit
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    try:
        if media in _YAML:
            document = parse_text(await _read_text(request, limit), _SCENARIO_SOURCE)
        else:
            document = await read_json_body(request, limit)
        if isinstance(document, dict) and list(document) == ["name"]:
            name = document["name"]
            if not isinstance(name, str) or not name:
                raise BadRequest(
                    "name a built-in or library scenario",
                    errors=[{"pointer": "#/name", "detail": "expected a scenario name"}],
                )
            loaded = load_named(name)
        else:
            loaded = parse_scenario(document, _SCENARIO_SOURCE)
    except UnsupportedMediaType:
        raise UnsupportedMediaType(
            "send the scenario as application/json or application/yaml"
        ) from None
    except ScenarioError as exc:
        raise BadRequest(
            f"the scenario is invalid ({len(exc.problems)} problem(s)); nothing changed",
            errors=exc.errors(),
        ) from None
    engine.use(loaded)
    return _json(engine.describe())


async def _read_text(request: Request, limit: int) -> str:
    body = await read_body(request, limit)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(
            "the body is not UTF-8 text", errors=[{"pointer": "#", "detail": str(exc)}]
        ) from None


async def openapi(request: Request) -> Response:
    """The control plane's own OpenAPI document."""
    return _json(CONTROL_OPENAPI)


_PROBLEM = {"$ref": "#/components/schemas/Problem"}
_ERR = {"description": "Problem", "content": {"application/problem+json": {"schema": _PROBLEM}}}
_CLOCK = {
    "type": "object",
    "required": ["now", "mode"],
    "properties": {
        "now": {"type": "string", "format": "date-time"},
        "mode": {"type": "string", "enum": ["real", "scaled", "manual"]},
    },
}

_SCENARIO_SUMMARY = {
    "type": "object",
    "required": ["name", "source", "progressions", "rules", "default", "liveTimelines"],
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "source": {"type": "string"},
        "progressions": {"type": "array", "items": {"type": "string"}},
        "rules": {"type": "integer", "description": "how many rules"},
        "default": {"type": "string"},
        "seed": {"type": ["integer", "null"]},
        "liveTimelines": {"type": "integer"},
    },
}
_SCENARIO_BODY = {
    "oneOf": [
        {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {"name": {"type": "string", "description": "built-in or library"}},
        },
        {"$ref": "#/components/schemas/Scenario"},
    ]
}

CONTROL_OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Downlinks mock control plane",
        "version": "1",
        "description": "Test hooks of the Downlinks mock (behaviour contract M1-M8). "
        "Not part of the public API; no Bearer token needed.",
    },
    "paths": {
        "/__mock/health": {
            "get": {
                "operationId": "health",
                "summary": "M1: liveness, version and auth mode",
                "responses": {
                    "200": {
                        "description": "Up",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["status", "version", "auth"],
                                    "properties": {
                                        "status": {"const": "ok"},
                                        "version": {"type": "string"},
                                        "auth": {"enum": [m.value for m in AuthMode]},
                                    },
                                }
                            }
                        },
                    }
                },
            }
        },
        "/__mock/reset": {
            "post": {
                "operationId": "reset",
                "summary": "M2: empty everything, reload fixtures, clock to its start",
                "responses": {"204": {"description": "Reset"}},
            }
        },
        "/__mock/downlinks": {
            "post": {
                "operationId": "seedDownlinks",
                "summary": "M3: store prepared downlinks, all or nothing",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/SeedDownlink"},
                            }
                        }
                    },
                },
                "responses": {
                    "201": {"description": "Stored, as stored"},
                    "400": _ERR,
                    "409": _ERR,
                },
            }
        },
        "/__mock/devices": {
            "post": {
                "operationId": "seedDevices",
                "summary": "M3: register device tags (matched exactly by q)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["networkId"],
                                    "properties": {
                                        "networkId": {"type": "string", "minLength": 1},
                                        "tags": {
                                            "type": "object",
                                            "additionalProperties": {"type": "string"},
                                        },
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {"201": {"description": "Registered"}, "400": _ERR},
            }
        },
        "/__mock/downlinks/{downlinkId}/transition": {
            "post": {
                "operationId": "transition",
                "summary": "M4: move a downlink as the S1 table allows",
                "parameters": [
                    {
                        "name": "downlinkId",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["status"],
                                "properties": {
                                    "status": {"enum": _STATUSES},
                                    "errorCode": {"type": "string", "pattern": ".*\\S.*"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {"description": "The downlink after the move"},
                    "400": _ERR,
                    "404": _ERR,
                    "409": _ERR,
                },
            }
        },
        "/__mock/scenario": {
            "get": {
                "operationId": "readScenario",
                "summary": "M6: the scenario new downlinks get, as loaded",
                "responses": {
                    "200": {
                        "description": "The summary, with the scenario document",
                        "content": {"application/json": {"schema": _SCENARIO_SUMMARY}},
                    }
                },
            },
            "put": {
                "operationId": "loadScenario",
                "summary": "M6: load or swap the scenario; running timelines go on",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": _SCENARIO_BODY},
                        "application/yaml": {"schema": _SCENARIO_BODY},
                    },
                },
                "responses": {
                    "200": {
                        "description": "Loaded",
                        "content": {"application/json": {"schema": _SCENARIO_SUMMARY}},
                    },
                    "400": _ERR,
                    "413": _ERR,
                    "415": _ERR,
                },
            },
        },
        "/__mock/clock": {
            "get": {
                "operationId": "readClock",
                "summary": "M5: the mock's now and clock mode",
                "responses": {
                    "200": {
                        "description": "Now",
                        "content": {"application/json": {"schema": _CLOCK}},
                    }
                },
            },
            "post": {
                "operationId": "moveClock",
                "summary": "M5: advance or set the clock; due moves fire in time order",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "oneOf": [
                                    {
                                        "type": "object",
                                        "required": ["advance"],
                                        "properties": {"advance": {"type": "string"}},
                                    },
                                    {
                                        "type": "object",
                                        "required": ["set"],
                                        "properties": {
                                            "set": {"type": "string", "format": "date-time"}
                                        },
                                    },
                                ]
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "Moved",
                        "content": {"application/json": {"schema": _CLOCK}},
                    },
                    "400": _ERR,
                    "409": _ERR,
                },
            },
        },
        **JOURNAL_PATHS,  # M7, M8
    },
    "components": {
        "schemas": {
            "Problem": {"type": "object", "required": ["type", "title", "status", "detail"]},
            "Scenario": scenario_schema(),
            "SeedDownlink": {
                "type": "object",
                "required": ["networkId"],
                "description": "The public Downlink fields plus owner (the client id).",
                "properties": {
                    "id": {"type": "string"},
                    "owner": {"type": "string"},
                    "networkId": {"type": "string"},
                    "externalReference": {"type": "string"},
                    "status": {"enum": _STATUSES},
                    "message": {"type": "string"},
                    "createdAt": {"type": "string", "format": "date-time"},
                    "modifiedAt": {"type": "string", "format": "date-time"},
                    "logs": {"type": "array", "items": {"type": "object"}},
                },
            },
        }
    },
}

routes = [
    Route("/__mock/health", health, methods=["GET"]),
    Route("/__mock/reset", reset, methods=["POST"]),
    Route("/__mock/downlinks", seed_downlinks, methods=["POST"]),
    Route("/__mock/devices", seed_devices, methods=["POST"]),
    Route("/__mock/downlinks/{downlinkId}/transition", transition, methods=["POST"]),
    Route("/__mock/clock", clock, methods=["GET", "POST"]),
    Route("/__mock/scenario", scenario, methods=["GET", "PUT"]),
    Route("/__mock/openapi.json", openapi, methods=["GET"]),
]
