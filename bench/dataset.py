"""Realistic stored downlinks for one client, made fast enough to fill a store of a million.

The shapes follow what the mock stores after real use: a fleet of devices of a few kinds,
each downlink a compact SenML pack for one device, most of them done (DELIVERED, FAILED,
CANCELLED) with the S2 logs of their moves (`model.move_logs`), the ones still in flight
created within the last hours, and an `externalReference` on two in five. Everything comes
from one seeded `random.Random`, so a size and a seed always give the same downlinks.
"""

from __future__ import annotations

import gc
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import orjson

from mock_server.domain.lifecycle import move_logs
from mock_server.domain.model import Downlink, LogEntry, Status
from mock_server.fixtureset.generate import STATUS_WEIGHTS

__all__ = [
    "OWNER",
    "DEVICE_COUNT",
    "SPAN_MS",
    "Device",
    "make_devices",
    "make_downlinks",
    "create_body",
]

OWNER = "client"
"""The one client every benchmark downlink belongs to (`mint_token(OWNER)` reads them)."""

DEVICE_COUNT = 100
"""Devices in the fleet: a `q` naming one device's networkId selects about 1 in 100."""

_HOUR = 3_600_000
SPAN_MS = 30 * 24 * _HOUR
"""Downlinks are created over the 30 days before the end instant."""

_IN_FLIGHT_MS = 6 * _HOUR  # only downlinks this young may still be in flight

# The moves each final status is reached by (S1), from PENDING.
_PATHS: dict[Status, tuple[Status, ...]] = {
    Status.PENDING: (),
    Status.EXECUTING: (Status.EXECUTING,),
    Status.SENT_TO_CARRIER: (Status.EXECUTING, Status.SENT_TO_CARRIER),
    Status.RETRY: (Status.EXECUTING, Status.SENT_TO_CARRIER, Status.RETRY),
    Status.DELIVERED: (Status.EXECUTING, Status.SENT_TO_CARRIER, Status.DELIVERED),
    Status.FAILED: (Status.EXECUTING, Status.SENT_TO_CARRIER, Status.FAILED),
    Status.CANCELLED: (Status.CANCELLED,),
}
# How often each status ends a downlink: the fixture generator's mix.
_WEIGHTS = STATUS_WEIGHTS


@dataclass(frozen=True, slots=True)
class Device:
    """One device of the fleet: its networkId, its registry tags and what it is told."""

    network_id: str
    tags: dict[str, str]
    kind: str  # thermostat, water-meter, street-light or smart-plug


_KINDS = ("thermostat", "water-meter", "street-light", "smart-plug")
_SITES = ("Delft", "Utrecht", "Groningen", "Eindhoven", "Zwolle")


def make_devices(count: int = DEVICE_COUNT, seed: int = 0) -> list[Device]:
    """`count` devices with DEVEUI, IMEI and DVNUUID identifiers and name/site/type tags."""
    rng = random.Random(seed)
    out: list[Device] = []
    for i in range(count):
        which = i % 3
        if which == 0:
            network_id = f"urn:dev:DEVEUI:{rng.getrandbits(64):016x}:"
        elif which == 1:
            network_id = f"urn:dev:IMEI:35{rng.randrange(10**13):013d}:"
        else:
            network_id = f"urn:dev:DVNUUID:{uuid.UUID(int=rng.getrandbits(128), version=4)}:"
        kind = _KINDS[i % len(_KINDS)]
        tags = {"name": f"{kind}-{i + 1}", "site": rng.choice(_SITES), "type": kind}
        out.append(Device(network_id, tags, kind))
    return out


