"""Mutants whose 400s point at the wrong place in the instruction (E2): the violations of a
pack are found and refused, but their pointers say less, or something else, than where
they sit."""

from __future__ import annotations

from typing import Any

from tests.gallery.mutant import mutant
from tests.gallery.rewrite import Answer, Call, Rewrite

__all__: list[str] = []


def _repoint(app: Any, move: Any) -> Any:
    """The mock, with each `errors` entry of a refused create passed through `move`."""

    def after(call: Call, answer: Answer) -> None:
        problem = answer.json()
        if call.is_create() and answer.status == 400 and isinstance(problem, dict):
            errors = problem.get("errors")
            if isinstance(errors, list):
                problem["errors"] = [move(e) if isinstance(e, dict) else e for e in errors]
                answer.set_json(problem)

    return Rewrite(app, after=after)


@mutant("E2", description="every violation inside the pack is pointed at #/instruction")
def pack_violations_at_the_pack(app: Any) -> Any:
    def move(entry: dict[str, Any]) -> dict[str, Any]:
        pointer = entry.get("pointer")
        if isinstance(pointer, str) and pointer.startswith("#/instruction/"):
            return {**entry, "pointer": "#/instruction"}
        return entry

    return _repoint(app, move)


@mutant("E2", description="a second device in a pack is pointed at the first device's bn")
def second_device_at_the_first(app: Any) -> Any:
    def move(entry: dict[str, Any]) -> dict[str, Any]:
        if "names another device" in str(entry.get("detail")):
            return {**entry, "pointer": "#/instruction/0/bn"}
        return entry

    return _repoint(app, move)


@mutant("E2", description="a body that is not a JSON object is pointed at #/instruction")
def whole_body_at_the_instruction(app: Any) -> Any:
    def move(entry: dict[str, Any]) -> dict[str, Any]:
        if entry.get("pointer") == "#":
            return {**entry, "pointer": "#/instruction"}
        return entry

    return _repoint(app, move)


@mutant("E2", description="a bad sort is reported under the parameter name order")
def sort_named_order(app: Any) -> Any:
    def after(call: Call, answer: Answer) -> None:
        problem = answer.json()
        if call.is_list() and answer.status == 400 and isinstance(problem, dict):
            errors = problem.get("errors")
            if isinstance(errors, list):
                problem["errors"] = [
                    {**e, "parameter": "order"}
                    if isinstance(e, dict) and e.get("parameter") == "sort"
                    else e
                    for e in errors
                ]
                answer.set_json(problem)

    return Rewrite(app, after=after)
