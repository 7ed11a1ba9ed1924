"""Mutants of reading (R1, R2) and of timestamps (T1)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from mock_server.domain.model import Downlink, NewDownlink, Status
from tests.gallery.mutant import authorised, mutant, restamp, store_of
from tests.gallery.rewrite import Answer, Call, Rewrite

__all__: list[str] = []

_MILLIS = re.compile(rb'("\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.\d{3}Z"')
_ZULU = re.compile(rb'("\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3})Z"')


def _on_json_bodies(app: Any, pattern: re.Pattern[bytes], replacement: bytes) -> Rewrite:
    """Every JSON answer of the public API has `pattern` replaced (how times are written)."""

    def after(call: Call, answer: Answer) -> None:
        if answer.media_type == "application/json":
            answer.body = pattern.sub(replacement, answer.body)

    return Rewrite(app, after=after)


@mutant("T1", description="timestamps without milliseconds (2026-01-01T00:00:00Z)")
def timestamps_without_millis(app: Any) -> Any:
    return _on_json_bodies(app, _MILLIS, rb'\1Z"')


@mutant("T1", description="timestamps end in +00:00, not Z")
def timestamps_with_offset(app: Any) -> Any:
    return _on_json_bodies(app, _ZULU, rb'\1+00:00"')


def _on_read(app: Any, change: Any) -> Rewrite:
    """`change(downlink)` edits the body of each `GET /downlinks/{id}` answer."""

    def after(call: Call, answer: Answer) -> None:
        body = answer.json()
        if call.method == "GET" and call.downlink_id and isinstance(body, dict):
            change(body)
            answer.set_json(body)

    return Rewrite(app, after=after)


@mutant("R1", description="GET of one downlink names each log entry's time `timestamp`")
def read_log_time_renamed(app: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        for entry in body.get("logs") or []:
            entry["timestamp"] = entry.pop("createdAt")

    return _on_read(app, change)


@mutant("R2", description="GET of one downlink writes its status in lower case (pending)")
def read_status_lower_case(app: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        if isinstance(body.get("status"), str):
            body["status"] = body["status"].lower()

    return _on_read(app, change)


@mutant("R2", description="GET of one downlink leaves out its externalReference")
def read_drops_reference(app: Any) -> Any:
    return _on_read(app, lambda body: body.pop("externalReference", None))


@mutant("R1", description="an id that is not a UUID reads as 400, not 404")
def non_uuid_id_refused(app: Any) -> Any:
    def before(call: Call) -> Answer | None:
        downlink_id = call.downlink_id
        if call.method == "GET" and downlink_id:
            if not authorised(app, call.header("authorization"), "downlink.read"):
                return None  # the mock answers 401 or 403 first
            try:
                uuid.UUID(downlink_id)
            except ValueError:
                errors = [{"parameter": "downlinkId", "detail": "is not a UUID"}]
                detail = "the request has invalid path parameters"
                return Answer.problem(400, "Bad request", detail, call.path, errors=errors)
        return None

    return Rewrite(app, before=before)


@mutant("T2", description="createdAt is stamped after modifiedAt: modifiedAt is 1 ms earlier")
def modified_before_created(app: Any) -> Any:
    store = store_of(app)
    create = store.create

    def create_backwards(owner: str, new: NewDownlink, now: int, **options: Any) -> Downlink:
        dl = create(owner, new, now, **options)
        restamp(store, dl, now - 1)
        return dl

    store.create = create_backwards
    return app


@mutant("T2", description="a status change keeps modifiedAt where it was")
def moves_keep_modified_at(app: Any) -> Any:
    store = store_of(app)
    transition = store.transition

    def keep(dl: Downlink, target: Status, at: int, **kw: Any) -> Downlink:
        with store.lock:
            before = dl.modified_at
            moved = transition(dl, target, at, **kw)
            restamp(store, moved, before)
        return moved

    store.transition = keep
    return app
