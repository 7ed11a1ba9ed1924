"""SenML pack checks (C2, C3) in isolation from the request schema."""

from __future__ import annotations

import base64

import pytest

from mock_server.domain.senml import check_pack, decode_vd, is_valid_name

UNDERSTOOD = frozenset({"bn", "bt", "bu", "bv", "bs", "bver", "n", "u", "v", "vs", "vb", "vd"})
UNDERSTOOD |= {"s", "t", "ut", "l", "i_"}
DEVICE = "urn:dev:ow:10e2073a01080063:"

SPEC_EXAMPLE = [
    {"bn": DEVICE},
    {"n": "temperature", "u": "Cel", "v": 23.1},
    {"n": "heating", "u": "/", "v": 1},
    {"n": "fan", "u": "/", "v": 0},
]


def check(pack: list[object]):
    return check_pack(pack, understood=UNDERSTOOD)


def paths(pack: list[object]) -> list[tuple[int | str, ...]]:
    return [issue.path for issue in check(pack).issues]


def test_c3_spec_example_is_valid() -> None:
    report = check(SPEC_EXAMPLE)
    assert report.issues == []
    assert report.device == DEVICE
    assert report.parts == 3


# -- C2: the bn names the device


def test_c2_empty_pack_is_refused() -> None:
    report = check([])
    assert [issue.path for issue in report.issues] == [()]
    assert "empty" in report.issues[0].detail
    assert report.device is None


def test_c2_pack_without_bn_is_refused() -> None:
    report = check([{"n": "temperature", "v": 1}])
    assert report.device is None
    assert [issue.path for issue in report.issues] == [()]
    assert "no bn" in report.issues[0].detail


def test_c2_bn_in_a_value_record_names_the_device() -> None:
    report = check([{"bn": DEVICE, "n": "temperature", "v": 1}])
    assert report.issues == []
    assert report.device == DEVICE


def test_c2_several_equal_bn_are_fine() -> None:
    report = check([{"bn": DEVICE, "n": "a", "v": 1}, {"bn": DEVICE, "n": "b", "v": 2}])
    assert report.issues == []
    assert report.device == DEVICE


def test_c2_two_different_bn_are_refused() -> None:
    report = check([{"bn": DEVICE}, {"n": "a", "v": 1}, {"bn": "urn:dev:other:", "n": "b", "v": 2}])
    assert [issue.path for issue in report.issues] == [(2, "bn")]
    assert "same device" in report.issues[0].detail
    assert report.device == DEVICE


def test_c2_empty_bn_is_refused_once() -> None:
    issues = check([{"bn": ""}, {"n": "a", "v": 1}]).issues
    assert [issue.path for issue in issues] == [(0, "bn")]
    assert "empty" in issues[0].detail


def test_c2_bn_of_wrong_type_is_left_to_the_schema() -> None:
    # The schema reports `5 is not of type 'string'`; no second issue for the same mistake.
    assert paths([{"bn": 5}, {"n": "a", "v": 1}]) == []


# -- C3: names


@pytest.mark.parametrize(
    "name", ["a", "0", "urn:dev:ow:10e2073a01080063:", "a-b.c/d_e:f", "Z9", "3200/0/5850"]
)
def test_c3_valid_names(name: str) -> None:
    assert is_valid_name(name)


@pytest.mark.parametrize("name", ["", "-a", ":a", ".a", "/a", "_a", "a b", "a@b", "é", "a\n"])
def test_c3_invalid_names(name: str) -> None:
    assert not is_valid_name(name)


def test_c3_full_name_with_bad_character_is_refused_at_n() -> None:
    issues = check([{"bn": DEVICE}, {"n": "temp erature", "v": 1}]).issues
    assert [issue.path for issue in issues] == [(1, "n")]
    assert "urn:dev:ow:10e2073a01080063:temp erature" in issues[0].detail


