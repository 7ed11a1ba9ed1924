"""A mutant of tenancy for a client that owns nothing (A5): its sorted, unnarrowed list is
a 404 instead of an empty page."""

from __future__ import annotations

from typing import Any

from mock_server.http.problems import MockError
from tests.gallery.mutant import mock_of, mutant, owners_of, store_of
from tests.gallery.rewrite import Answer, Call, Rewrite

__all__: list[str] = []


@mutant("A5", description="a sorted list without q by a client owning nothing answers 404")
def owning_nothing_not_found(app: Any) -> Any:
    owners = owners_of(store_of(app))
    auth = mock_of(app).auth

    def before(call: Call) -> Answer | None:
        if not call.is_list() or call.param("q") is not None or call.param("sort") is None:
            return None
        try:
            caller = auth.authenticate(call.header("authorization"), "downlink.read")
        except MockError:
            return None  # the mock answers 401/403 itself
        if caller.client_id in owners:
            return None
        return Answer.problem(404, "Not Found", "this client has no downlinks", call.path)

    return Rewrite(app, before=before)
