"""Mutants that only a methodical suite catches: an edge one step off (E3), a near miss let
through or refused (C6, X5), a filter that also matches what it must not (L1), a kept
answer shown after a change (T2), and a status judged from a stale copy when the target
moves downlinks on its own (X3).

Each wraps the mock's public surface (a `Rewrite`, or a plain ASGI wrapper), reading the
mock only through its public objects, and breaks one rule.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from mock_server.app import create_app
from mock_server.config import ClockMode, MockConfig
from mock_server.http.problems import MockError
from mock_server.store.query import ListQuery
from tests.gallery.mutant import START, authorised, mock_of, mutant
from tests.gallery.rewrite import ITEM_PREFIX, Answer, Call, Rewrite

__all__: list[str] = []

_DECIMAL_MEGABYTE = 1_000_000  # what a careless "1 MB" limit counts: 48,576 bytes short


# -- E3: the body limit one step inside ---------------------------------------------------


@mutant("E3", description="the body limit is a decimal megabyte: 1,000,001 bytes are 413")
def body_limit_decimal_megabyte(app: Any) -> Any:
    def before(call: Call) -> Answer | None:
        media = (call.header("content-type") or "").split(";")[0].strip().lower()
        if (
            call.is_create()
            and media == "application/json"
            and len(call.body) > _DECIMAL_MEGABYTE
            and authorised(app, call.header("authorization"), "downlink.write")
        ):
            detail = f"the body is over {_DECIMAL_MEGABYTE} bytes"
            return Answer.problem(413, "Payload Too Large", detail, call.path)
        return None

    return Rewrite(app, before=before)


# -- C6: references compared without case -------------------------------------------------


@mutant("C6", description="externalReference uniqueness ignores case: Ref-1 blocks REF-1")
def reference_case_insensitive(app: Any) -> Any:
    taken: dict[tuple[str, str], str] = {}  # (Authorization, folded reference) -> as stored

    def reference(call: Call) -> str | None:
        body = call.json()
        value = body.get("externalReference") if isinstance(body, dict) else None
        return value if isinstance(value, str) else None

    def before(call: Call) -> Answer | None:
        ref = reference(call) if call.is_create() else None
        if ref is None:
            return None
        held = taken.get((call.header("authorization") or "", ref.casefold()))
        if held is not None and held != ref:
            detail = f"externalReference {ref!r} is already in use"
            return Answer.problem(409, "Conflict", detail, call.path)
        return None

    def after(call: Call, answer: Answer) -> None:
        ref = reference(call) if call.is_create() else None
        if ref is not None and answer.status == 201 and answer.header("location"):
            taken.setdefault((call.header("authorization") or "", ref.casefold()), ref)

    return Rewrite(app, before=before, after=after)


# -- X5: forced read after trimming white space -------------------------------------------


@mutant("X5", description="forced is trimmed before it is judged: ' true' cancels by force")
def forced_trimmed(app: Any) -> Any:
    def before(call: Call) -> None:
        value = call.param("forced")
        if call.is_cancel() and value is not None:
            call.set_param("forced", value.strip())

    return Rewrite(app, before=before)


# -- L1: q also matching what it must not -------------------------------------------------


def _owner(app: Any, call: Call) -> str | None:
    try:
        return (
            mock_of(app).auth.authenticate(call.header("authorization"), "downlink.read").client_id
        )
    except MockError:
        return None


def _add_matches(app: Any, extra: Callable[[Any, str], bool]) -> Rewrite:
    """After each list with `q`, the caller's downlinks for which `extra(dl, q)` holds are
    added to the page (when not on it already): a second, wrong matching clause."""

    def after(call: Call, answer: Answer) -> None:
        q, page = call.param("q"), answer.json()
        owner = _owner(app, call)
        if not call.is_list() or answer.status != 200 or not q or owner is None:
            return
        if not isinstance(page, dict) or not isinstance(page.get("items"), list):
            return
        store = mock_of(app).store
        listed = {item.get("id") for item in page["items"]}
        everything = store.page(owner, ListQuery(limit=1000)).items
        for dl in everything:
            if dl.id not in listed and extra(dl, q):
                page["items"].append(json.loads(store.encoded(dl)))
        answer.set_json(page)

    return Rewrite(app, after=after)


@mutant("L1", description="q also matches the externalReference (partially)")
def q_matches_external_reference(app: Any) -> Any:
    return _add_matches(app, lambda dl, q: q in (dl.external_reference or ""))


@mutant("L1", description="q also matches a device's tag names, not only its tag values")
def q_matches_tag_names(app: Any) -> Any:
    store = mock_of(app).store
    return _add_matches(app, lambda dl, q: q in store.tags(dl.network_id))


# -- T2: list answers kept after a change -------------------------------------------------


@mutant("T2", description="list pages are kept per caller and query: changes never show")
def list_pages_kept(app: Any) -> Any:
    kept: dict[tuple[str, tuple[tuple[str, str], ...]], Answer] = {}

    def key(call: Call) -> tuple[str, tuple[tuple[str, str], ...]]:
        return (call.header("authorization") or "", tuple(call.query))

    def before(call: Call) -> Answer | None:
        if call.is_list() and key(call) in kept:
            return copy.deepcopy(kept[key(call)])
        return None

    def after(call: Call, answer: Answer) -> None:
        if call.is_list() and answer.status == 200:
            kept.setdefault(key(call), copy.deepcopy(answer))

    return Rewrite(app, before=before, after=after)


# -- X3: cancel judged from a copy the timeline does not update ----------------------------


class _StaleStatus:
    """ASGI wrapper: remembers each created downlink as PENDING and judges its cancels by
    that copy. Moves through M4 drop the copy (the hook updates it); moves the timeline
    makes do not, so a downlink in flight is cancelled as if PENDING, without forced."""

    def __init__(self, app: Any) -> None:
        self.state = app.state
        self.pending: set[str] = set()
        self.inner = Rewrite(app, before=self.before, after=self.after)

    def before(self, call: Call) -> None:
        if call.is_cancel() and call.downlink_id in self.pending and call.param("forced") is None:
            call.set_param("forced", "true")  # the copy says PENDING: no force needed

    def after(self, call: Call, answer: Answer) -> None:
        location = answer.header("location") or ""
        if call.is_create() and answer.status == 201 and location.startswith(ITEM_PREFIX):
            self.pending.add(location[len(ITEM_PREFIX) :])

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/__mock/downlinks/"):
            self.pending.discard(path.split("/")[3])  # M4 refreshes the copy
        await self.inner(scope, receive, send)


@mutant(
    "X3",
    description="cancel judges a stale PENDING copy: moved on by the timeline, still cancelled",
)
def cancel_judges_stale_status(app: Any) -> Any:
    # A clock that runs (4 s a second), so the default scenario moves downlinks on its own.
    del app
    running = create_app(MockConfig(clock_mode=ClockMode.SCALED, clock_start=START, speed=4.0))
    return _StaleStatus(running)


# -- E2: undeclared parameters let through on one operation --------------------------------


@mutant("E2", description="GET /downlinks/{id} ignores query parameters it does not declare")
def read_ignores_undeclared_parameters(app: Any) -> Any:
    def before(call: Call) -> None:
        if call.method == "GET" and call.downlink_id is not None:
            call.query = []

    return Rewrite(app, before=before)
