"""Control-plane routes that prepare and move state: seeding (M3) and moves (M4)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.config import AuthMode
from mock_server.control.parsing import CHUNK, json_response, mock_of, parse, reject
from mock_server.control.seeding import clashes, devices_from, downlinks_from
from mock_server.domain.errors import Conflict, IdTaken, ReferenceTaken
from mock_server.domain.model import Downlink, Status
from mock_server.http.problems import Unauthorized, Violation
from mock_server.mock import Mock

__all__ = ["routes"]


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


def _conflict(errors: list[Violation]) -> Conflict:
    return Conflict(
        f"the records clash with each other or with what is stored ({len(errors)} "
        "problem(s)); nothing changed",
        errors=errors,
    )


async def seed_downlinks(request: Request) -> Response:
    """M3: store prepared downlinks, all or nothing.

    Everything is checked before anything is stored: the schema and the records' own
    rules CHUNK records at a time with the event loop free in between (a big seed does
    not stall other clients), then the clashes and the insert in one step under the lock
    (for at most 10,000 records, a tenth of a second).
    """
    mock = await mock_of(request)
    records = (await parse(request, "seedDownlinks", body_limit=mock.config.seed_body_limit)).body
    owner = _default_owner(mock, request)
    now = mock.clock.now()
    downlinks: list[Downlink] = []
    errors: list[Violation] = []
    for start in range(0, len(records), CHUNK):
        if start:
            await asyncio.sleep(0)
        made, invalid = downlinks_from(
            records[start : start + CHUNK], default_owner=owner, now=now, offset=start
        )
        downlinks += made
        errors += invalid
    if errors:
        raise reject("the records are invalid", errors)
    # Rendered before they are stored (no one else can change them yet), in slices too.
    rendered: list[dict[str, object]] = []
    for start in range(0, len(downlinks), CHUNK):
        await asyncio.sleep(0)
        rendered += [dict(dl.to_json(), owner=dl.owner) for dl in downlinks[start : start + CHUNK]]
    store = mock.store
    with store.lock:
        found = clashes(store, downlinks, now)
    if found:
        raise _conflict(found)
    try:
        await mock.state.seed(downlinks)
    except (IdTaken, ReferenceTaken, Conflict):  # a shared store's, changed meanwhile
        raise _conflict(
            [{"pointer": "#", "detail": "a record clashes with what is stored"}]
        ) from None
    return json_response(rendered, 201)


async def seed_devices(request: Request) -> Response:
    """M3: register (replace) the tags that `q` matches exactly."""
    mock = await mock_of(request)
    records = (await parse(request, "seedDevices", body_limit=mock.config.seed_body_limit)).body
    devices = devices_from(records)
    await mock.state.register_devices(devices)
    return json_response([{"networkId": nid, "tags": tags} for nid, tags in devices], 201)


async def transition(request: Request) -> Response:
    """M4: move a downlink as S1 allows, logged as S2 says (retry limits do not apply)."""
    parsed = await parse(request, "transition")
    mock = await mock_of(request)
    downlink_id = parsed.path["downlinkId"]
    dl = await mock.state.move(
        downlink_id,
        Status(parsed.body["status"]),
        mock.clock.now(),
        error_code=parsed.body.get("errorCode"),
    )
    return Response(mock.store.encoded(dl), media_type="application/json")


routes = [
    Route("/__mock/downlinks", seed_downlinks, methods=["POST"]),
    Route("/__mock/devices", seed_devices, methods=["POST"]),
    Route("/__mock/downlinks/{downlinkId}/transition", transition, methods=["POST"]),
]
