"""The checks written by method (boundaries, exclusion, views, observed) pass on the mock in
full mode on a manual clock and in black-box mode on a real clock, where downlinks move on
their own; the observed check says why it skips where nothing moves. Each is shown to bite
by its mutant in `tests/gallery/mutants/methodical.py`."""

from __future__ import annotations

import pytest

import contract_tests.checks  # noqa: F401  (registers every check)
from contract_tests.checks.boundaries import BODY_LIMIT, padded_body
from contract_tests.registry import Check, Mode
from tests.contract_tests.mock_target import Servers, checks_of, outcome, target_for

METHOD = checks_of("boundaries") + checks_of("exclusion") + checks_of("views")
OBSERVED = checks_of("observed")


@pytest.fixture(scope="module")
def servers():
    with Servers() as running:
        yield running


def _params() -> list:
    out = []
    for clock, mode in (("manual", Mode.FULL), ("real", Mode.BLACK_BOX)):
        for c in METHOD + OBSERVED:
            if c.mode is Mode.FULL and mode is not Mode.FULL:
                continue
            out.append(pytest.param(clock, mode, c, id=f"{clock}-{mode.value}-{c.name}"))
    return out


@pytest.mark.parametrize(("clock", "mode", "entry"), _params())
def test_method_checks_pass_on_the_mock(servers, clock: str, mode: Mode, entry: Check) -> None:
    result, detail = outcome(entry, target_for(servers[clock], mode))
    if entry in OBSERVED and clock == "manual":
        assert (result, detail) == (
            "skip",
            "the target's clock is manual (M5): no downlink moves on its own",
        )
    else:
        assert result == "pass", detail


def test_padded_bodies_have_the_exact_size_and_stay_valid_json() -> None:
    import json

    for size in (BODY_LIMIT - 1, BODY_LIMIT, BODY_LIMIT + 1):
        body = padded_body("urn:dev:DEVEUI:00000000000000aa:", size)
        assert len(body) == size
        assert json.loads(body)["method"] == {"protocol": "SMS"}
    with pytest.raises(ValueError):
        padded_body("urn:dev:DEVEUI:00000000000000aa:", 10)
