"""Fixture files read and checked as `serve --fixtures` and `Mock` load them.

A fixture file is valid against `mock_server/data/fixture.schema.json` (whose records
are the control plane's `SeedDevice` and `SeedDownlink`, what M3 takes), validated by the
same validator as every request; then the rules across records: each device networkId
once, each downlink id once, each (owner, externalReference) once (C6), and modifiedAt
not before createdAt (T2). `fixtures check` reports the same problems, in the same words,
plus its checks of history (`check.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from mock_server.control.seeding import devices_from, downlinks_from
from mock_server.domain.errors import DomainError
from mock_server.domain.model import Downlink
from mock_server.domain.timefmt import parse_rfc3339
from mock_server.http.problems import MockError
from mock_server.openapi.control import FIXTURE_SCHEMA_URI, control_spec
from mock_server.openapi.validation import error_detail, leaf_error

__all__ = [
    "FixtureError",
    "FixtureSet",
    "fixture_problems",
    "schema_problems",
    "record_problems",
    "load_fixture_file",
    "place",
]

DEFAULT_OWNER = "default"
"""The owner of a fixture record that names none."""


class FixtureError(ValueError):
    """A fixture file that cannot be loaded: `path` and every one of its `problems`, each a
    line that names the place (``downlinks[3].createdAt``) and what is wrong."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"{path}: {problem}" for problem in problems)
        super().__init__(
            f"{path}: not loaded, {len(problems)} problem(s), as "
            f"`downlinks-mock fixtures check` reports them:\n{lines}"
        )


def place(path: tuple[str | int, ...]) -> str:
    """A place in a fixture set as its problems name it: ``downlinks[3].logs[0].event``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the fixture set"


def schema_problems(data: Any) -> list[str]:
    """What the fixture schema refuses, one line each."""
    validator = control_spec().validator_for(FIXTURE_SCHEMA_URI)
    return [
        f"{place(tuple(leaf.absolute_path))}: {error_detail(leaf)}"
        for leaf in map(leaf_error, validator.iter_errors(data))
    ]


def _records(data: Any, key: str) -> list[tuple[int, dict[str, Any]]]:
    records = data.get(key) if isinstance(data, dict) else None
    if not isinstance(records, list):
        return []
    return [(i, r) for i, r in enumerate(records) if isinstance(r, dict)]


def _time(value: Any) -> int | None:
    try:
        return parse_rfc3339(value) if isinstance(value, str) else None
    except ValueError:
        return None  # the schema names it


def fixture_problems(data: Any) -> list[str]:
    """Every problem that stops a fixture set from loading, one line each; empty when it
    loads."""
    return schema_problems(data) + record_problems(data)


def record_problems(data: Any) -> list[str]:
    """What breaks a rule across records or fields, one line each."""
    problems: list[str] = []
    network_ids: set[str] = set()
    for i, device in _records(data, "devices"):
        network_id = device.get("networkId")
        if isinstance(network_id, str):
            if network_id in network_ids:
                problems.append(f"devices[{i}]: duplicate networkId {network_id!r}")
            network_ids.add(network_id)
    ids: set[str] = set()
    references: set[tuple[str, str]] = set()
    for i, record in _records(data, "downlinks"):
        where = f"downlinks[{i}]"
        did = record.get("id")
        if isinstance(did, str):
            if did in ids:
                problems.append(f"{where}: duplicate id {did!r}")
            ids.add(did)
        reference = record.get("externalReference")
        if isinstance(reference, str):
            key = (str(record.get("owner", DEFAULT_OWNER)), reference)
            if key in references:
                problems.append(
                    f"{where}: externalReference {reference!r} is already used by owner "
                    f"{key[0]!r} (C6)"
                )
            references.add(key)
        created, modified = _time(record.get("createdAt")), _time(record.get("modifiedAt"))
        if created is not None and modified is not None and modified < created:
            problems.append(
                f"{where}: modifiedAt {record['modifiedAt']} is before createdAt "
                f"{record['createdAt']} (T2)"
            )
    return problems


@dataclass(frozen=True)
class FixtureSet:
    """A fixture file's content, valid: `{"devices": [...], "downlinks": [M3 records]}`."""

    path: Path
    devices: list[Any]
    downlinks: list[Any]

    def prepare(self, now: int) -> tuple[list[tuple[str, dict[str, str]]], list[Downlink]]:
        """The devices and the downlinks to store (fresh objects each time, for M2);
        FixtureError when the records break T2 against `now` (a modifiedAt before a
        defaulted createdAt)."""
        downlinks, errors = downlinks_from(self.downlinks, default_owner=DEFAULT_OWNER, now=now)
        if errors:
            raise FixtureError(
                self.path,
                [f"downlinks{e['pointer'][1:].replace('/', '.')}: {e['detail']}" for e in errors],
            )
        return devices_from(self.devices), downlinks

    def apply(self, store: Any, now: int) -> None:
        """Register the devices and store the downlinks (fresh objects each time, for M2).

        FixtureError when the records clash with what is stored (another fixture file's
        ids) or break T2 against `now` (a modifiedAt before a defaulted createdAt)."""
        devices, downlinks = self.prepare(now)
        store.register_devices(devices)
        try:
            store.seed(downlinks)
        except (MockError, DomainError) as exc:  # a 409: taken by another fixture file
            raise FixtureError(self.path, [exc.detail]) from None


def load_fixture_file(path: Path) -> FixtureSet:
    """Read and check a fixture set; FixtureError names the file and every problem."""
    try:
        data = orjson.loads(Path(path).read_bytes())
    except OSError as exc:
        raise FixtureError(path, [f"cannot read it: {exc.strerror}"]) from None
    except orjson.JSONDecodeError as exc:
        raise FixtureError(path, [f"not valid JSON: {exc}"]) from None
    problems = fixture_problems(data)
    if problems:
        raise FixtureError(path, problems)
    return FixtureSet(path, data.get("devices", []), data.get("downlinks", []))