def test_c3_full_name_is_bn_plus_n_so_n_may_start_with_any_allowed_char() -> None:
    assert paths([{"bn": DEVICE}, {"n": "-x", "v": 1}, {"n": ":y", "v": 2}]) == []


def test_c3_bn_must_itself_be_a_valid_name() -> None:
    issues = check([{"bn": "-device"}, {"n": "a", "v": 1}]).issues
    # reported once, at the bn; the names built on it are not reported again
    assert [issue.path for issue in issues] == [(0, "bn")]


def test_c3_bn_with_bad_character_is_refused() -> None:
    assert paths([{"bn": "urn dev", "n": "a", "v": 1}]) == [(0, "bn")]


def test_c3_value_record_without_any_name_is_refused() -> None:
    # no n and no bn in effect: the record has no name
    issues = check([{"v": 1}]).issues
    assert [issue.path for issue in issues] == [(), (0,)]
    assert "no name" in issues[1].detail


def test_c3_value_record_without_n_is_named_by_its_bn() -> None:
    report = check([{"bn": DEVICE, "v": 1}])
    assert report.issues == []
    assert report.parts == 1


def test_c3_bn_applies_only_to_later_records() -> None:
    # record 0 comes before any bn: its name is its own n, which must start well
    assert paths([{"n": "-a", "v": 1}, {"bn": DEVICE}]) == [(0, "n")]


# -- C3: values


@pytest.mark.parametrize("label,value", [("v", 1.5), ("vs", "on"), ("vb", True), ("vd", "AQID")])
def test_c3_one_value_of_each_kind_is_fine(label: str, value: object) -> None:
    assert paths([{"bn": DEVICE}, {"n": "a", label: value}]) == []


def test_c3_two_values_in_one_record_are_refused() -> None:
    issues = check([{"bn": DEVICE}, {"n": "a", "v": 1, "vs": "x"}]).issues
    assert [issue.path for issue in issues] == [(1,)]
    assert "v, vs" in issues[0].detail


def test_c3_named_record_needs_a_value_or_sum() -> None:
    issues = check([{"bn": DEVICE}, {"n": "a", "u": "Cel"}]).issues
    assert [issue.path for issue in issues] == [(1,)]
    assert "no value" in issues[0].detail


def test_c3_sum_alone_is_a_value() -> None:
    report = check([{"bn": DEVICE}, {"n": "energy", "s": 12.5}])
    assert report.issues == []
    assert report.parts == 1


def test_c3_sum_beside_a_value_is_fine() -> None:
    assert paths([{"bn": DEVICE}, {"n": "energy", "s": 12.5, "v": 1}]) == []


def test_c3_base_fields_alone_are_allowed() -> None:
    report = check([{"bn": DEVICE, "bt": 1.7e9, "bu": "Cel", "bver": 10}, {"n": "a", "v": 1}])
    assert report.issues == []


@pytest.mark.parametrize("record", [{}, {"u": "Cel"}, {"t": 5}, {"l": "x"}])
def test_c3_record_describing_nothing_is_refused(record: dict[str, object]) -> None:
    issues = check([{"bn": DEVICE}, record]).issues
    assert [issue.path for issue in issues] == [(1,)]
    assert "describes nothing" in issues[0].detail


def test_c3_parts_count_records_with_values() -> None:
    pack = [{"bn": DEVICE}, {"n": "a", "v": 1}, {"n": "b", "vs": "x"}, {"n": "c", "s": 1}]
    assert check(pack).parts == 3


def test_c3_parts_is_at_least_one() -> None:
    assert check([{"bn": DEVICE}]).parts == 1


# -- C3: bver


def test_c3_bver_same_positive_integer_everywhere_is_fine() -> None:
    assert paths([{"bn": DEVICE, "bver": 10}, {"n": "a", "v": 1, "bver": 10}]) == []


def test_c3_bver_differing_is_refused() -> None:
    issues = check([{"bn": DEVICE, "bver": 10}, {"n": "a", "v": 1, "bver": 11}]).issues
    assert [issue.path for issue in issues] == [(1, "bver")]
    assert "same in every record" in issues[0].detail


