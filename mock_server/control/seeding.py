"""Prepared state: M3 records and device registrations, and fixture files made of them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from mock_server.domain.model import Downlink, LogEntry, Status
from mock_server.domain.timefmt import parse_rfc3339
from mock_server.http.problems import BadRequest, Violation

__all__ = [
    "parse_downlinks",
    "parse_devices",
    "FixtureSet",
    "FixtureError",
    "load_fixture_file",
]

_STATUSES = ", ".join(s.value for s in Status)


class FixtureError(ValueError):
    """A fixture file that cannot be loaded; the message names the file, the place and why."""


def _schema_violations(instance: Any, schema: str, prefix: str) -> list[Violation]:
    from mock_server.openapi.spec import load_spec

    return load_spec().schema_violations(schema, instance, prefix)


def _time(record: dict, name: str, prefix: str, errors: list[Violation]) -> int | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        return None  # the schema check reports the type
    try:
        return parse_rfc3339(value)
    except ValueError as exc:
        errors.append({"pointer": f"{prefix}/{name}", "detail": str(exc)})
        return None


def parse_downlinks(records: Any, *, default_owner: str, now: int) -> list[Downlink]:
    """M3 records -> downlinks, or BadRequest naming every invalid field of every record.

    A record takes the public `Downlink` fields plus `owner`; only `networkId` is required.
    Missing values default as M3 says: a new UUID, now, `modifiedAt` = `createdAt`, PENDING,
    an empty message and one DOWNLINK_ACCEPTED log.
    """
    if not isinstance(records, list):
        raise BadRequest(
            "the body must be a JSON array of downlink records",
            errors=[{"pointer": "#", "detail": "expected an array"}],
        )
    errors: list[Violation] = []
    out: list[Downlink] = []
    for i, record in enumerate(records):
        prefix = f"#/{i}"
        # M3's defaults first: the schema requires a status, a record may leave it out.
        if isinstance(record, dict):
            record = {"status": "PENDING", **record}
        found = _schema_violations(record, "Downlink", prefix)
        errors.extend(found)
        if not isinstance(record, dict):
            continue
        if found and any(v["pointer"] == prefix for v in found):
            continue
        owner = record.get("owner", default_owner)
        if not isinstance(owner, str) or not owner:
            errors.append(
                {"pointer": f"{prefix}/owner", "detail": "owner must be a non-empty string"}
            )
        status_text = record.get("status", "PENDING")
        try:
            status = Status(status_text)
        except ValueError:
            errors.append(
                {
                    "pointer": f"{prefix}/status",
                    "detail": f"unknown status {status_text!r}: one of {_STATUSES}",
                }
            )
            status = Status.PENDING
        created = _time(record, "createdAt", prefix, errors)
        modified = _time(record, "modifiedAt", prefix, errors)
        created = now if created is None else created
        modified = created if modified is None else modified
        if modified < created:
            errors.append(
                {
                    "pointer": f"{prefix}/modifiedAt",
                    "detail": "modifiedAt must not be before createdAt (T2)",
                }
            )
        did = record.get("id") or str(uuid.uuid4())
        logs: list[LogEntry] = []
        raw_logs = record.get("logs")
        if isinstance(raw_logs, list):
            for j, entry in enumerate(raw_logs):
                if not isinstance(entry, dict):
                    continue
                at = _time(entry, "createdAt", f"{prefix}/logs/{j}", errors)
                logs.append(
                    LogEntry(
                        at if at is not None else created,
                        entry.get("event"),
                        entry.get("errorCode"),
                    )
                )
        else:
            logs = [LogEntry(created, "DOWNLINK_ACCEPTED")]
        if found:
            continue
        out.append(
            Downlink(
                id=did,
                owner=owner,
                network_id=record["networkId"],
                status=status,
                created_at=created,
                modified_at=modified,
                message=record.get("message", ""),
                external_reference=record.get("externalReference"),
                logs=logs,
            )
        )
    if errors:
        raise BadRequest("the records are invalid; nothing was stored", errors=errors)
    return out


def parse_devices(records: Any) -> list[tuple[str, dict[str, str]]]:
    """`[{"networkId": ..., "tags": {name: value}}]` -> pairs, or BadRequest (M3)."""
    if not isinstance(records, list):
        raise BadRequest(
            "the body must be a JSON array of devices",
            errors=[{"pointer": "#", "detail": "expected an array"}],
        )
    errors: list[Violation] = []
    out: list[tuple[str, dict[str, str]]] = []
    for i, record in enumerate(records):
        prefix = f"#/{i}"
        if not isinstance(record, dict):
            errors.append({"pointer": prefix, "detail": "expected an object"})
            continue
        nid = record.get("networkId")
        if not isinstance(nid, str) or not nid:
            errors.append(
                {"pointer": f"{prefix}/networkId", "detail": "a non-empty string is required"}
            )
            continue
        tags = record.get("tags", {})
        if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
            errors.append(
                {"pointer": f"{prefix}/tags", "detail": "an object of string values is required"}
            )
            continue
        out.append((nid, tags))
    if errors:
        raise BadRequest("the devices are invalid; nothing was stored", errors=errors)
    return out


@dataclass(frozen=True)
class FixtureSet:
    """A fixture file's content: `{"devices": [...], "downlinks": [M3 records]}`."""

    path: Path
    devices: list[Any]
    downlinks: list[Any]

    def apply(self, store: Any, now: int) -> None:
        """Register the devices and store the downlinks (fresh objects each time, for M2)."""
        devices = parse_devices(self.devices)
        downlinks = parse_downlinks(self.downlinks, default_owner="default", now=now)
        store.register_devices(devices)
        store.seed(downlinks)


def load_fixture_file(path: Path) -> FixtureSet:
    """Read and validate a fixture set; FixtureError names the file, the key and the fix."""
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read it: {exc.strerror}") from None
    except orjson.JSONDecodeError as exc:
        raise FixtureError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not set(data) <= {"devices", "downlinks"}:
        raise FixtureError(
            f"{path}: expected an object with the keys 'devices' and 'downlinks' "
            "(make one with `downlinks-mock fixtures generate`)"
        )
    fixture = FixtureSet(path, data.get("devices", []), data.get("downlinks", []))
    try:
        parse_devices(fixture.devices)
        parse_downlinks(fixture.downlinks, default_owner="default", now=0)
    except BadRequest as exc:
        first = (exc.errors or [{}])[0]
        where = first.get("pointer", "#")
        section = "devices" if "devices" in exc.detail else "downlinks"
        raise FixtureError(
            f"{path}: {section}{where[1:]}: {first.get('detail', exc.detail)} "
            f"({len(exc.errors or [])} problem(s) in all)"
        ) from None
    return fixture
