"""What every request does before its handler runs, in one place.

A public operation is declared with the scope it needs:

    @endpoint("downlink.read")
    async def get_downlink(request: Request, mock: Mock, caller: Principal) -> Response:
        ...  # parse, call, render

and the wrapper first fires the moves that have fallen due (T3: the handler sees the
store as of now), then authenticates the caller for that scope (A1-A4). A control-plane
route, which needs no token, calls `ticked(request)` for the same first step.

A create hands the downlink it made to the journal with `note_created` (the journal
reads it back with `created_downlink` from the ASGI scope), so the journal never parses
an answer to learn what happened.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from functools import wraps
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from mock_server.domain.model import Downlink
from mock_server.http.auth import Principal

if TYPE_CHECKING:
    from mock_server.mock import Mock

__all__ = [
    "SYNCED",
    "endpoint",
    "ticked",
    "note_created",
    "created_downlink",
    "Handler",
    "Endpoint",
]

Handler = Callable[[Request, "Mock", Principal], Awaitable[Response]]
"""A public operation's handler: the request, the running mock and the authenticated caller."""

Endpoint = Callable[[Request], Awaitable[Response]]
"""What Starlette routes call."""

# The key under the ASGI scope's "state" (Starlette's `request.state`) of a created downlink.
_CREATED = "created_downlink"
# ... and the flag of a request whose state was brought up to now already (the journal
# middleware does it first when the store is shared, to see every process's faults).
SYNCED = "synced"


async def ticked(request: Request) -> Mock:
    """The running mock, after firing the moves that have fallen due (T3).

    The first step of every request: the public operations take it through `endpoint`,
    the control-plane routes call it themselves.
    """
    mock: Mock = request.app.state.mock
    state = request.scope.get("state")
    if not (isinstance(state, dict) and state.get(SYNCED)):
        await mock.state.sync()
    return mock


def endpoint(scope: str) -> Callable[[Handler], Endpoint]:
    """Wrap a public operation's handler: tick the clock, then authenticate the caller for
    `scope` (401 or 403, A1-A4), then call the handler with the mock and the caller."""

    def wrap(handler: Handler) -> Endpoint:
        @wraps(handler)
        async def run(request: Request) -> Response:
            mock = await ticked(request)
            caller = mock.auth.authenticate(request.headers.get("authorization"), scope)
            return await handler(request, mock, caller)

        return run

    return wrap


def note_created(request: Request, dl: Downlink) -> None:
    """Tell the journal (M7) which downlink this request created."""
    request.state.created_downlink = dl


def created_downlink(scope: MutableMapping[str, Any]) -> Downlink | None:
    """The downlink the request of this ASGI scope created, if any (`note_created`)."""
    state = scope.get("state")
    found = state.get(_CREATED) if isinstance(state, dict) else None
    return found if isinstance(found, Downlink) else None
