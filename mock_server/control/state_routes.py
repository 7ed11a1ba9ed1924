"""Control-plane routes that prepare and move state: seeding (M3) and moves (M4)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.config import AuthMode
from mock_server.control.parsing import SEED_BODY_FACTOR, json_response, mock_of, parse, reject
from mock_server.control.seeding import devices_from, downlinks_from
from mock_server.domain.model import Status
from mock_server.http.problems import NotFound, Unauthorized
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


async def seed_downlinks(request: Request) -> Response:
    """M3: store prepared downlinks, all or nothing."""
    mock = mock_of(request)
    records = (
        await parse(request, "seedDownlinks", body_limit=mock.config.body_limit * SEED_BODY_FACTOR)
    ).body
    owner = _default_owner(mock, request)
    downlinks, errors = downlinks_from(records, default_owner=owner, now=mock.clock.now())
    if errors:
        raise reject("the records are invalid", errors)
    mock.store.seed(downlinks)
    return json_response([dict(dl.to_json(), owner=dl.owner) for dl in downlinks], 201)


async def seed_devices(request: Request) -> Response:
    """M3: register (replace) the tags that `q` matches exactly."""
    mock = mock_of(request)
    records = (
        await parse(request, "seedDevices", body_limit=mock.config.body_limit * SEED_BODY_FACTOR)
    ).body
    devices = devices_from(records)
    mock.store.register_devices(devices)
    return json_response([{"networkId": nid, "tags": tags} for nid, tags in devices], 201)


async def transition(request: Request) -> Response:
    """M4: move a downlink as S1 allows, logged as S2 says (retry limits do not apply)."""
    parsed = await parse(request, "transition")
    mock = mock_of(request)
    downlink_id = parsed.path["downlinkId"]
    store = mock.store
    with store.lock:
        dl = store.find(downlink_id)
        if dl is None:
            raise NotFound(f"no downlink with id {downlink_id!r}")
        store.transition(
            dl,
            Status(parsed.body["status"]),
            mock.clock.now(),
            error_code=parsed.body.get("errorCode"),
        )
        return Response(store.encoded(dl), media_type="application/json")


routes = [
    Route("/__mock/downlinks", seed_downlinks, methods=["POST"]),
    Route("/__mock/devices", seed_devices, methods=["POST"]),
    Route("/__mock/downlinks/{downlinkId}/transition", transition, methods=["POST"]),
]