# Message templates per device kind, filled with values per downlink: every downlink gets
# its own message string, as one parsed from a request body would be.
_TEMPLATES: dict[str, tuple[str, tuple[tuple[str, ...], ...]]] = {
    "thermostat": (
        '[{"bn":"%s"},{"n":"setpoint","u":"Cel","v":%s},{"n":"mode","vs":"%s"}]',
        (("16.0", "18.5", "19.5", "20.0", "21.5", "23.0"), ("comfort", "eco", "away")),
    ),
    "water-meter": (
        '[{"bn":"%s"},{"n":"valve","vb":%s},{"n":"interval","u":"s","v":%s}]',
        (("true", "false"), ("300", "900", "3600")),
    ),
    "street-light": (
        '[{"bn":"%s"},{"n":"dim","u":"%%","v":%s},{"n":"schedule","vs":"%s"}]',
        (("0", "25", "50", "75", "100"), ("dusk-dawn", "22:00-06:00")),
    ),
    "smart-plug": ('[{"bn":"%s"},{"n":"relay","vb":%s}]', (("true", "false"),)),
}


def _log_shapes() -> dict[Status, list[tuple[int, str | None, str | None]]]:
    """Per final status, its S2 log entries as (move number, event, errorCode), read from
    `model.move_logs` once so that the logs here follow the one table of S2."""
    shapes: dict[Status, list[tuple[int, str | None, str | None]]] = {}
    for status, path in _PATHS.items():
        shape: list[tuple[int, str | None, str | None]] = [(0, "DOWNLINK_ACCEPTED", None)]
        current = Status.PENDING
        for step, target in enumerate(path, start=1):
            shape += [(step, e.event, e.error_code) for e in move_logs(current, target, 0)]
            current = target
        shapes[status] = shape
    return shapes


def _uuid4(bits: int) -> str:
    """A version 4 UUID from 128 random bits, formatted without the `uuid.UUID` object."""
    h = f"{bits:032x}"
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"


def _downlinks(
    count: int, end_ms: int, devices: list[Device], rng: random.Random, owner: str
) -> Iterator[Downlink]:
    start = end_ms - SPAN_MS
    width = SPAN_MS - _HOUR
    shapes = _log_shapes()
    random_ = rng.random
    # Created in time order, as a store fills in real use.
    created_times = sorted([start + int(random_() * width) for _ in range(count)])
    chosen = rng.choices(list(_WEIGHTS), weights=list(_WEIGHTS.values()), k=count)
    fleet = [(d.network_id, *_TEMPLATES[d.kind]) for d in devices]
    n_devices = len(fleet)
    recent = end_ms - _IN_FLIGHT_MS
    method = {"protocol": "LORA", "fPort": 10}
    for i, created in enumerate(created_times):
        network_id, template, choices = fleet[int(random_() * n_devices)]
        status = chosen[i]
        if created < recent and not status.terminal:
            status = Status.DELIVERED  # an old downlink is done by now
        # Each move comes 50 ms to 2 minutes after the one before.
        moments = [created]
        for _ in range(len(_PATHS[status])):
            moments.append(moments[-1] + 50 + int(random_() * 120_000))
        values = tuple(c[int(random_() * len(c))] for c in choices)
        yield Downlink(
            id=_uuid4(rng.getrandbits(128)),
            owner=owner,
            network_id=network_id,
            status=status,
            created_at=created,
            modified_at=moments[-1],
            message=template % (network_id, *values),
            external_reference=f"WO-{i:07d}" if random_() < 0.4 else None,
            logs=[LogEntry(moments[step], event, code) for step, event, code in shapes[status]],
            method=method,
        )


def make_downlinks(
    count: int,
    end_ms: int,
    *,
    devices: list[Device] | None = None,
    seed: int = 0,
    owner: str = OWNER,
) -> list[Downlink]:
    """`count` downlinks of `owner` created over `SPAN_MS` before `end_ms`, oldest first.

    The cyclic collector is paused while the objects are made (a million of them would
    otherwise be traversed again and again) and they are collected once at the end.
    """
    devices = devices or make_devices(seed=seed)
    rng = random.Random(seed + 1)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return list(_downlinks(count, end_ms, devices, rng, owner))
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()


def create_body(device: Device) -> bytes:
    """A valid `POST /downlinks` body for `device` (C1, C2), without an externalReference,
    so that the same body can be sent any number of times (C6)."""
    return orjson.dumps(
        {
            "instruction": [{"bn": device.network_id}, {"n": "setpoint", "u": "Cel", "v": 21.5}],
            "method": {"protocol": "LORA", "fPort": 10},
            "retryLimit": 2,
        }
    )
