"""Mutants of `DELETE /downlinks/{id}`: which cancels are accepted (X1-X3, X5) and what an
accepted one does (X4)."""

from __future__ import annotations

from typing import Any

from mock_server.domain.lifecycle import Change, cancellable
from mock_server.domain.model import Downlink, LogEntry, Status
from mock_server.http.problems import MockError
from tests.gallery.mutant import authorised, mock_of, mutant, restamp, store_of
from tests.gallery.rewrite import Answer, Call, Rewrite

__all__: list[str] = []

_BOOLEANS = ("true", "false")  # the values of `forced` (X5)


def _target(app: Any, call: Call) -> Downlink | None:
    """The downlink a cancel names, if it is the caller's (else the mock answers 404)."""
    mock = mock_of(app)
    downlink_id = call.downlink_id
    if not call.is_cancel() or downlink_id is None:
        return None
    try:
        owner = mock.auth.authenticate(call.header("authorization"), "downlink.delete")
    except MockError:
        return None  # the mock answers 401 or 403 itself
    dl = mock.store.find(downlink_id)
    return dl if dl is not None and dl.owner == owner.client_id else None


def _forced(call: Call) -> bool:
    return call.param("forced") == "true"


def _on_cancel(app: Any, answer_for: Any) -> Rewrite:
    """`answer_for(call, downlink)` answers a cancel of the caller's downlink on its own,
    or returns None to let the mock answer."""

    def before(call: Call) -> Answer | None:
        dl = _target(app, call)
        if dl is None or not all(k == "forced" and v in _BOOLEANS for k, v in call.query):
            return None  # the mock answers 404, or 400 for the query (X5)
        return answer_for(call, dl)

    return Rewrite(app, before=before)


@mutant("X2", description="a DELIVERED downlink accepts a cancel (202) and stays DELIVERED")
def delivered_cancel_accepted(app: Any) -> Any:
    return _on_cancel(app, lambda call, dl: Answer(202) if dl.status is Status.DELIVERED else None)


@mutant("X2", description="cancelling a CANCELLED downlink again answers 202")
def cancel_twice_accepted(app: Any) -> Any:
    return _on_cancel(app, lambda call, dl: Answer(202) if dl.status is Status.CANCELLED else None)


@mutant("X3", description="EXECUTING and SENT_TO_CARRIER are cancelled without forced=true")
def in_flight_cancel_unforced(app: Any) -> Any:
    def before(call: Call) -> None:
        dl = _target(app, call)
        if dl is not None and dl.status in (Status.EXECUTING, Status.SENT_TO_CARRIER):
            if call.param("forced") in (None, "false"):
                call.set_param("forced", "true")

    return Rewrite(app, before=before)


@mutant("X3", description="a PENDING downlink refuses a cancel (409) unless forced=true")
def pending_cancel_refused(app: Any) -> Any:
    def answer_for(call: Call, dl: Downlink) -> Answer | None:
        if dl.status is Status.PENDING and not _forced(call):
            detail = "a PENDING downlink cannot be cancelled without forced=true"
            return Answer.problem(409, "Conflict", detail, call.path)
        return None

    return _on_cancel(app, answer_for)


@mutant("X3", description="a RETRY downlink refuses a cancel (409) unless forced=true")
def retry_cancel_refused(app: Any) -> Any:
    def answer_for(call: Call, dl: Downlink) -> Answer | None:
        if dl.status is Status.RETRY and not _forced(call):
            detail = "a RETRY downlink is in flight: cancel it with forced=true"
            return Answer.problem(409, "Conflict", detail, call.path)
        return None

    return _on_cancel(app, answer_for)


@mutant("X1", description="a refused cancel answers 409 with a plain JSON body, not a problem")
def conflict_not_problem(app: Any) -> Any:
    def after(call: Call, answer: Answer) -> None:
        if call.is_cancel() and answer.status == 409:
            problem = answer.json() or {}
            answer.set_json({"message": problem.get("detail", "conflict")})
            answer.set_header("content-type", "application/json")

    return Rewrite(app, after=after)


