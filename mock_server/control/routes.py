"""The control plane under /__mock (M1-M6): test hooks outside openapi.json.

Every request is checked against the control plane's own OpenAPI document
(`mock_server/data/control.openapi.yaml`, served at /__mock/openapi.json) before a
handler sees it; handlers stay thin: parse, call, render. The journal and faults (M7, M8)
are in `journal_routes`, seeding and moves (M3, M4) in `state_routes`, the scenario (M6)
in `scenario_routes`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.control import scenario_routes, state_routes
from mock_server.control.parsing import json_response, mock_of, parse, reject
from mock_server.domain.timefmt import format_ms, parse_rfc3339
from mock_server.mock import Mock
from mock_server.openapi.control import control_document_bytes
from mock_server.timeline.clock import Clock
from mock_server.timeline.scenarios import parse_duration

__all__ = ["routes"]


async def health(request: Request) -> Response:
    """M1: liveness, version and auth mode (the contract suite picks full mode on it)."""
    await parse(request, "health")
    mock = await mock_of(request)
    return json_response({"status": "ok", "version": mock.version, "auth": mock.auth.mode.value})


async def reset(request: Request) -> Response:
    """M2: back to the start: fixtures reloaded, clock at its start."""
    await parse(request, "reset")
    await (await mock_of(request)).state.reset()
    return Response(status_code=204)


def _clock_body(mock: Mock) -> dict[str, str]:
    return {"now": format_ms(mock.clock.now()), "mode": mock.clock.mode.value}


async def clock(request: Request) -> Response:
    """M5: read the clock, or move it forward (what falls due fires on the way), or, with
    `"backwards": true`, set it back (nothing fires, no history changes: T2)."""
    if request.method == "GET":
        await parse(request, "readClock")
        return json_response(_clock_body(await mock_of(request)))
    body = (await parse(request, "moveClock")).body
    mock = await mock_of(request)
    key = "advance" if "advance" in body else "set"
    try:
        if key == "advance":
            value = body["advance"]  # 60000.0 is an integer to JSON Schema
            millis = parse_duration(int(value) if not isinstance(value, str) else value)
            await mock.state.change_clock(lambda clock: clock.advance(millis))
        elif body.get("backwards"):
            instant = parse_rfc3339(body["set"])

            def back(clock: Clock) -> None:
                if instant <= clock.now():
                    clock.rewind(instant)
                else:  # "backwards" allows going back; forward is as without it
                    clock.set(instant)

            await mock.state.change_clock(back)
        else:
            instant = parse_rfc3339(body["set"])
            await mock.state.change_clock(lambda clock: clock.set(instant))
    except ValueError as exc:  # "PT" with nothing in it, or past the end of time (T1)
        error = {"pointer": f"#/{key}", "detail": str(exc)}
        raise reject("the clock change is invalid", [error]) from None
    return json_response(_clock_body(mock))


async def openapi(request: Request) -> Response:
    """The control plane's own OpenAPI document: the one its requests are checked against."""
    await parse(request, "controlOpenapi")
    return Response(control_document_bytes(), media_type="application/json")


routes = [
    Route("/__mock/health", health, methods=["GET"]),
    Route("/__mock/reset", reset, methods=["POST"]),
    *state_routes.routes,
    Route("/__mock/clock", clock, methods=["GET", "POST"]),
    *scenario_routes.routes,
    Route("/__mock/openapi.json", openapi, methods=["GET"]),
]
