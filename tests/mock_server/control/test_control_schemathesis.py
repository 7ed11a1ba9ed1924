"""Schemathesis over the control plane's own document (/__mock/openapi.json), in-process:
what the document publishes is what the mock enforces.

Negative data (bodies and parameters the document refuses) must be refused with a 4xx, and
every answer must match its documented schema. `positive_data_acceptance` is excluded as
Z1 excludes it for the public API: the document cannot express the rules across fields
(a latency range's min <= max, a fault that injects something, modifiedAt >= createdAt),
the store's state (an unknown id, a move S1 forbids) or the end of time. On top of the
checks: no answer is a 5xx, and after every 4xx the state is as it was (store version and
size, clock, scenario, faults; the control plane is not journaled, so the journal too).
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance, status_code_conformance

from mock_server.app import create_app
from mock_server.config import ClockMode, MockConfig
from mock_server.openapi.control import control_document
from tests.mock_server.conftest import START_MS
from tests.mock_server.security.snapshot import snapshot

APP = create_app(MockConfig(clock_mode=ClockMode.MANUAL, clock_start=START_MS, scenario="static"))
SCHEMA = schemathesis.openapi.from_dict(control_document())
SCHEMA.app = APP
# The scenario body is checked by the scenario module (its friendlier words), and YAML
# bodies are outside what Schemathesis generates; M2 would undo every other case's state.
SCHEMA = SCHEMA.exclude(operation_id=["loadScenario", "reset"])


@SCHEMA.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_z1_schemathesis_over_the_control_document(case: schemathesis.Case) -> None:
    mock = APP.state.mock
    before = snapshot(mock)
    response = case.call()
    case.validate_response(
        response, excluded_checks=[positive_data_acceptance, status_code_conformance]
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 400:  # refused: nothing changed
        assert snapshot(mock) == before
