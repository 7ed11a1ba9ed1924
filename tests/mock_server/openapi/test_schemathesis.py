"""Schemathesis against the mock, in-process: its default checks, negative data included.

Z1: `status_code_conformance` and `positive_data_acceptance` are excluded, because the spec
documents only success codes and its schemas cannot express C2-C5 and L3-L4: a correct
implementation answers 400/401/404/... and rejects some schema-valid bodies. Every other
check must pass. On top of them: no answer is a 5xx, and after every 4xx the state is as it
was (store version and size, clock, scenario, faults), the journal one entry longer (the
refused request itself).
"""

from __future__ import annotations

import json

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance, status_code_conformance

from mock_server.app import create_app
from mock_server.config import OPENAPI_PATH, ClockMode, MockConfig
from mock_server.http.auth import mint_token
from tests.mock_server.conftest import START_MS
from tests.mock_server.security.snapshot import snapshot

APP = create_app(MockConfig(clock_mode=ClockMode.MANUAL, clock_start=START_MS, scenario="static"))
SCHEMA = schemathesis.openapi.from_dict(json.loads(OPENAPI_PATH.read_text()))
SCHEMA.app = APP
EXCLUDED = [status_code_conformance, positive_data_acceptance]  # Z1


@SCHEMA.auth()
class BearerToken:
    """A token with every scope; Schemathesis leaves it out where it tests a missing one."""

    def get(self, case: schemathesis.Case, context: object) -> str:
        return mint_token("schemathesis")

    def set(self, case: schemathesis.Case, data: str, context: object) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@SCHEMA.parametrize()
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
def test_z1_schemathesis_default_checks(case: schemathesis.Case) -> None:
    mock = APP.state.mock
    before = snapshot(mock)
    response = case.call()
    case.validate_response(response, excluded_checks=EXCLUDED)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:  # refused: nothing changed but the journal's entry
        assert snapshot(mock) == {**before, "journal": before["journal"] + 1}
