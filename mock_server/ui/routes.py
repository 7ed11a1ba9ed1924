"""The web view at /__mock/ui: the page, its static files, the public spec, and the few
read-only JSON endpoints the page needs that the control plane lacks.

Everything the page changes (the clock, the scenario, faults, a move, a cancel) goes
through the control plane or the public API, as any client's would: this module only
reads. Its routes live under /__mock, so the journal neither records nor faults them
(M7, M8), except `/openapi.json`, which is a public path.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.config import OPENAPI_PATH, AuthMode
from mock_server.domain.lifecycle import MOVES, cancellable
from mock_server.domain.model import Downlink
from mock_server.domain.timefmt import format_ms
from mock_server.http.auth import mint_token
from mock_server.http.problems import BadRequest, Conflict, NotFound
from mock_server.mock import Mock
from mock_server.timeline.progression import Upcoming
from mock_server.timeline.scenarios import ScenarioError, load_named, scenario_names
from mock_server.ui.listing import list_across, parse_cross_query

__all__ = ["routes", "STATIC_DIR", "UI_PATH"]

UI_PATH = "/__mock/ui"
STATIC_DIR = Path(__file__).resolve().parent / "static"
_NO_STORE = {"Cache-Control": "no-store"}


async def _mock(request: Request) -> Mock:
    mock: Mock = request.app.state.mock
    await mock.state.sync()  # what fell due moves before it is shown (T3)
    return mock


def _json(data: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), media_type="application/json", headers=headers)


_MEDIA = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}


@cache
def _file(path: Path) -> bytes:
    return path.read_bytes()


@cache
def _assets() -> dict[str, tuple[bytes, str, str]]:
    """The page's files, read once: name -> (bytes, ETag, media type). They ship inside the
    package and never change while the mock runs, so memory beats a file read each time."""
    out = {}
    for path in sorted(STATIC_DIR.iterdir()):
        if path.suffix in _MEDIA:
            data = path.read_bytes()
            etag = '"' + hashlib.blake2b(data, digest_size=8).hexdigest() + '"'
            out[path.name] = (data, etag, _MEDIA[path.suffix])
    return out


async def asset(request: Request) -> Response:
    """One of the page's files."""
    return _send(request, request.path_params["name"])


def _send(request: Request, name: str) -> Response:
    """A file of the page; a revalidation with the same ETag is a bodiless 304."""
    found = _assets().get(name)
    if found is None:
        raise NotFound(f"no file {name!r} in the web view")
    data, etag, media = found
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media, headers=headers)


async def page(request: Request) -> Response:
    """The web view: one HTML page; its script draws each view from the JSON below."""
    return _send(request, "index.html")


async def public_spec(request: Request) -> Response:
    """The public API's contract, byte for byte (what a 404's hint points to)."""
    return Response(_file(OPENAPI_PATH), media_type="application/json")


async def state(request: Request) -> Response:
    """What the page polls: small, and each part changes when its view must be redrawn."""
    mock = await _mock(request)
    entries = (await mock.state.read_journal(newest=1)).entries()
    return _json(
        {
            "version": mock.store.version,
            "now": format_ms(mock.clock.now()),
            "mode": mock.clock.mode.value,
            "stored": len(mock.store),
            "live": mock.progressions.live,
            "scenario": mock.progressions.scenario.name,
            "journal": entries[-1].seq if entries else 0,
            "faults": [[f.id, f.applied] for f in mock.faults.list()],
            "auth": mock.auth.mode.value,
        },
        _NO_STORE,
    )


def _row(dl: Downlink) -> dict[str, Any]:
    return {
        "id": dl.id,
        "owner": dl.owner,
        "networkId": dl.network_id,
        "externalReference": dl.external_reference,
        "status": dl.status.value,
        "createdAt": format_ms(dl.created_at),
        "modifiedAt": format_ms(dl.modified_at),
        "progression": dl.progression,
    }


async def downlinks(request: Request) -> Response:
    """Every client's downlinks, filtered (client, status, q, times), sorted, keyset-paged."""
    mock = await _mock(request)
    items = request.query_params.multi_items()
    names = [name for name, _ in items]
    repeated = {name for name in names if names.count(name) > 1}
    cross = parse_cross_query(dict(items), repeated)
    page = list_across(mock.store, cross)
    return _json(
        {
            "items": [_row(dl) for dl in page.items],
            "next": page.next,
            "prev": page.prev,
            "partial": page.partial,
            "stored": len(mock.store),
            "owners": mock.store.owners(),
            "version": mock.store.version,
        },
        _NO_STORE,
    )


