"""The scenario on the control plane (M6): read it, or load or swap it.

A scenario body is checked as scenario files are (`mock_server.timeline.scenarios`: the
scenario JSON Schema, which the control plane's document carries as
`components/schemas/Scenario`, then S1 and the names it uses), so its problems read the
same whether they come from a file or a request.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.control.parsing import json_response, mock_of, parse, reject
from mock_server.http.api import read_body, read_json_body
from mock_server.http.problems import BadRequest, UnsupportedMediaType
from mock_server.timeline.scenarios import (
    ScenarioError,
    load_named,
    parse_scenario,
    parse_text,
)

__all__ = ["routes"]

_YAML = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
_SCENARIO_SOURCE = "the request body"


async def scenario(request: Request) -> Response:
    """M6: the current scenario (GET), or load or swap the one new downlinks get (PUT)."""
    mock = await mock_of(request)
    engine = mock.progressions
    if request.method == "GET":
        await parse(request, "readScenario")
        return json_response({**engine.describe(), "document": engine.scenario.document})
    await parse(request, "loadScenario", body=False)  # JSON or YAML: read below
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
                raise reject(
                    "name a built-in or library scenario",
                    [{"pointer": "#/name", "detail": "expected a scenario name"}],
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
    await mock.state.use_scenario(loaded)
    return json_response(engine.describe())


async def _read_text(request: Request, limit: int) -> str:
    body = await read_body(request, limit)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(
            "the body is not UTF-8 text", errors=[{"pointer": "#", "detail": str(exc)}]
        ) from None


routes = [Route("/__mock/scenario", scenario, methods=["GET", "PUT"])]
