"""`downlinks-mock fixtures check`: what stops a fixture set from loading (`load`), and
whether each downlink's history is one the mock could have written (T1, C7, S1, S2)."""

from __future__ import annotations

import json
from typing import Any

from mock_server.domain.lifecycle import MOVES, move_logs
from mock_server.domain.model import Event, Status
from mock_server.domain.senml import check_pack
from mock_server.domain.timefmt import format_ms, parse_rfc3339
from mock_server.fixtureset.load import record_problems, schema_problems

__all__ = ["check_fixture_set"]


def _time_problem(value: Any) -> str | None:
    """Why `value` is not a T1 timestamp (RFC 3339 UTC, exactly three fractional digits)."""
    if not isinstance(value, str):
        return f"{value!r} is not a date-time string"
    try:
        ms = parse_rfc3339(value)
    except ValueError as exc:
        return str(exc)
    if format_ms(ms) != value:
        return f"{value!r} is not written as T1 says: UTC, a Z, three fractional digits, e.g. {format_ms(ms)}"
    return None


def _pack(message: Any) -> list[Any] | None:
    if not isinstance(message, str):
        return None
    try:
        pack = json.loads(message)
    except ValueError:
        return None
    return pack if isinstance(pack, list) and pack else None


def _replay(entries: list[tuple[Any, Any]], parts: int) -> tuple[Status, str | None]:
    """Read logs back into S1 moves: each move must account for the next entries exactly as
    S2 logs it (`move_logs`). Returns the status reached, and what went wrong if anything."""
    current, i = Status.PENDING, 1
    while i < len(entries):
        code = entries[i][1]
        fits: list[tuple[Status, int]] = []
        for target in sorted(MOVES[current], key=lambda s: s.value):
            logged = move_logs(current, target, 0, parts=parts, error_code=code)
            expected = [(e.event, e.error_code) for e in logged]
            if entries[i : i + len(expected)] == expected:
                fits.append((target, len(expected)))
        # DOWNLINK_FAILED ends both FAILED and CANCELLED; the errorCode tells them apart:
        # CANCELLED is logged with errorCode CANCELLED and nothing else (X4).
        cancel = [fit for fit in fits if fit[0] is Status.CANCELLED]
        others = [fit for fit in fits if fit[0] is not Status.CANCELLED]
        fits = (cancel or others) if code == "CANCELLED" else others
        if not fits:
            event = entries[i][0]
            return current, (
                f"logs[{i}] ({event}{f', {code}' if code else ''}) is not what any S1 move out of"
                f" {current.value} logs (S2)"
            )
        current, i = fits[0][0], i + fits[0][1]
    return current, None


def _check_downlink(record: dict[str, Any], where: str, problems: list[str]) -> None:
    network_id = record.get("networkId")
    status = Status(record.get("status", Status.PENDING.value))

    times: dict[str, int] = {}
    for name in ("createdAt", "modifiedAt"):
        if name in record:
            problem = _time_problem(record[name])
            if problem:
                problems.append(f"{where}.{name}: {problem}")
            else:
                times[name] = parse_rfc3339(record[name])
    created, modified = times.get("createdAt"), times.get("modifiedAt")

    message = record.get("message", "")
    pack = _pack(message)
    parts = 1
    if message != "" and pack is None:
        problems.append(f"{where}.message: not a SenML pack as compact JSON text (C7)")
    elif pack is not None:
        report = check_pack(pack, understood=())
        parts = report.parts
        if report.device != network_id:
            problems.append(
                f"{where}: networkId {network_id!r} is not the pack's bn {report.device!r} (C7)"
            )

    logs = record.get("logs")
    if logs is None:
        return
    if not isinstance(logs, list) or not logs or not all(isinstance(e, dict) for e in logs):
        problems.append(f"{where}.logs: must be a non-empty array of log entries")
        return
    stamps: list[int | None] = []
    for j, entry in enumerate(logs):
        problem = _time_problem(entry.get("createdAt"))
        if problem:
            problems.append(f"{where}.logs[{j}].createdAt: {problem}")
        stamps.append(None if problem else parse_rfc3339(entry["createdAt"]))
    known = [t for t in stamps if t is not None]
    if known != sorted(known):
        problems.append(f"{where}.logs: entries are out of createdAt order (T2)")
    if logs[0].get("event") != Event.DOWNLINK_ACCEPTED.value:
        problems.append(f"{where}.logs[0]: the first entry must be DOWNLINK_ACCEPTED (C7)")
    elif created is not None and stamps[0] is not None and stamps[0] != created:
        problems.append(f"{where}.logs[0]: DOWNLINK_ACCEPTED is not at createdAt (C7)")
    if modified is not None and stamps[-1] is not None and stamps[-1] != modified:
        problems.append(f"{where}.logs: the last entry is not at modifiedAt (T2)")
    if logs[0].get("event") == Event.DOWNLINK_ACCEPTED.value:
        reached, problem = _replay([(e.get("event"), e.get("errorCode")) for e in logs], parts)
        if problem:
            problems.append(f"{where}.{problem}")
        elif status is not None and reached is not status:
            problems.append(
                f"{where}: the logs lead to {reached.value}, the status is {status.value} (S1, S2)"
            )


def check_fixture_set(data: Any) -> list[str]:
    """Every problem of a fixture set, one readable line each; empty when it is sound.

    First what stops it from loading (`load.fixture_problems`: the fixture schema, unique
    device networkIds, unique downlink ids, unique (owner, externalReference) (C6),
    modifiedAt >= createdAt (T2)); then, for each record the schema accepts, its history:
    T1 timestamps as the mock writes them, networkId = the pack's bn (C7), and logs that
    replay as S1 moves logged per S2, in time order, from DOWNLINK_ACCEPTED at createdAt
    to the status at modifiedAt.
    """
    refused = schema_problems(data)
    problems = refused + record_problems(data)
    broken = {p.split(":", 1)[0].split(".", 1)[0] for p in refused}
    downlinks = data.get("downlinks") if isinstance(data, dict) else None
    for i, record in enumerate(downlinks if isinstance(downlinks, list) else []):
        where = f"downlinks[{i}]"
        if isinstance(record, dict) and where not in broken:
            _check_downlink(record, where, problems)
    return problems