@mutant("X4", description="a cancel answers 202 but leaves the downlink as it was")
def accepted_cancel_not_applied(app: Any) -> Any:
    return _on_cancel(
        app, lambda call, dl: Answer(202) if cancellable(dl.status, _forced(call)) else None
    )


def _on_cancelled(app: Any, change: Any) -> Any:
    """`change(downlink, modified_before)` edits a downlink right after it is CANCELLED."""
    store = store_of(app)
    transition = store.transition

    def cancel_then_change(dl: Downlink, target: Status, at: int, **kw: Any) -> Downlink:
        before = dl.modified_at
        moved = transition(dl, target, at, **kw)
        if target is Status.CANCELLED:
            with store.lock:
                change(moved, before)
                moved.encoded = None
        return moved

    store.transition = cancel_then_change
    return app


@mutant("X4", "T2", description="a cancel leaves modifiedAt where it was")
def cancel_keeps_modified_at(app: Any) -> Any:
    store = store_of(app)
    return _on_cancelled(app, lambda dl, modified_before: restamp(store, dl, modified_before))


@mutant("X4", description="the cancel's log entry has no errorCode CANCELLED")
def cancel_log_without_error_code(app: Any) -> Any:
    def strip(dl: Downlink, modified_before: int) -> None:
        last = dl.logs[-1]
        dl.logs[-1] = LogEntry(last.created_at, last.event)

    return _on_cancelled(app, strip)


@mutant("T2", "X4", description="a cancel replaces the logs with its own entry")
def cancel_replaces_logs(app: Any) -> Any:
    def replace(dl: Downlink, modified_before: int) -> None:
        dl.logs[:] = dl.logs[-1:]

    return _on_cancelled(app, replace)


@mutant("X5", description="forced takes yes, 1, TRUE and on as true")
def forced_truthy_strings(app: Any) -> Any:
    def before(call: Call) -> None:
        if call.is_cancel() and call.param("forced") in ("yes", "1", "TRUE", "True", "on"):
            call.set_param("forced", "true")

    return Rewrite(app, before=before)


@mutant("X4", description="a refused cancel still touches the downlink: modifiedAt moves")
def refused_cancel_touches(app: Any) -> Any:
    mock, store = mock_of(app), store_of(app)

    def before(call: Call) -> None:
        dl = _target(app, call)
        if dl is not None and not cancellable(dl.status, _forced(call)):
            with store.lock:
                at = max(mock.clock.now(), dl.modified_at + 1)
                store.record(dl, Change(dl.status, at, []))

    return Rewrite(app, before=before)


@mutant("X5", description="cancelling an id that does not exist answers 202 (DELETE is idempotent)")
def unknown_cancel_accepted(app: Any) -> Any:
    store = store_of(app)

    def before(call: Call) -> Answer | None:
        if not call.is_cancel() or not call.downlink_id or store.find(call.downlink_id):
            return None
        valid = all(k == "forced" and v in _BOOLEANS for k, v in call.query)
        if valid and authorised(app, call.header("authorization"), "downlink.delete"):
            return Answer(202)
        return None

    return Rewrite(app, before=before)


@mutant("X5", "A5", description="cancelling another client's downlink answers 403, not 404")
def other_tenant_cancel_forbidden(app: Any) -> Any:
    mock = mock_of(app)

    def before(call: Call) -> Answer | None:
        dl = mock.store.find(call.downlink_id or "") if call.is_cancel() else None
        if dl is None:
            return None
        try:
            caller = mock.auth.authenticate(call.header("authorization"), "downlink.delete")
        except MockError:
            return None
        if dl.owner != caller.client_id:
            detail = "this downlink belongs to another client"
            return Answer.problem(403, "Forbidden", detail, call.path)
        return None

    return Rewrite(app, before=before)
