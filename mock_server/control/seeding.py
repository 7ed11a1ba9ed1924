"""Prepared state (M3): device registrations and downlink records, already valid against
their schemas (`SeedDevice`, `SeedDownlink` in the control plane's OpenAPI document), made
into what the store keeps, with M3's defaults and the rules across fields (T2), and what
they clash with (`clashes`), said without telling anything of another client's data."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from mock_server.domain.errors import ReferenceTaken
from mock_server.domain.model import Downlink, LogEntry, NewDownlink, Status
from mock_server.domain.timefmt import parse_rfc3339
from mock_server.http.problems import Violation
from mock_server.store.base import Store

__all__ = ["devices_from", "downlinks_from", "clashes", "ID_TAKEN", "REFERENCE_TAKEN"]

ID_TAKEN = "this id is taken: leave `id` out for a new one, or choose another"
"""What a taken id answers, whoever holds it: the same words for every holder (M3)."""
REFERENCE_TAKEN = "this owner already holds a downlink with this externalReference (C6)"


def devices_from(records: Sequence[Mapping[str, Any]]) -> list[tuple[str, dict[str, str]]]:
    """Schema-valid `SeedDevice` records -> (networkId, tags) pairs for the store."""
    return [(record["networkId"], dict(record.get("tags", {}))) for record in records]


def downlinks_from(
    records: Sequence[Mapping[str, Any]],
    *,
    default_owner: str,
    now: int,
    prefix: str = "#",
    offset: int = 0,
) -> tuple[list[Downlink], list[Violation]]:
    """Schema-valid `SeedDownlink` records -> downlinks, and what breaks a rule across
    fields (modifiedAt before createdAt, T2), with pointers under `prefix` (the first
    record numbered `offset`: a slice of a larger array).

    Missing values default as M3 says: a new UUID, now, `modifiedAt` = `createdAt`,
    PENDING, an empty message and one DOWNLINK_ACCEPTED log at `createdAt`.
    """
    out: list[Downlink] = []
    errors: list[Violation] = []
    for index, record in enumerate(records, start=offset):
        created = _time(record.get("createdAt"), now)
        modified = _time(record.get("modifiedAt"), created)
        if modified < created:
            errors.append(
                {
                    "pointer": f"{prefix}/{index}/modifiedAt",
                    "detail": f"{record['modifiedAt']} is before createdAt "
                    f"{record['createdAt'] if 'createdAt' in record else '(now)'}: "
                    "modifiedAt must not be before createdAt (T2)",
                }
            )
        logs = (
            [
                LogEntry(
                    parse_rfc3339(entry["createdAt"]), entry.get("event"), entry.get("errorCode")
                )
                for entry in record["logs"]
            ]
            if "logs" in record
            else [LogEntry(created, "DOWNLINK_ACCEPTED")]
        )
        out.append(
            Downlink(
                id=record.get("id") or str(uuid.uuid4()),
                owner=record.get("owner", default_owner),
                network_id=record["networkId"],
                status=Status(record.get("status", Status.PENDING.value)),
                created_at=created,
                modified_at=modified,
                message=record.get("message", ""),
                external_reference=record.get("externalReference"),
                logs=logs,
            )
        )
    return out, errors


def _time(value: Any, default: int) -> int:
    return default if value is None else parse_rfc3339(value)


def clashes(store: Store, downlinks: Sequence[Downlink], now: int) -> list[Violation]:
    """Where `downlinks` clash with each other or with what `store` holds, one entry per
    record, pointing into the request only (`#/3/id`): never the stored downlink, its owner
    or its reference. A taken id reads the same whoever holds it; a reference is checked
    within the record's own owner, as that client's create would be (C6, C8).

    Call it under the store's lock, right before `store.seed`, so nothing comes between.
    """
    errors: list[Violation] = []
    ids: dict[str, int] = {}
    refs: dict[tuple[str, str], int] = {}
    for index, dl in enumerate(downlinks):
        first = ids.setdefault(dl.id, index)
        if first != index:
            errors.append({"pointer": f"#/{index}/id", "detail": f"repeats record #/{first}'s id"})
        elif store.find(dl.id) is not None:
            errors.append({"pointer": f"#/{index}/id", "detail": ID_TAKEN})
        if dl.external_reference is None:
            continue
        key = (dl.owner, dl.external_reference)
        first = refs.setdefault(key, index)
        if first != index:
            errors.append(
                {
                    "pointer": f"#/{index}/externalReference",
                    "detail": f"repeats record #/{first}'s owner and externalReference",
                }
            )
        elif _reference_taken(store, dl, now):
            errors.append({"pointer": f"#/{index}/externalReference", "detail": REFERENCE_TAKEN})
    return errors


def _reference_taken(store: Store, dl: Downlink, now: int) -> bool:
    """Whether the record's owner holds its externalReference: the check a dry-run create
    by that client makes (C8), which stores nothing."""
    probe = NewDownlink(
        network_id=dl.network_id,
        message="",
        method=None,
        external_reference=dl.external_reference,
        retry_limit=0,
        feedback_timeout_ms=None,
        parts=1,
        dry_run=True,
    )
    try:
        store.create(dl.owner, probe, now, dry_run=True)
    except ReferenceTaken:
        return True
    return False
