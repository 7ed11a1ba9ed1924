"""Fixture sets written in a stable order: the same set always gives the same bytes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["ordered", "render_fixture_set", "write_fixture_set"]

# The key order of a written record: the public `Downlink` fields as the spec lists them,
# then `owner` (M3). Unknown keys follow, sorted.
_DOWNLINK_KEYS = (
    "id",
    "networkId",
    "externalReference",
    "status",
    "message",
    "createdAt",
    "modifiedAt",
    "logs",
    "owner",
)
_LOG_KEYS = ("createdAt", "event", "errorCode")


def ordered(data: dict[str, Any]) -> dict[str, Any]:
    """The set in its written order: devices by networkId, downlinks by (createdAt, id),
    record keys in `_DOWNLINK_KEYS` order, tags by name."""

    def keyed(record: dict[str, Any], order: Sequence[str]) -> dict[str, Any]:
        known = [k for k in order if k in record]
        return {k: record[k] for k in [*known, *sorted(set(record) - set(order))]}

    devices = [
        {**d, "tags": dict(sorted(d["tags"].items()))} if isinstance(d.get("tags"), dict) else d
        for d in data.get("devices", [])
    ]
    downlinks = []
    for record in data.get("downlinks", []):
        record = keyed(record, _DOWNLINK_KEYS)
        if isinstance(record.get("logs"), list):
            record["logs"] = [
                keyed(e, _LOG_KEYS) if isinstance(e, dict) else e for e in record["logs"]
            ]
        downlinks.append(record)
    devices.sort(key=lambda d: str(d.get("networkId", "")))
    downlinks.sort(key=lambda r: (str(r.get("createdAt", "")), str(r.get("id", ""))))
    return {"devices": devices, "downlinks": downlinks}


def render_fixture_set(data: dict[str, Any]) -> str:
    """The set as pretty JSON text in a stable order (see `_ordered`), ending in a newline."""
    return json.dumps(ordered(data), indent=2, ensure_ascii=False) + "\n"


def write_fixture_set(data: dict[str, Any], path: Path) -> None:
    """Write the set to `path` as UTF-8 pretty JSON in a stable order."""
    Path(path).write_text(render_fixture_set(data), encoding="utf-8")
