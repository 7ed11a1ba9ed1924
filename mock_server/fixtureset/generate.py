"""Fixture sets generated: a device registry and M3 downlink records, made up by Faker.

A fixture set is one JSON object: ``{"devices": [{"networkId", "tags"}], "downlinks": [M3
records]}``. `generate` makes one that is deterministic under its seed: the same arguments
give byte-identical JSON, since every choice comes from a seeded `random.Random` or a
seeded Faker instance and "now" is a fixed instant unless one is given.

Each downlink's history is a walk over the S1 move table (`lifecycle.MOVES`) from PENDING to the
status it ends in, logged as S2 says (`model.move_logs`); `check.check_fixture_set` replays logs
against the same table, so neither keeps a copy of the rules. Writing a set is `render`;
reading one is `load`.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from mock_server.domain.lifecycle import MOVES, move_logs
from mock_server.domain.model import Event, LogEntry, Status
from mock_server.domain.senml import check_pack
from mock_server.domain.timefmt import format_ms, parse_rfc3339
from mock_server.fixtureset.render import ordered

if TYPE_CHECKING:
    from faker import Faker

__all__ = [
    "STATUS_WEIGHTS",
    "DEFAULT_CLIENTS",
    "DEFAULT_END",
    "DEFAULT_END_MS",
    "generate",
]

DEFAULT_CLIENTS: tuple[str, ...] = ("demo-client", "acme-utilities", "city-of-delft")
DEFAULT_END = "2025-06-01T00:00:00.000Z"
DEFAULT_END_MS = parse_rfc3339(DEFAULT_END)
"""The instant a generated set ends at unless told otherwise: fixed, so output never varies."""

_SECOND = 1000
_MINUTE = 60 * _SECOND
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR


# How often each status is chosen once every status has appeared once: most downlinks of
# a month are done, a few are still in flight.
STATUS_WEIGHTS: dict[Status, int] = {
    Status.PENDING: 6,
    Status.EXECUTING: 3,
    Status.SENT_TO_CARRIER: 8,
    Status.RETRY: 5,
    Status.DELIVERED: 55,
    Status.FAILED: 14,
    Status.CANCELLED: 9,
}

# How long after the previous move a move into each status happens, in ms (low, high).
_DELAY: dict[Status, tuple[int, int]] = {
    Status.EXECUTING: (20, 3 * _SECOND),  # picked off the queue
    Status.SENT_TO_CARRIER: (100, 5 * _SECOND),  # encoded and handed on
    Status.RETRY: (2 * _SECOND, 10 * _MINUTE),  # the try failed or went unanswered
    Status.DELIVERED: (2 * _SECOND, 15 * _MINUTE),  # e.g. LoRa class A waits for an uplink
    Status.FAILED: (50, 5 * _MINUTE),
    Status.CANCELLED: (5 * _SECOND, 45 * _MINUTE),
}
# A move into EXECUTING after RETRY waits for the back-off.
_BACKOFF = (30 * _SECOND, 10 * _MINUTE)
# feedbackTimeout values (C4: at least 10 minutes) that FEEDBACK_TIMEOUT failures wait for.
_FEEDBACK_TIMEOUTS = (10 * _MINUTE, 30 * _MINUTE, _HOUR, 6 * _HOUR, 12 * _HOUR)

_PART_FAILURES = ("CARRIER_TIMEOUT", "DEVICE_UNREACHABLE", "NETWORK_CONGESTION", "NACK_RECEIVED")
_REJECTIONS = ("ENCODING_FAILED", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_FPORT")
_CARRIER_FAILURES = ("CARRIER_REJECTED", "NETWORK_UNAVAILABLE")


@dataclass(frozen=True)
class _Kind:
    """A sort of device: its `type` tag, its name prefix and the instructions it takes."""

    type: str
    prefix: str
    records: Callable[[random.Random, Faker], list[dict[str, Any]]]
    extra_tag: str | None = None  # "floor" or "street"


def _interval(rng: random.Random) -> dict[str, Any]:
    return {"n": "interval", "u": "s", "v": rng.choice((300, 900, 3600, 21600, 86400))}


def _water_meter(rng: random.Random, fake: Faker) -> list[dict[str, Any]]:
    return [{"n": "valve", "vb": rng.random() < 0.8}, _interval(rng)]


def _thermostat(rng: random.Random, fake: Faker) -> list[dict[str, Any]]:
    return [
        {"n": "setpoint", "u": "Cel", "v": rng.randint(32, 46) / 2},
        {"n": "mode", "vs": rng.choice(("comfort", "eco", "away", "frost"))},
        {
            "n": "display",
            "vs": rng.choice(("Welkom", "Eco tot 07:00", f"Hallo {fake.first_name()}")),
        },
    ]


def _boiler(rng: random.Random, fake: Faker) -> list[dict[str, Any]]:
    return [
        {"n": "flowTemperature", "u": "Cel", "v": rng.choice((45, 55, 60, 70))},
        {"n": "heating", "vb": rng.random() < 0.7},
    ]


def _street_light(rng: random.Random, fake: Faker) -> list[dict[str, Any]]:
    return [
        {"n": "dim", "u": "%", "v": rng.choice((0, 25, 50, 75, 100))},
        {"n": "schedule", "vs": rng.choice(("dusk-dawn", "19:00-07:00", "22:00-06:00"))},
    ]


def _parking_sensor(rng: random.Random, fake: Faker) -> list[dict[str, Any]]:
    raw = bytes(rng.getrandbits(8) for _ in range(rng.randint(3, 8)))
    # vd as RFC 8428 writes it: base64url without padding
    config = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
    return [{"n": "config", "vd": config}, _interval(rng)]


def _air_quality(rng: random.Random, fake: Faker) -> list[dict[str, Any]]:
    return [_interval(rng), {"n": "led", "vb": rng.random() < 0.5}]


def _smart_plug(rng: random.Random, fake: Faker) -> list[dict[str, Any]]:
    return [
        {"n": "relay", "vb": rng.random() < 0.5},
        {"n": "powerLimit", "u": "W", "v": rng.choice((500, 1000, 2300, 3680))},
    ]


def _untagged(rng: random.Random, fake: Faker) -> list[dict[str, Any]]:
    return [rng.choice((_interval(rng), {"n": "reboot", "vb": True}))]


_KINDS: tuple[_Kind, ...] = (
    _Kind("water-meter", "water-meter", _water_meter),
    _Kind("thermostat", "thermostat", _thermostat, "floor"),
    _Kind("boiler-controller", "boiler", _boiler, "floor"),
    _Kind("street-light", "lamp", _street_light, "street"),
    _Kind("parking-sensor", "parking", _parking_sensor, "street"),
    _Kind("air-quality-sensor", "aq", _air_quality, "street"),
    _Kind("smart-plug", "plug", _smart_plug, "floor"),
)


@dataclass(frozen=True)
class _Device:
    network_id: str
    owner: str
    tags: dict[str, str]
    records: Callable[[random.Random, Faker], list[dict[str, Any]]]


def _imei(rng: random.Random) -> str:
    """15 digits: an 8-digit type allocation code (35... as issued to GSMA members), a
    6-digit serial and a Luhn check digit."""
    body = [3, 5] + [rng.randint(0, 9) for _ in range(12)]
    total = 0
    for i, digit in enumerate(reversed(body)):
        doubled = digit * 2 if i % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return "".join(map(str, body)) + str(-total % 10)


def _network_id(kind: int, rng: random.Random, fake: Faker) -> str:
    if kind == 0:
        return f"urn:dev:DEVEUI:{rng.getrandbits(64):016x}:"
    if kind == 1:
        return f"urn:dev:IMEI:{_imei(rng)}:"
    return f"urn:dev:DVNUUID:{fake.uuid4()}:"


def _devices(count: int, clients: Sequence[str], rng: random.Random, fake: Faker) -> list[_Device]:
    # Deal identifier kinds and owners round-robin, then shuffle: every kind and every
    # client appears as soon as there are enough devices.
    id_kinds = [i % 3 for i in range(count)]
    owners = [clients[i % len(clients)] for i in range(count)]
    rng.shuffle(id_kinds)
    rng.shuffle(owners)
    untagged = set(rng.sample(range(count), count // 10 if count >= 5 else 0))
    seen_ids: set[str] = set()
    numbers: dict[str, int] = {}
    out: list[_Device] = []
    for i in range(count):
        network_id = _network_id(id_kinds[i], rng, fake)
        while network_id in seen_ids:
            network_id = _network_id(id_kinds[i], rng, fake)
        seen_ids.add(network_id)
        if i in untagged:
            out.append(_Device(network_id, owners[i], {}, _untagged))
            continue
        kind = rng.choice(_KINDS)
        numbers[kind.prefix] = numbers.get(kind.prefix, 0) + 1
        tags = {
            "name": f"{kind.prefix}-{numbers[kind.prefix]}",
            "site": fake.city(),
            "type": kind.type,
        }
        if kind.extra_tag == "floor":
            tags["floor"] = str(rng.randint(0, 6))
        elif kind.extra_tag == "street":
            tags["street"] = fake.street_name()
        out.append(_Device(network_id, owners[i], tags, kind.records))
    return out


def _statuses(count: int, rng: random.Random) -> list[Status]:
    # Every status once (when there is room), the rest by weight, in random order.
    firsts = list(Status)[:count]
    rest = rng.choices(
        list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()), k=count - len(firsts)
    )
    out = firsts + rest
    rng.shuffle(out)
    return out


def _reaches(start: Status, goal: Status, *, via_retry: bool) -> bool:
    """Whether S1 leads from `start` to `goal` without passing through another terminal state
    (and without RETRY, unless `via_retry`)."""
    seen, todo = {start}, [start]
    while todo:
        current = todo.pop()
        if current is goal:
            return True
        for nxt in MOVES[current]:
            if nxt in seen or (nxt.terminal and nxt is not goal):
                continue
            if nxt is Status.RETRY and not via_retry:
                continue
            seen.add(nxt)
            todo.append(nxt)
    return False


def _walk(goal: Status, rng: random.Random) -> list[Status]:
    """The statuses of a random walk over S1 from PENDING to `goal`, both included.

    The walk enters RETRY at most a drawn number of times, and exactly that many when `goal`
    is not terminal (so a RETRY goal is reached through at least one failed try)."""
    retries = 0 if goal is Status.PENDING else rng.choice((0, 0, 0, 0, 1, 1, 2, 3))
    if goal is Status.RETRY:
        retries = max(retries, 1)
    current, path = Status.PENDING, [Status.PENDING]
    while not (current is goal and (goal.terminal or retries == 0)):
        options = []
        for nxt in sorted(MOVES[current], key=lambda s: s.value):
            left = retries - (nxt is Status.RETRY)
            if left < 0 or (nxt.terminal and nxt is not goal):
                continue
            if nxt is goal and not goal.terminal and left > 0:
                # must come back here after the remaining retries
                if _reaches(nxt, Status.RETRY, via_retry=True):
                    options.append(nxt)
                continue
            if _reaches(nxt, goal, via_retry=left > 0) or nxt is goal:
                options.append(nxt)
        if not options:
            raise RuntimeError(f"S1 leads nowhere from {current.value} towards {goal.value}")
        # Prefer moving on over giving up early or trying again.
        weights = [2 if nxt is Status.RETRY or nxt.terminal else 3 for nxt in options]
        current = rng.choices(options, weights=weights)[0]
        retries -= current is Status.RETRY
        path.append(current)
    return path


def _error_code(
    previous: Status, status: Status, tries_failed: int, rng: random.Random
) -> str | None:
    if status is Status.RETRY:
        return rng.choice(_PART_FAILURES)
    if status is Status.CANCELLED:
        return "CANCELLED"  # X4
    if status is not Status.FAILED:
        return None
    if previous is Status.PENDING:
        return rng.choice(_REJECTIONS)  # logged as DOWNLINK_REJECTED (S2)
    if previous is Status.RETRY or tries_failed:
        return "RETRY_LIMIT_EXCEEDED"  # S3
    if previous is Status.SENT_TO_CARRIER:
        return rng.choice(("FEEDBACK_TIMEOUT", "FEEDBACK_TIMEOUT", *_CARRIER_FAILURES))  # S4
    return rng.choice(_CARRIER_FAILURES)


def _history(path: list[Status], parts: int, rng: random.Random) -> list[LogEntry]:
    """The S2 logs of the moves along `path`, at times in ms after DOWNLINK_ACCEPTED at 0."""
    logs = [LogEntry(0, Event.DOWNLINK_ACCEPTED.value)]
    at, tries_failed = 0, 0
    for previous, status in pairwise(path):
        code = _error_code(previous, status, tries_failed, rng)
        if code == "FEEDBACK_TIMEOUT":
            at += rng.choice(_FEEDBACK_TIMEOUTS)
        else:
            low, high = _BACKOFF if previous is Status.RETRY else _DELAY[status]
            at += rng.randint(low, high)
        logs.extend(move_logs(previous, status, at, parts=parts, error_code=code))
        tries_failed += status is Status.RETRY
    return logs


def _external_reference(owner_refs: set[str], fake: Faker) -> str:
    pattern = fake.random_element(("WO-#####", "job-####-??", "ticket-######", "batch-2025-###"))
    while True:
        ref = fake.bothify(pattern, letters="abcdefghijklmnopqrstuvwxyz")
        if ref not in owner_refs:
            owner_refs.add(ref)
            return ref


def generate(
    *,
    seed: int = 0,
    devices: int = 20,
    downlinks: int = 200,
    clients: Sequence[str] = DEFAULT_CLIENTS,
    end_ms: int | None = None,
    span_days: int = 30,
) -> dict[str, Any]:
    """A fixture set: `devices` devices owned by `clients`, and `downlinks` M3 records.

    Deterministic under `seed`: the same arguments give the same set. Downlinks are created
    over the `span_days` days before `end_ms` (default `DEFAULT_END_MS`) and every one of
    their moves happens before it; the ones still in flight moved within the last hours.
    Raises ValueError on counts, clients or spans that cannot make a set.
    """
    if devices < 0 or downlinks < 0:
        raise ValueError("devices and downlinks must be 0 or more")
    if downlinks and not devices:
        raise ValueError("downlinks need at least one device to go to")
    if not clients or any(not isinstance(c, str) or not c.strip() for c in clients):
        raise ValueError("clients must be one or more non-empty client ids")
    if len(set(clients)) != len(clients):
        raise ValueError("client ids must be distinct")
    if span_days < 1:
        raise ValueError("span_days must be 1 or more")
    end = DEFAULT_END_MS if end_ms is None else end_ms
    start = end - span_days * _DAY

    rng = random.Random(seed)
    from faker import Faker  # the `fixtures` extra: only generating needs it

    fake = Faker("nl_NL")
    fake.seed_instance(seed)

    registry = _devices(devices, list(clients), rng, fake)
    refs: dict[str, set[str]] = {client: set() for client in clients}
    records: list[dict[str, Any]] = []
    for status in _statuses(downlinks, rng):
        device = rng.choice(registry)
        pack = [{"bn": device.network_id}, *device.records(rng, fake)]
        parts = check_pack(pack, understood=()).parts
        logs = _history(_walk(status, rng), parts, rng)
        took = logs[-1].created_at
        # Place the history inside [start, end]; one still in flight moved lately.
        latest = end - took
        earliest = max(start, latest - 6 * _HOUR) if not status.terminal else start
        created = rng.randint(min(earliest, latest), latest)
        for entry in logs:
            entry.created_at += created
        record: dict[str, Any] = {"id": fake.uuid4(), "networkId": device.network_id}
        if rng.random() < 0.4:
            record["externalReference"] = _external_reference(refs[device.owner], fake)
        record.update(
            status=status.value,
            message=json.dumps(pack, separators=(",", ":"), ensure_ascii=False),
            createdAt=format_ms(created),
            modifiedAt=format_ms(logs[-1].created_at),
            logs=[entry.to_json() for entry in logs],
            owner=device.owner,
        )
        records.append(record)

    data = {
        "devices": [{"networkId": d.network_id, "tags": d.tags} for d in registry],
        "downlinks": records,
    }
    return ordered(data)
