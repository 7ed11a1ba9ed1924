"""The fixture generator, its validator, its command and the shipped fixture set."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mock_server.cli.fixtures import fixtures_group
from mock_server.config import OPENAPI_PATH, REPO_ROOT
from mock_server.domain.lifecycle import MOVES
from mock_server.domain.model import TERMINAL, Status
from mock_server.domain.senml import check_pack
from mock_server.domain.timefmt import format_ms, parse_rfc3339
from mock_server.fixtureset.check import check_fixture_set
from mock_server.fixtureset.generate import DEFAULT_CLIENTS, DEFAULT_END_MS, generate
from mock_server.fixtureset.render import render_fixture_set, write_fixture_set

SHIPPED = REPO_ROOT / "fixtures" / "default.json"
# The command in fixtures/README.md that made the shipped set.
SHIPPED_ARGS = {"seed": 0, "devices": 20, "downlinks": 120}

DEVEUI = re.compile(r"urn:dev:DEVEUI:[0-9a-f]{16}:")
IMEI = re.compile(r"urn:dev:IMEI:[0-9]{15}:")
DVNUUID = re.compile(
    r"urn:dev:DVNUUID:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:"
)
VALUE_LABELS = ("v", "vs", "vb", "vd", "s")

# The test's own reading of S2: which status the entries of one move lead to.
ENTERS = {
    "DOWNLINK_STARTED": Status.EXECUTING,
    "DOWNLINK_PART_SENT": Status.SENT_TO_CARRIER,
    "DOWNLINK_PART_FAILED": Status.RETRY,
    "DOWNLINK_PART_DELIVERED": Status.DELIVERED,
    "DOWNLINK_REJECTED": Status.FAILED,
}


@pytest.fixture(scope="module")
def fixture_set() -> dict[str, Any]:
    return generate(seed=11, devices=15, downlinks=300)


def spec_understood() -> frozenset[str]:
    spec = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    return frozenset(spec["components"]["schemas"]["SenMLRecord"]["properties"])


def replay(record: dict[str, Any]) -> list[Status]:
    """The statuses a downlink went through, read from its logs as S2 writes them."""
    logs = record["logs"]
    parts = sum(1 for r in json.loads(record["message"]) if any(k in r for k in VALUE_LABELS))
    assert logs[0] == {"createdAt": record["createdAt"], "event": "DOWNLINK_ACCEPTED"}
    statuses, i = [Status.PENDING], 1
    while i < len(logs):
        event, code = logs[i]["event"], logs[i].get("errorCode")
        if event == "DOWNLINK_FAILED":
            target, width = (Status.CANCELLED if code == "CANCELLED" else Status.FAILED), 1
            assert code, "a failure carries an errorCode"
        else:
            target = ENTERS[event]
            width = {Status.SENT_TO_CARRIER: parts, Status.DELIVERED: parts + 1}.get(target, 1)
        group = [entry["event"] for entry in logs[i : i + width]]
        if target is Status.SENT_TO_CARRIER:
            assert group == ["DOWNLINK_PART_SENT"] * parts, "one DOWNLINK_PART_SENT per part"
        if target is Status.DELIVERED:
            assert group == ["DOWNLINK_PART_DELIVERED"] * parts + ["DOWNLINK_DELIVERED"]
        if target is Status.RETRY or event == "DOWNLINK_REJECTED":
            assert code, f"{event} carries an errorCode"
        if event == "DOWNLINK_REJECTED":
            assert statuses[-1] is Status.PENDING, "DOWNLINK_REJECTED only from PENDING"
        statuses.append(target)
        i += width
    return statuses


# Determinism


def test_same_seed_gives_the_same_bytes() -> None:
    args = {"seed": 7, "devices": 8, "downlinks": 40}
    assert render_fixture_set(generate(**args)) == render_fixture_set(generate(**args))


def test_another_seed_gives_another_set() -> None:
    args = {"devices": 8, "downlinks": 40}
    assert render_fixture_set(generate(seed=7, **args)) != render_fixture_set(
        generate(seed=8, **args)
    )


def test_the_end_instant_moves_every_time_and_nothing_else() -> None:
    a = generate(seed=3, devices=5, downlinks=20)
    b = generate(seed=3, devices=5, downlinks=20, end_ms=DEFAULT_END_MS + 86_400_000)
    assert a["devices"] == b["devices"]
    assert [r["id"] for r in a["downlinks"]] == [r["id"] for r in b["downlinks"]]
    day_later = [format_ms(parse_rfc3339(r["createdAt"]) + 86_400_000) for r in a["downlinks"]]
    assert day_later == [r["createdAt"] for r in b["downlinks"]]


def test_write_fixture_set_orders_whatever_order_it_is_given(tmp_path: Path) -> None:
    data = generate(seed=5, devices=6, downlinks=25)
    shuffled = {
        "downlinks": [dict(reversed(r.items())) for r in reversed(data["downlinks"])],
        "devices": list(reversed(data["devices"])),
    }
    write_fixture_set(shuffled, tmp_path / "set.json")
    assert (tmp_path / "set.json").read_text(encoding="utf-8") == render_fixture_set(data)
    assert json.loads((tmp_path / "set.json").read_text(encoding="utf-8")) == data


# Content


@pytest.mark.parametrize("count", [7, 8, 300])
def test_every_status_is_present(count: int) -> None:
    data = generate(seed=count, devices=4, downlinks=count)
    assert len(data["downlinks"]) == count
    assert {r["status"] for r in data["downlinks"]} == {s.value for s in Status}


def test_the_three_identifier_kinds_are_mixed(fixture_set: dict[str, Any]) -> None:
    ids = [d["networkId"] for d in fixture_set["devices"]]
    assert len(ids) == 15 == len(set(ids))
    kinds = [
        next(i for i, p in enumerate((DEVEUI, IMEI, DVNUUID)) if p.fullmatch(nid)) for nid in ids
    ]
    assert sorted(set(kinds)) == [0, 1, 2]


def test_imei_check_digit_is_luhn_valid(fixture_set: dict[str, Any]) -> None:
    imeis = [
        d["networkId"][13:-1] for d in fixture_set["devices"] if IMEI.fullmatch(d["networkId"])
    ]
    assert imeis
    for imei in imeis:
        digits = [int(c) for c in reversed(imei)]
        total = sum(
            d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits)
        )
        assert total % 10 == 0, imei


def test_devices_carry_tags_and_a_few_do_not(fixture_set: dict[str, Any]) -> None:
    tagged = [d["tags"] for d in fixture_set["devices"] if d["tags"]]
    untagged = [d for d in fixture_set["devices"] if not d["tags"]]
    assert 1 <= len(untagged) < len(tagged)
    for tags in tagged:
        assert {"name", "site", "type"} <= tags.keys()
        assert all(isinstance(v, str) and v for v in tags.values())
    names = [tags["name"] for tags in tagged]
    assert len(names) == len(set(names)), "a name picks one device (L1)"


def test_each_device_has_one_owner_and_every_client_owns_some(
    fixture_set: dict[str, Any],
) -> None:
    owners: dict[str, set[str]] = {}
    for record in fixture_set["downlinks"]:
        owners.setdefault(record["networkId"], set()).add(record["owner"])
    assert all(len(o) == 1 for o in owners.values())
    assert set().union(*owners.values()) == set(DEFAULT_CLIENTS)
    assert set(owners) <= {d["networkId"] for d in fixture_set["devices"]}


def test_c2_c3_c7_messages_are_compact_senml_naming_the_device(
    fixture_set: dict[str, Any],
) -> None:
    understood = spec_understood()
    for record in fixture_set["downlinks"]:
        pack = json.loads(record["message"])
        assert record["message"] == json.dumps(pack, separators=(",", ":"), ensure_ascii=False)
        assert pack[0] == {"bn": record["networkId"]}
        assert len(pack) >= 2
        report = check_pack(pack, understood=understood)
        assert report.issues == [], (record["id"], report.issues)
        assert report.device == record["networkId"]


def test_c6_external_references_are_unique_per_owner(fixture_set: dict[str, Any]) -> None:
    pairs = [
        (r["owner"], r["externalReference"])
        for r in fixture_set["downlinks"]
        if "externalReference" in r
    ]
    assert 0 < len(pairs) < len(fixture_set["downlinks"])
    assert len(pairs) == len(set(pairs))


def test_t1_t2_timestamps_lie_in_the_span(fixture_set: dict[str, Any]) -> None:
    start = DEFAULT_END_MS - 30 * 86_400_000
    for record in fixture_set["downlinks"]:
        stamps = [record["createdAt"], record["modifiedAt"]]
        stamps += [entry["createdAt"] for entry in record["logs"]]
        for stamp in stamps:
            assert format_ms(parse_rfc3339(stamp)) == stamp, "T1: UTC, Z, three digits"
        created, modified = parse_rfc3339(record["createdAt"]), parse_rfc3339(record["modifiedAt"])
        assert start <= created <= modified <= DEFAULT_END_MS
        times = [parse_rfc3339(entry["createdAt"]) for entry in record["logs"]]
        assert times == sorted(times), "T2: logs in createdAt order"
        assert times[-1] == modified


def test_s1_s2_logs_walk_allowed_moves_to_the_status(fixture_set: dict[str, Any]) -> None:
    for record in fixture_set["downlinks"]:
        statuses = replay(record)
        for current, target in zip(statuses, statuses[1:], strict=False):
            assert target in MOVES[current], (record["id"], current, target)
        assert statuses[-1].value == record["status"], record["id"]
        for status in statuses[:-1]:
            assert status not in TERMINAL, "terminal states never change (S1)"


def test_s1_every_move_of_the_table_is_used(fixture_set: dict[str, Any]) -> None:
    used = set()
    for record in fixture_set["downlinks"]:
        statuses = replay(record)
        used |= set(zip(statuses, statuses[1:], strict=False))
    allowed = {(a, b) for a, targets in MOVES.items() for b in targets}
    assert used == allowed


def test_s3_s4_failure_codes(fixture_set: dict[str, Any]) -> None:
    codes = set()
    for record in fixture_set["downlinks"]:
        last = record["logs"][-1]
        if record["status"] == "FAILED":
            codes.add(last["errorCode"])
        if record["status"] == "CANCELLED":
            assert last == {
                "createdAt": record["modifiedAt"],
                "event": "DOWNLINK_FAILED",
                "errorCode": "CANCELLED",
            }, "X4"
        if last.get("errorCode") == "FEEDBACK_TIMEOUT":
            sent = [e for e in record["logs"] if e["event"] == "DOWNLINK_PART_SENT"][-1]
            waited = parse_rfc3339(last["createdAt"]) - parse_rfc3339(sent["createdAt"])
            assert waited >= 10 * 60_000, "C4: feedbackTimeout is at least 10 minutes"
    assert {"RETRY_LIMIT_EXCEEDED", "FEEDBACK_TIMEOUT", "ENCODING_FAILED"} <= codes


def test_empty_and_tiny_sets() -> None:
    assert generate(devices=0, downlinks=0) == {"devices": [], "downlinks": []}
    one = generate(devices=1, downlinks=1, clients=["solo"])
    assert [r["owner"] for r in one["downlinks"]] == ["solo"]
    assert check_fixture_set(one) == []


@pytest.mark.parametrize(
    "args, message",
    [
        ({"devices": -1}, "0 or more"),
        ({"devices": 0, "downlinks": 1}, "at least one device"),
        ({"clients": []}, "non-empty client ids"),
        ({"clients": ["a", " "]}, "non-empty client ids"),
        ({"clients": ["a", "a"]}, "distinct"),
        ({"span_days": 0}, "span_days"),
    ],
)
def test_generate_refuses_what_cannot_make_a_set(args: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate(**args)


# The validator


def test_check_fixture_set_passes_generated_sets() -> None:
    for seed in range(5):
        assert check_fixture_set(generate(seed=seed, devices=6, downlinks=60)) == []


def _first(data: dict[str, Any], pred: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    return next(r for r in data["downlinks"] if pred(r))


def _status_unknown(d: dict[str, Any]) -> None:
    d["downlinks"][0]["status"] = "LOST"


def _logs_out_of_order(d: dict[str, Any]) -> None:
    record = _first(
        d, lambda r: len(r["logs"]) >= 3 and r["logs"][1]["createdAt"] != r["logs"][2]["createdAt"]
    )
    record["logs"][1], record["logs"][2] = record["logs"][2], record["logs"][1]


def _modified_before_created(d: dict[str, Any]) -> None:
    record = d["downlinks"][3]
    record["modifiedAt"] = format_ms(parse_rfc3339(record["createdAt"]) - 1)


def _network_id_not_bn(d: dict[str, Any]) -> None:
    d["downlinks"][2]["networkId"] = "urn:dev:DEVEUI:00000000000000ff:"


def _duplicate_id(d: dict[str, Any]) -> None:
    d["downlinks"][5]["id"] = d["downlinks"][4]["id"]


def _duplicate_reference(d: dict[str, Any]) -> None:
    a = _first(d, lambda r: "externalReference" in r)
    b = _first(d, lambda r: r["owner"] == a["owner"] and r is not a)
    b["externalReference"] = a["externalReference"]


def _move_not_allowed(d: dict[str, Any]) -> None:
    record = _first(d, lambda r: r["status"] == "PENDING")
    at = record["modifiedAt"]
    record["logs"].append({"createdAt": at, "event": "DOWNLINK_DELIVERED"})
    record["status"] = "DELIVERED"


def _status_not_where_logs_lead(d: dict[str, Any]) -> None:
    _first(d, lambda r: r["status"] == "DELIVERED")["status"] = "RETRY"


def _timestamp_without_millis(d: dict[str, Any]) -> None:
    d["downlinks"][1]["createdAt"] = d["downlinks"][1]["createdAt"][:19] + "Z"


def _accepted_missing(d: dict[str, Any]) -> None:
    _first(d, lambda r: len(r["logs"]) >= 2)["logs"].pop(0)


def _last_log_not_modified(d: dict[str, Any]) -> None:
    record = _first(d, lambda r: len(r["logs"]) >= 2)
    record["modifiedAt"] = format_ms(parse_rfc3339(record["modifiedAt"]) + 1)


def _duplicate_device(d: dict[str, Any]) -> None:
    d["devices"].append(copy.deepcopy(d["devices"][0]))


def _unknown_key(d: dict[str, Any]) -> None:
    d["downlinks"][0]["ownr"] = "typo"


PLANTED = {
    "unknown status": (_status_unknown, "downlinks[0].status: 'LOST' is not one of"),
    "logs out of order": (_logs_out_of_order, "out of createdAt order"),
    "modifiedAt before createdAt": (_modified_before_created, "is before createdAt"),
    "networkId is not the bn": (_network_id_not_bn, "is not the pack's bn"),
    "duplicate id": (_duplicate_id, "duplicate id"),
    "duplicate owner reference": (_duplicate_reference, "already used by owner"),
    "move S1 forbids": (_move_not_allowed, "is not what any S1 move out of PENDING logs"),
    "status the logs do not lead to": (_status_not_where_logs_lead, "the logs lead to DELIVERED"),
    "timestamp without milliseconds": (_timestamp_without_millis, "three fractional digits"),
    "no DOWNLINK_ACCEPTED first": (_accepted_missing, "must be DOWNLINK_ACCEPTED"),
    "last log not at modifiedAt": (_last_log_not_modified, "not at modifiedAt"),
    "duplicate device": (_duplicate_device, "duplicate networkId"),
    "unknown key": (_unknown_key, "downlinks[0].ownr: 'ownr' is not a known property"),
}


@pytest.mark.parametrize("plant, expected", PLANTED.values(), ids=PLANTED.keys())
def test_check_fixture_set_finds_planted_problems(
    plant: Callable[[dict[str, Any]], None], expected: str
) -> None:
    data = generate(seed=2, devices=6, downlinks=40)
    plant(data)
    problems = check_fixture_set(data)
    assert any(expected in p for p in problems), problems


def test_c6_another_owner_may_reuse_a_reference() -> None:
    data = generate(seed=2, devices=6, downlinks=40)
    a = _first(data, lambda r: "externalReference" in r)
    b = _first(data, lambda r: r["owner"] != a["owner"])
    b["externalReference"] = a["externalReference"]
    assert check_fixture_set(data) == []


def test_check_fixture_set_refuses_other_shapes() -> None:
    assert check_fixture_set([]) != []
    assert any(
        "device: 'device' is not a known property" in p for p in check_fixture_set({"device": []})
    )
    assert any(
        "downlinks: {} is not of type 'array'" in p for p in check_fixture_set({"downlinks": {}})
    )


# The command


def test_cli_generate_prints_the_set() -> None:
    result = CliRunner().invoke(
        fixtures_group, ["generate", "--seed", "4", "--devices", "5", "--downlinks", "12"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == render_fixture_set(generate(seed=4, devices=5, downlinks=12))


def test_cli_generate_writes_a_file(tmp_path: Path) -> None:
    out = tmp_path / "set.json"
    args = ["generate", "--seed", "9", "--devices", "4", "--downlinks", "10"]
    args += ["--clients", "north, south", "--end", "2024-12-31T23:00:00+01:00"]
    args += ["--span-days", "2", "-o", str(out)]
    result = CliRunner().invoke(fixtures_group, args)
    assert result.exit_code == 0, result.output
    expected = generate(
        seed=9,
        devices=4,
        downlinks=10,
        clients=("north", "south"),
        end_ms=parse_rfc3339("2024-12-31T22:00:00.000Z"),
        span_days=2,
    )
    assert out.read_text(encoding="utf-8") == render_fixture_set(expected)
    assert {r["owner"] for r in expected["downlinks"]} <= {"north", "south"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--seed", "x"], "'--seed'"),
        (["--devices", "-1"], "'--devices'"),
        (["--devices", "0", "--downlinks", "3"], "at least one device"),
        (["--clients", "a,,b"], "empty client id"),
        (["--clients", "a,b,a"], "repeated: a"),
        (["--end", "2025-06-01"], "not an RFC 3339 date-time"),
        (["--span-days", "0"], "'--span-days'"),
    ],
)
def test_cli_generate_names_bad_values(args: list[str], message: str) -> None:
    result = CliRunner().invoke(fixtures_group, ["generate", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_check(tmp_path: Path) -> None:
    data = generate(seed=1, devices=3, downlinks=8)
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    write_fixture_set(data, good)
    _duplicate_id(data)
    write_fixture_set(data, bad)
    runner = CliRunner()
    assert runner.invoke(fixtures_group, ["check", str(good)]).exit_code == 0
    result = runner.invoke(fixtures_group, ["check", str(bad)])
    assert result.exit_code == 1
    assert "duplicate id" in result.output
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    result = runner.invoke(fixtures_group, ["check", str(tmp_path / "broken.json")])
    assert result.exit_code != 0 and "not readable as JSON" in result.output


# The shipped set


def test_shipped_set_is_what_the_generator_makes_today() -> None:
    assert SHIPPED.read_text(encoding="utf-8") == render_fixture_set(generate(**SHIPPED_ARGS)), (
        "fixtures/default.json drifted: regenerate it with the command in fixtures/README.md"
    )


def test_shipped_set_is_sound() -> None:
    data = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert check_fixture_set(data) == []
    assert len(data["devices"]) == 20 and len(data["downlinks"]) == 120