def _upcoming(move: Upcoming) -> dict[str, Any]:
    return {
        "earliest": format_ms(move.earliest),
        "latest": format_ms(move.latest),
        "to": move.target.value if move.target is not None else None,
        "partsDelivered": move.parts_delivered,
        "errorCode": move.error_code,
        "chance": move.chance,
        "timeout": move.timeout,
    }


async def downlink(request: Request) -> Response:
    """One downlink as its owner sees it, plus what only the mock knows: the owner, the
    method, the progression and the moves it still has scheduled (S4), and the moves
    and cancels the rules allow from here (S1, X3)."""
    mock = await _mock(request)
    downlink_id = request.path_params["downlinkId"]
    with mock.store.lock:
        dl = mock.store.find(downlink_id)
        if dl is None:
            raise NotFound(f"no downlink with id {downlink_id!r}")
        try:
            instruction = orjson.loads(dl.message) if dl.message else None
        except orjson.JSONDecodeError:
            instruction = None  # a seeded message need not be a pack (M3)
        body = {
            "downlink": dl.to_json(),
            "owner": dl.owner,
            "method": dl.method,
            "instruction": instruction if isinstance(instruction, list) else None,
            "retryLimit": dl.retry_limit,
            "retries": dl.retries,
            "feedbackTimeoutMs": dl.feedback_timeout_ms,
            "parts": dl.parts,
            "progression": dl.progression,
            "upcoming": [_upcoming(m) for m in mock.progressions.upcoming(dl.id)],
            "moves": sorted(s.value for s in MOVES[dl.status]),
            "cancel": {
                "plain": cancellable(dl.status, False),
                "forced": cancellable(dl.status, True),
            },
            "version": mock.store.version,
        }
    return _json(body, _NO_STORE)


async def token(request: Request) -> Response:
    """A token for `client` with the delete scope only, so that the page cancels through
    the public API as that client would (A5, X1-X5), errors and all."""
    mock = request.app.state.mock
    client = request.query_params.get("client", "")
    if not client:
        raise BadRequest(
            "name the client", errors=[{"parameter": "client", "detail": "a client id"}]
        )
    mode = mock.auth.mode
    if mode is AuthMode.OFF:
        return _json({"client": client, "token": None}, _NO_STORE)
    if mode is AuthMode.JWKS:
        raise Conflict(
            "the mock verifies tokens against a JWKS file and holds no private key: cancel "
            "with a token you sign, or run the mock with --auth lenient"
        )
    minted = mint_token(
        client,
        ("downlink.delete",),
        mode=mode,
        secret=mock.config.secret,
        issued_at_ms=mock.clock.now(),
    )
    return _json({"client": client, "token": minted}, _NO_STORE)


def _library() -> list[dict[str, str]]:
    out = []
    for name in scenario_names():
        try:
            description = load_named(name).description
        except ScenarioError:
            continue  # a broken file in the library is reported when someone loads it
        out.append({"name": name, "description": description})
    return out


async def scenarios(request: Request) -> Response:
    """The scenarios M6 can switch to by name: the built-ins and the library."""
    return _json(_library())


routes: list[BaseRoute] = [
    Route(UI_PATH, page, methods=["GET"]),
    Route(f"{UI_PATH}/static/{{name}}", asset, methods=["GET"]),
    Route("/openapi.json", public_spec, methods=["GET"]),
    Route(f"{UI_PATH}/openapi.json", public_spec, methods=["GET"]),
    Route(f"{UI_PATH}/api/state", state, methods=["GET"]),
    Route(f"{UI_PATH}/api/downlinks", downlinks, methods=["GET"]),
    Route(f"{UI_PATH}/api/downlinks/{{downlinkId}}", downlink, methods=["GET"]),
    Route(f"{UI_PATH}/api/token", token, methods=["GET"]),
    Route(f"{UI_PATH}/api/scenarios", scenarios, methods=["GET"]),
]
