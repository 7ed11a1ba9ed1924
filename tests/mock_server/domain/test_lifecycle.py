"""The lifecycle module: S1 moves, S2 logs, T2 stamps, X1-X3 cancels, and their 409s."""

from __future__ import annotations

import pytest

from mock_server.domain import lifecycle
from mock_server.domain.errors import Conflict, IllegalMove, NotCancellable
from mock_server.domain.model import Downlink, Event, LogEntry, Status
from mock_server.domain.timefmt import MAX_MS


def _downlink(status: Status, modified_at: int = 1000, parts: int = 1) -> Downlink:
    return Downlink(
        id="d",
        owner="c",
        network_id="n",
        status=status,
        created_at=1000,
        modified_at=modified_at,
        parts=parts,
        logs=[LogEntry(1000, Event.DOWNLINK_ACCEPTED.value)],
    )


@pytest.mark.rule("S1")
@pytest.mark.parametrize("current", list(Status))
@pytest.mark.parametrize("target", list(Status))
def test_s1_check_move_follows_the_table(current: Status, target: Status) -> None:
    if target in lifecycle.MOVES[current]:
        lifecycle.check_move(current, target)
        return
    with pytest.raises(IllegalMove) as err:
        lifecycle.check_move(current, target)
    assert f"a {current.value} downlink cannot move to {target.value}" in err.value.detail
    assert ("terminal states never change" in err.value.detail) is current.terminal
    assert isinstance(err.value, Conflict)  # answered 409


@pytest.mark.rule("X3")
@pytest.mark.parametrize(
    ("status", "unforced", "forced"),
    [
        (Status.PENDING, True, True),
        (Status.RETRY, True, True),
        (Status.EXECUTING, False, True),
        (Status.SENT_TO_CARRIER, False, True),
        (Status.DELIVERED, False, False),
        (Status.FAILED, False, False),
        (Status.CANCELLED, False, False),
    ],
)
def test_x3_cancel_rule(status: Status, unforced: bool, forced: bool) -> None:
    assert lifecycle.cancellable(status, False) is unforced
    assert lifecycle.cancellable(status, True) is forced
    for flag, allowed in ((False, unforced), (True, forced)):
        if allowed:
            lifecycle.check_cancel(status, flag)
            continue
        with pytest.raises(NotCancellable) as err:
            lifecycle.check_cancel(status, flag)
        hint = " without forced=true: it is in flight" if forced else ""
        assert err.value.detail == f"a {status.value} downlink cannot be cancelled{hint}"


@pytest.mark.rule("T2")
def test_t2_stamp_never_goes_back_and_always_shows() -> None:
    assert lifecycle.stamp(1000, 2000) == 2000
    assert lifecycle.stamp(1000, 1000) == 1001
    assert lifecycle.stamp(1000, 500) == 1001
    assert lifecycle.stamp(MAX_MS, MAX_MS) == MAX_MS  # the end of time stands still


@pytest.mark.rule("S2")
def test_s2_plan_move_logs_and_stamps_each_entry() -> None:
    dl = _downlink(Status.EXECUTING, parts=3)
    change = lifecycle.plan_move(dl, Status.SENT_TO_CARRIER, 900)
    assert change.status is Status.SENT_TO_CARRIER and change.at == 1001
    assert [e.event for e in change.entries] == [Event.DOWNLINK_PART_SENT.value] * 3
    assert {e.created_at for e in change.entries} == {1001}
    assert dl.status is Status.EXECUTING and len(dl.logs) == 1  # planning changes nothing


@pytest.mark.rule("S3")
def test_s3_apply_counts_a_retry_and_writes_the_change() -> None:
    dl = _downlink(Status.EXECUTING)
    dl.encoded = b"{}"
    lifecycle.apply(dl, lifecycle.plan_move(dl, Status.RETRY, 2000, error_code="X"))
    assert (dl.status, dl.retries, dl.modified_at, dl.encoded) == (Status.RETRY, 1, 2000, None)
    assert (dl.logs[-1].event, dl.logs[-1].error_code) == (Event.DOWNLINK_PART_FAILED.value, "X")
    # Logging without a move (a part delivered) counts no retry.
    lifecycle.apply(dl, lifecycle.plan_append(dl, [LogEntry(0, "E")], 2000))
    assert (dl.retries, dl.modified_at, dl.logs[-1].created_at) == (1, 2001, 2001)


@pytest.mark.rule("S1")
def test_s1_a_terminal_downlink_takes_no_log_entry() -> None:
    with pytest.raises(IllegalMove, match="a DELIVERED downlink never changes"):
        lifecycle.plan_append(_downlink(Status.DELIVERED), [], 2000)


def test_the_lifecycle_rules_live_in_one_module() -> None:
    from mock_server.domain import model

    for name in ("MOVES", "can_move", "move_logs", "cancellable"):
        assert not hasattr(model, name), f"{name} belongs in domain/lifecycle.py alone"


def _full(status: Status) -> Downlink:
    from mock_server.domain.lifecycle import MAX_LOGS

    return Downlink(
        id="d",
        owner="o",
        network_id="n",
        status=status,
        created_at=0,
        modified_at=0,
        logs=[LogEntry(0, "DOWNLINK_ACCEPTED") for _ in range(MAX_LOGS)],
    )


@pytest.mark.rule("S2")
def test_s2_full_logs_take_only_a_move_that_ends_the_downlink() -> None:
    from mock_server.domain.errors import LogFull
    from mock_server.domain.lifecycle import plan_append, plan_move

    for target in (Status.EXECUTING, Status.RETRY):
        with pytest.raises(LogFull):
            plan_move(
                _full(Status.SENT_TO_CARRIER if target is Status.RETRY else Status.RETRY), target, 1
            )
    with pytest.raises(LogFull):
        plan_append(_full(Status.SENT_TO_CARRIER), [LogEntry(1, "DOWNLINK_PART_DELIVERED")], 1)
    for target in (Status.DELIVERED, Status.FAILED, Status.CANCELLED):
        change = plan_move(_full(Status.SENT_TO_CARRIER), target, 1)
        assert change.status is target


@pytest.mark.rule("S2")
def test_s2_a_retry_loop_stops_at_the_log_cap_with_a_409() -> None:
    """M4 moves in a loop (or a scenario retrying forever) cannot grow logs without bound."""
    from starlette.testclient import TestClient

    from mock_server.app import create_app
    from mock_server.config import ClockMode, MockConfig
    from mock_server.domain.lifecycle import MAX_LOGS
    from tests.mock_server.conftest import START_MS, auth, body

    app = create_app(
        MockConfig(clock_mode=ClockMode.MANUAL, clock_start=START_MS, scenario="static")
    )
    with TestClient(app) as c:
        c.headers.update(auth())
        dl = c.post("/downlinks", json=body()).json()
        url = f"/__mock/downlinks/{dl['id']}/transition"
        answers = []
        for _ in range(MAX_LOGS):
            for status in ("EXECUTING", "RETRY"):
                answers.append(c.post(url, json={"status": status}).status_code)
            if answers[-1] != 200:
                break
        assert answers[-1] == 409
        stored = c.get(f"/downlinks/{dl['id']}").json()
        assert MAX_LOGS <= len(stored["logs"]) <= MAX_LOGS + 1
        assert c.delete(f"/downlinks/{dl['id']}?forced=true").status_code == 202  # still ends
