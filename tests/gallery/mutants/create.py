"""Mutants of `POST /downlinks`: what it accepts (C1-C5), uniqueness (C6), its answer (C7),
dry runs (C8)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from typing import Any

from mock_server.problems import Conflict, MockError
from mock_server.spec import CreateRequest
from mock_server.store import NewDownlink
from mock_server.timefmt import parse_duration_ms

from ..mutant import mock_of, mutant
from ..rewrite import Answer, Call, Rewrite

__all__: list[str] = []

TEN_MINUTES_MS = 600_000


def _on_create_body(app: Any, change: Any) -> Rewrite:
    """`change(body)` edits each JSON object body of `POST /downlinks` before the mock
    validates it (a check that was left out, or made lenient)."""

    def before(call: Call) -> None:
        body = call.json()
        if call.is_create() and isinstance(body, dict):
            change(body)
            call.set_json(body)

    return Rewrite(app, before=before)


# -- C1-C5: what is accepted -----------------------------------------------------------


@mutant("C1", description="a negative retryLimit is taken as 0")
def negative_retry_limit_accepted(app: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        limit = body.get("retryLimit")
        if isinstance(limit, int) and not isinstance(limit, bool) and limit < 0:
            body["retryLimit"] = 0

    return _on_create_body(app, change)


@mutant("C1", description="method.protocol is matched case-insensitively (sms is SMS)")
def protocol_case_insensitive(app: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        method = body.get("method")
        if isinstance(method, dict) and isinstance(method.get("protocol"), str):
            method["protocol"] = method["protocol"].upper()

    return _on_create_body(app, change)


@mutant("C2", description="a pack naming two devices is stored under the first bn")
def first_bn_wins(app: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        pack = body.get("instruction")
        if not isinstance(pack, list):
            return
        names = [r["bn"] for r in pack if isinstance(r, dict) and isinstance(r.get("bn"), str)]
        for record in pack:
            if isinstance(record, dict) and names and record.get("bn") not in (None, names[0]):
                record["bn"] = names[0]

    return _on_create_body(app, change)


@mutant("C3", description="must-understand labels (ending in _) are ignored, not refused")
def must_understand_ignored(app: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        for record in body.get("instruction") or []:
            if isinstance(record, dict):
                for label in [k for k in record if k.endswith("_") and k != "i_"]:
                    del record[label]

    return _on_create_body(app, change)


@mutant("C4", description="feedbackTimeout under 10 minutes is taken as PT10M")
def feedback_timeout_minimum_ignored(app: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        timeout = body.get("feedbackTimeout")
        try:
            short = isinstance(timeout, str) and parse_duration_ms(timeout) < TEN_MINUTES_MS
        except (ValueError, OverflowError):
            short = False
        if short:
            body["feedbackTimeout"] = "PT10M"

    return _on_create_body(app, change)


@mutant("C5", description="a LORA fPort outside 1..223 is taken as port 1")
def fport_bounds_ignored(app: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        method = body.get("method")
        if isinstance(method, dict) and method.get("protocol") == "LORA":
            port = method.get("fPort")
            if isinstance(port, int) and not isinstance(port, bool) and not 1 <= port <= 223:
                method["fPort"] = 1

    return _on_create_body(app, change)


# -- C6: externalReference -------------------------------------------------------------


@mutant("C6", description="externalReference uniqueness is not enforced")
def reference_not_unique(app: Any) -> Any:
    mock_of(app).store.reserve_check = lambda owner, reference: None
    return app


@mutant("C6", description="externalReference is unique across all clients, not per client")
def reference_unique_globally(app: Any) -> Any:
    store = mock_of(app).store

    def reserve_check(owner: str, reference: str | None) -> None:
        if reference is not None and any(ref == reference for _, ref in store._refs):
            raise Conflict(f"externalReference {reference!r} is already used")

    store.reserve_check = reserve_check
    return app


@mutant("C6", description="uniqueness is checked, then the insert awaits: concurrent creates race")
def reference_check_then_insert(app: Any) -> Any:
    store = mock_of(app).store
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


# -- C7: the answer --------------------------------------------------------------------


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
    store = mock_of(app).store
    create = store.create

    def create_twice(owner: str, new: NewDownlink, now: int) -> Any:
        dl = create(owner, new, now)
        store._append(dl, [], now + 1)
        return dl

    store.create = create_twice
    return app


class _LooseSpec:
    """The mock's compiled spec, with `message` written with spaces (json.dumps defaults)."""

    def __init__(self, spec: Any) -> None:
        self._spec = spec

    def __getattr__(self, name: str) -> Any:
        return getattr(self._spec, name)

    def validate_create(self, body: object) -> tuple[CreateRequest | None, list[Any]]:
        new, errors = self._spec.validate_create(body)
        if new is not None:
            new = dataclasses.replace(new, message=json.dumps(new.instruction))
        return new, errors


@mutant("C7", description="message is the instruction as JSON with spaces, not compact")
def message_not_compact(app: Any) -> Any:
    mock = mock_of(app)
    mock.spec = _LooseSpec(mock.spec)  # this mock only: the compiled spec is shared
    return app


# -- C8: dry runs ----------------------------------------------------------------------


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
