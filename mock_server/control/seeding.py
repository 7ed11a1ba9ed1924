"""Prepared state (M3): device registrations and downlink records, already valid against
their schemas (`SeedDevice`, `SeedDownlink` in the control plane's OpenAPI document), made
into what the store keeps, with M3's defaults and the rules across fields (T2)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mock_server.domain.model import Downlink, LogEntry, Status
from mock_server.domain.timefmt import parse_rfc3339
from mock_server.http.problems import Violation

if TYPE_CHECKING:
    pass

__all__ = ["devices_from", "downlinks_from"]


def devices_from(records: Sequence[Mapping[str, Any]]) -> list[tuple[str, dict[str, str]]]:
    """Schema-valid `SeedDevice` records -> (networkId, tags) pairs for the store."""
    return [(record["networkId"], dict(record.get("tags", {}))) for record in records]


def downlinks_from(
    records: Sequence[Mapping[str, Any]], *, default_owner: str, now: int, prefix: str = "#"
) -> tuple[list[Downlink], list[Violation]]:
    """Schema-valid `SeedDownlink` records -> downlinks, and what breaks a rule across
    fields (modifiedAt before createdAt, T2), with pointers under `prefix`.

    Missing values default as M3 says: a new UUID, now, `modifiedAt` = `createdAt`,
    PENDING, an empty message and one DOWNLINK_ACCEPTED log at `createdAt`.
    """
    out: list[Downlink] = []
    errors: list[Violation] = []
    for index, record in enumerate(records):
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
