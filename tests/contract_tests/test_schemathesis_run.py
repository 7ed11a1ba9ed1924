"""Schemathesis runs merged as rule Z1: failures become findings with curl lines; the checks
Z1 (and X4) name are excluded with their reason."""

from __future__ import annotations

import copy

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from contract_tests.context import Target, load_spec
from contract_tests.registry import Mode
from contract_tests.rules import RULES
from contract_tests.runner import Outcome
from contract_tests.schemathesis_run import EXCLUDED, run_schemathesis
from tests.contract_tests.fakes import serving


def _read_only_spec() -> dict:
    """The spec cut down to GET /downlinks/{downlinkId}, so a run takes a moment."""
    spec = copy.deepcopy(load_spec())
    item = spec["paths"]["/downlinks/{downlinkId}"]
    spec["paths"] = {"/downlinks/{downlinkId}": {"get": item["get"]}}
    return spec


def _app(crash: bool) -> Starlette:
    async def read(request: Request) -> Response:
        if request.headers.get("authorization") != "Bearer tok":
            return JSONResponse(
                {"type": "/problems/unauthorized", "title": "t", "status": 401, "detail": "d"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
                media_type="application/problem+json",
            )
        if crash:
            return PlainTextResponse("boom", status_code=500)
        return JSONResponse(
            {"type": "/problems/not-found", "title": "t", "status": 404, "detail": "d"},
            status_code=404,
            media_type="application/problem+json",
        )

    return Starlette(routes=[Route("/downlinks/{downlinkId}", read, methods=["GET"])])


def _run(url: str, secrets: dict[str, str] | None = None):
    target = Target(url, Mode.BLACK_BOX, None, token="tok", secrets=secrets or {})
    return run_schemathesis(
        target,
        _read_only_spec(),
        run_id="r",
        network_id="urn:dev:DEVEUI:0000000000000001:",
        max_examples=2,
        seed=1,
        timeout=5,
    )


def test_z1_a_server_error_is_a_finding_with_curl_and_response() -> None:
    with serving(_app(crash=True)) as url:
        run = _run(url, {"DOWNLINKS_TOKEN": "tok"})
    by_name = {r.check.name: r for r in run.results}
    crashed = by_name["Z1-schemathesis_not_a_server_error"]
    assert crashed.outcome is Outcome.FAILED
    finding = crashed.findings[0]
    assert finding.rule == "Z1" and finding.rule_text == RULES["Z1"]
    assert finding.message.startswith("GET /downlinks/{downlinkId}: ")
    assert finding.request.startswith("curl -X GET")
    assert "$DOWNLINKS_TOKEN" in finding.request and "Bearer tok" not in finding.request
    assert finding.response.startswith("HTTP 500")
    assert run.requests > 0


def test_z1_a_correct_target_passes_and_exclusions_are_skipped_with_reasons() -> None:
    with serving(_app(crash=False)) as url:
        run = _run(url)
    outcomes = {r.check.name: r.outcome for r in run.results}
    ran = {name for name, outcome in outcomes.items() if outcome is Outcome.PASSED}
    assert "Z1-schemathesis_not_a_server_error" in ran
    assert not any(r.failed for r in run.results), [r.findings for r in run.results if r.failed]
    skipped = {r.check.name: r.reason for r in run.results if r.outcome is Outcome.SKIPPED}
    for name, reason in EXCLUDED.items():
        assert skipped[f"Z1-schemathesis_{name}"] == f"excluded: {reason}"
    assert EXCLUDED["status_code_conformance"].startswith("Z1:")
    assert EXCLUDED["positive_data_acceptance"].startswith("Z1:")


class _Meta:
    def __init__(self, negative: bool) -> None:
        self.negative = negative

    def is_negative_at(self, location: object) -> bool:
        return self.negative


class _Case:
    def __init__(self, body: dict, negative: bool) -> None:
        self.operation = type("Op", (), {"label": "POST /downlinks"})()
        self.body = body
        self.meta = _Meta(negative)


def test_z1_negative_creates_are_refused_for_the_broken_field_not_the_pack() -> None:
    """A negative body broken elsewhere gets a valid pack (C2 would refuse any generated
    one); a body whose pack is what is broken keeps it."""
    from contract_tests.schemathesis_run import _realistic_creates

    hook = _realistic_creates("urn:dev:DEVEUI:00:", "run", load_spec())
    broken_elsewhere = hook(None, _Case({"instruction": [{}], "retryLimit": -1}, negative=True))
    assert broken_elsewhere.body == {
        "instruction": [{"bn": "urn:dev:DEVEUI:00:"}, {"n": "x", "v": 1}],
        "retryLimit": -1,
    }
    broken_pack = hook(None, _Case({"instruction": [{"bn": 5}], "method": {}}, negative=True))
    assert broken_pack.body["instruction"] == [{"bn": 5}]
    positive = hook(None, _Case({"instruction": [], "method": {"protocol": "SMS"}}, negative=False))
    assert positive.body["instruction"][0] == {"bn": "urn:dev:DEVEUI:00:"}
