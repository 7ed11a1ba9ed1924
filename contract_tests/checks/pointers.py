"""E2: every violation named where it sits. In the instruction, each C2/C3 violation is
pointed at its record or member; a body that is not an object at `#`; each bad list
parameter by its name.

E2 asks for one `{"pointer": ..., "detail": ...}` per violation, a JSON Pointer into the
body. For a SenML pack that means the record (`#/instruction/2`) or the member of the record
(`#/instruction/2/bver`) that breaks the rule; a violation of the pack as a whole (no `bn`
anywhere, no record at all) is `#/instruction`. Each case below breaks one rule once, in a
record that is not the first where it can, so that a pointer to the wrong record, to the
wrong member, or to the pack alone is told apart from the right one. A pointer at the
record of a member-level violation is accepted (it still says which record); a pointer
anywhere else, or none, fails.
"""

from __future__ import annotations

import json
from typing import Any

from contract_tests.checks.create import valid_body
from contract_tests.checks.errors import _errors, expect_full_problem
from contract_tests.context import Context
from contract_tests.registry import Tag, check

__all__ = ["PackCase", "pack_cases", "expect_pointed"]

PackCase = tuple[str, list[Any], str]  # (what is wrong, the instruction, the exact pointer)


def pack_cases(device: str) -> list[PackCase]:
    """One violation of C2 or C3 each, for `device` (a fresh id, K1), with its pointer."""
    value = {"n": "x", "v": 1}
    return [
        ("the pack is empty", [], "#/instruction"),
        ("no record carries a bn", [{"bt": 0}, value], "#/instruction"),
        ("the bn is empty", [{"bt": 0}, {"bn": ""}, value], "#/instruction/1/bn"),
        ("the bn starts with '-'", [{"bt": 0}, {"bn": "-" + device}, value], "#/instruction/1/bn"),
        ("a named record carries no value", [{"bn": device}, value, {"n": "y"}], "#/instruction/2"),
        (
            "a record carries two values",
            [{"bn": device}, value, {"n": "y", "v": 1, "vs": "a"}],
            "#/instruction/2",
        ),
        (
            "a record carries nothing at all",
            [{"bn": device}, value, {"unknown": 1}],
            "#/instruction/2",
        ),
        (
            "a full name holds a space",
            [{"bn": device}, value, {"n": "a b", "v": 1}],
            "#/instruction/2/n",
        ),
        ("bver is 0", [{"bt": 0}, {"bn": device, "bver": 0}, value], "#/instruction/1/bver"),
        (
            "bver differs between records",
            [{"bn": device, "bver": 2}, value, {"n": "y", "v": 1, "bver": 3}],
            "#/instruction/2/bver",
        ),
        ("vd is not base64", [{"bn": device}, value, {"n": "y", "vd": "!!"}], "#/instruction/2/vd"),
        (
            "an unknown must-understand label",
            [{"bn": device}, value, {"n": "y", "v": 1, "zz_": 1}],
            "#/instruction/2/zz_",
        ),
    ]


def _on_the_spot(pointer: str, exact: str) -> bool:
    """The exact pointer, or the record holding the member it names."""
    if pointer == exact:
        return True
    parts = exact.split("/")  # "#", "instruction", index, member...
    return len(parts) > 3 and pointer == "/".join(parts[:3])


def expect_pointed(ctx: Context, what: str, instruction: list[Any], exact: str) -> None:
    """POST a create whose only fault is `what` in `instruction`: a 400 whose errors
    point at `exact` (or its record), and nowhere else."""
    exchange = ctx.request("POST", "/downlinks", json=valid_body("", instruction=instruction))
    errors = _errors(ctx, exchange)
    pointers = [str(e["pointer"]) for e in errors if "pointer" in e]
    if not pointers or not all(_on_the_spot(p, exact) for p in pointers):
        ctx.fail(
            f"{what}: the violation is not pointed at where it sits",
            exchange,
            expected=f"errors pointing at {exact}",
            actual=", ".join(pointers) or "(no pointer)",
        )


@check(
    "E2", "each C2/C3 violation of a pack is pointed at its record or member", tag=Tag.CONVENTION
)
def pack_violations_pointed(ctx: Context) -> None:
    for what, instruction, exact in pack_cases(ctx.network_id()):
        expect_pointed(ctx, what, instruction, exact)


@check("E2", "a second device in a pack is pointed at the bn that names it", tag=Tag.MOCK)
def second_device_pointed(ctx: Context) -> None:
    device, other = ctx.network_id(), ctx.network_id()
    instruction = [{"bn": device}, {"n": "x", "v": 1}, {"bn": other, "n": "y", "v": 2}]
    expect_pointed(ctx, "a second device (C2)", instruction, "#/instruction/2/bn")


# -- where a violation outside the pack is named -------------------------------------------

_NOT_OBJECTS = ("[]", '"downlink"', "1", "null", "true")  # JSON, but not an object


@check("E2", "a JSON body that is not an object is pointed at as a whole (#)", tag=Tag.CONVENTION)
def whole_body_pointed(ctx: Context) -> None:
    for text in _NOT_OBJECTS:
        exchange = ctx.request(
            "POST",
            "/downlinks",
            content=text.encode(),
            headers={"Content-Type": "application/json"},
        )
        problem = expect_full_problem(ctx, exchange, 400)
        errors = problem.get("errors")
        fine = (
            isinstance(errors, list)
            and bool(errors)
            and all(
                isinstance(e, dict)
                and e.get("pointer") == "#"
                and "parameter" not in e
                and isinstance(e.get("detail"), str)
                for e in errors
            )
        )
        if not fine:
            ctx.fail(
                f"the body {text} is not an object, yet its 400 does not point at the whole "
                "body with a detail",
                exchange,
                expected='"errors": [{"pointer": "#", "detail": "..."}]',
                actual=json.dumps(errors),
            )


# One bad list parameter each: the 400 must name that parameter, and only it. Bounds of
# limit (L3), unknown sort fields (L4) and garbled cursors (L7) are the mock's rules.
_BAD_LIST_PARAMETERS = (
    ("sort", "bogus"),
    ("sort", "createdAt,bogus"),
    ("limit", "0"),
    ("limit", "1001"),
    ("limit", "ten"),
    ("cursor", "garbled"),
    ("createdSince", "2025-01-01"),
    ("createdBefore", "yesterday"),
    ("modifiedSince", "2025-01-01T00:00:00"),
    ("modifiedBefore", "2025-13-01T00:00:00Z"),
    ("q", ""),
)


@check("E2", "each bad list parameter is named, alone, by its errors entry", tag=Tag.MOCK)
def list_parameters_named(ctx: Context) -> None:
    q = ctx.network_id()
    for name, value in _BAD_LIST_PARAMETERS:
        params = {"q": q, name: value}
        exchange = ctx.request("GET", "/downlinks", params=params)
        errors = _errors(ctx, exchange)
        named = [e.get("parameter") for e in errors]
        if set(named) != {name}:
            ctx.fail(
                f"{name}={value!r} alone is refused, but its errors do not name {name} alone",
                exchange,
                expected=f'[{{"parameter": "{name}", "detail": ...}}]',
                actual=json.dumps(errors),
            )