@pytest.mark.parametrize("bver", [0, -1])
def test_c3_bver_not_positive_is_refused(bver: int) -> None:
    assert paths([{"bn": DEVICE, "bver": bver}]) == [(0, "bver")]


def test_c3_bver_one_is_the_smallest_allowed() -> None:
    assert paths([{"bn": DEVICE, "bver": 1}]) == []


def test_c3_bver_of_wrong_type_is_left_to_the_schema() -> None:
    assert paths([{"bn": DEVICE, "bver": "10"}, {"bn": DEVICE, "bver": True}]) == []


# -- C3: must-understand labels


def test_c3_unknown_label_ending_in_underscore_is_refused() -> None:
    issues = check([{"bn": DEVICE, "foo_": 1}]).issues
    assert [issue.path for issue in issues] == [(0, "foo_")]
    assert "must be understood" in issues[0].detail


def test_c3_i_underscore_is_understood() -> None:
    assert paths([{"bn": DEVICE, "i_": 3}]) == []


def test_c3_understood_labels_come_from_the_caller() -> None:
    pack = [{"bn": DEVICE, "i_": 3}]
    assert check_pack(pack, understood={"bn"}).issues[0].path == (0, "i_")


def test_c3_other_unknown_labels_are_ignored() -> None:
    assert paths([{"bn": DEVICE, "foo": 1, "_bar": 2, "x_y": 3}]) == []


# -- C3: vd


@pytest.mark.parametrize(
    "text",
    [
        "",
        "AQID",  # 3 bytes, either alphabet
        "-_8",  # base64url, unpadded
        "AQ",  # base64url of 1 byte without padding
        "AQ==",  # standard, padded
        "+/8=",  # standard alphabet, padded
        base64.b64encode(b"\xfb\xff\xfe\x00").decode(),  # "+//+AA==": standard, padded
        base64.urlsafe_b64encode(b"\xfb\xff\xfe\x00").decode().rstrip("="),  # "-__-AA"
    ],
)
def test_c3_vd_accepted_forms(text: str) -> None:
    decode_vd(text)
    assert paths([{"bn": DEVICE, "n": "d", "vd": text}]) == []


@pytest.mark.parametrize(
    "text",
    [
        "A",  # a length of 4k+1 is never base64
        "AQ=",  # wrong padding
        "-_8=",  # url alphabet with padding
        "+/8",  # standard alphabet without padding
        "+_8=",  # mixed alphabets
        "AQ==AQ==",  # padding in the middle
        "AQ I",  # space
        "ÄQID",  # not ASCII
        "*",
    ],
)
def test_c3_vd_refused_forms(text: str) -> None:
    with pytest.raises(ValueError):
        decode_vd(text)
    assert paths([{"bn": DEVICE, "n": "d", "vd": text}]) == [(0, "vd")]


def test_c3_vd_decodes_both_forms_to_the_same_bytes() -> None:
    data = bytes(range(250, 256))
    assert decode_vd(base64.b64encode(data).decode()) == data
    assert decode_vd(base64.urlsafe_b64encode(data).decode().rstrip("=")) == data


# -- several issues at once


def test_c3_every_issue_of_a_pack_is_reported() -> None:
    pack = [
        {"bn": DEVICE, "bver": 10, "x_": 1},
        {"n": "a b", "v": 1, "vb": True},
        {"n": "c"},
        {"bn": "urn:dev:other:", "bver": 11, "n": "d", "vd": "!"},
    ]
    assert sorted(map(repr, paths(pack))) == sorted(
        map(
            repr,
            [(0, "x_"), (1,), (1, "n"), (2,), (3, "bn"), (3, "bver"), (3, "vd")],
        )
    )


def test_c3_records_of_wrong_type_are_skipped() -> None:
    # the schema reports `5 is not of type 'object'`
    assert paths([{"bn": DEVICE}, 5, "x", None, [1]]) == []
