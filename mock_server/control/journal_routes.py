"""Control-plane routes for the request journal (M7) and fault injection (M8)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.control.journal import filter_from
from mock_server.control.parsing import json_response, parse, reject
from mock_server.mock import Mock
from mock_server.timeline.scenario_patterns import PatternError

__all__ = ["routes"]


def _mock(request: Request) -> Mock:
    # No tick: reading the journal or the faults must not fire due moves.
    mock: Mock = request.app.state.mock
    return mock


async def requests(request: Request) -> Response:
    """M7: the journal, oldest first, filtered (GET); or empty it (DELETE)."""
    mock = _mock(request)
    if request.method == "DELETE":
        await parse(request, "clearJournal")
        await mock.state.clear_journal()
        return Response(status_code=204)
    try:
        where = filter_from((await parse(request, "readJournal")).query)
    except PatternError as exc:
        error = {"parameter": "path", "detail": f"not a glob the mock can match: {exc}"}
        raise reject("the request is invalid", [error]) from None
    return json_response((await mock.state.read_journal()).to_json(where))


async def faults(request: Request) -> Response:
    """M8: add a fault (POST, 201), list them (GET), or remove them all (DELETE)."""
    mock = _mock(request)
    if request.method == "POST":
        body = (await parse(request, "addFault")).body
        return json_response((await mock.state.add_fault(body)).to_json(), 201)
    if request.method == "DELETE":
        await parse(request, "clearFaults")
        await mock.state.remove_faults()
        return Response(status_code=204)
    await parse(request, "listFaults")
    await mock.state.catch_up()  # the faults other processes armed, with their counts
    return json_response([fault.to_json() for fault in mock.faults.list()])


async def fault(request: Request) -> Response:
    """M8: remove one fault; 404 when no fault has that id."""
    parsed = await parse(request, "removeFault")
    await _mock(request).state.remove_faults(parsed.path["faultId"])
    return Response(status_code=204)


routes = [
    Route("/__mock/requests", requests, methods=["GET", "DELETE"]),
    Route("/__mock/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/__mock/faults/{faultId}", fault, methods=["DELETE"]),
]
