"""Mutants of `POST /downlinks` beyond validation: uniqueness of externalReference (C6), the
answer (C7), dry runs (C8) and read-only fields (C9)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from typing import Any

from mock_server.domain.model import Downlink, NewDownlink
from mock_server.http.problems import Conflict, MockError
from tests.gallery.mutant import mock_of, mutant, owners_of, restamp, store_of
from tests.gallery.rewrite import Answer, Call, Rewrite

__all__: list[str] = []


@mutant("C6", description="externalReference uniqueness is not enforced")
def reference_not_unique(app: Any) -> Any:
    mock_of(app).store.reserve_check = lambda owner, reference: None
    return app


@mutant("C6", description="externalReference is unique across all clients, not per client")
def reference_unique_globally(app: Any) -> Any:
    store = store_of(app)
    check = store.reserve_check
    owners = owners_of(store)

    def reserve_check(owner: str, reference: str | None) -> None:
        for holder in sorted(owners | {owner}):  # any client's reference blocks it
            check(holder, reference)

    store.reserve_check = reserve_check
    return app


@mutant("C6", description="uniqueness is checked, then the insert awaits: concurrent creates race")
def reference_check_then_insert(app: Any) -> Any:
    store = store_of(app)
    check = store.reserve_check
    store.reserve_check = lambda owner, reference: None  # the insert no longer checks
    auth = mock_of(app).auth

    async def before(call: Call) -> Answer | None:
        body = call.json()
        if not call.is_create() or not isinstance(body, dict):
            return None
        reference = body.get("externalReference")
        if isinstance(reference, str):
            try:
                check(auth.identify(call.header("authorization")).client_id, reference)
            except Conflict as exc:
                return Answer.problem(409, "Conflict", exc.detail, call.path)
            except MockError:
                return None  # no usable token: the mock answers 401
            await asyncio.sleep(0.1)  # the round trip to the database, between check and insert
        return None

    return Rewrite(app, before=before)


@mutant("C7", description="a 201 without a Location header")
def missing_location(app: Any) -> Any:
    def after(call: Call, answer: Answer) -> None:
        if call.is_create() and answer.status == 201:
            answer.set_header("location", None)

    return Rewrite(app, after=after)


@mutant("C7", description="Location names a fresh UUID, not the new downlink's id")
def location_wrong_id(app: Any) -> Any:
    def after(call: Call, answer: Answer) -> None:
        if call.is_create() and answer.header("location"):
            answer.set_header("location", f"/downlinks/{uuid.uuid4()}")

    return Rewrite(app, after=after)


@mutant("C7", description="modifiedAt is read from the clock again: 1 ms after createdAt")
def created_modified_differ(app: Any) -> Any:
    store = store_of(app)
    create = store.create

    def create_twice(owner: str, new: NewDownlink, now: int, **options: Any) -> Downlink:
        dl = create(owner, new, now, **options)
        restamp(store, dl, now + 1)
        return dl

    store.create = create_twice
    return app


class _LooseSpec:
    """The mock's compiled spec, with `message` written with spaces (json.dumps defaults)."""

    def __init__(self, spec: Any) -> None:
        self._spec = spec

    def __getattr__(self, name: str) -> Any:
        return getattr(self._spec, name)

    def validate_create(self, body: object) -> tuple[NewDownlink | None, list[Any]]:
        new, errors = self._spec.validate_create(body)
        if new is not None:
            new = dataclasses.replace(new, message=json.dumps(new.instruction))
        return new, errors


@mutant("C7", description="message is the instruction as JSON with spaces, not compact")
def message_not_compact(app: Any) -> Any:
    mock = mock_of(app)
    mock.spec = _LooseSpec(mock.spec)  # this mock only: the compiled spec is shared
    return app


@mutant("C8", description="a dry run answers like one (no Location) but stores the downlink")
def dry_run_stores(app: Any) -> Any:
    def before(call: Call) -> None:
        body = call.json()
        if call.is_create() and isinstance(body, dict) and body.get("dryRun") is True:
            del body["dryRun"]
            call.set_json(body)
            call.notes["dry"] = True

    def after(call: Call, answer: Answer) -> None:
        if call.notes.get("dry"):
            answer.set_header("location", None)

    return Rewrite(app, before=before, after=after)


@mutant("C7", description="createdAt is the wall clock, not the server's own clock")
def created_at_from_wall_clock(app: Any) -> Any:
    store = store_of(app)
    create = store.create

    def wall_clock(owner: str, new: NewDownlink, now: int, **options: Any) -> Downlink:
        return create(owner, new, int(time.time() * 1000), **options)

    store.create = wall_clock
    return app


@mutant(
    "C9", description="the 201 answer merges the request's read-only fields over the stored ones"
)
def read_only_fields_echoed(app: Any) -> Any:
    def after(call: Call, answer: Answer) -> None:
        sent, created = call.json(), answer.json()
        if call.is_create() and answer.status == 201 and isinstance(sent, dict):
            for name in ("id", "status", "createdAt", "modifiedAt", "logs"):
                if name in sent and isinstance(created, dict):
                    created[name] = sent[name]
            answer.set_json(created)

    return Rewrite(app, after=after)
