"""The one translation of errors into problem+json (E1): domain errors and the edge's own."""

from __future__ import annotations

import orjson
import pytest

from mock_server.domain import errors
from mock_server.http import problems


@pytest.mark.rule("E1")
@pytest.mark.parametrize(
    ("exc", "status", "type_", "title"),
    [
        (errors.NotFound("gone"), 404, "/problems/not-found", "Not found"),
        (errors.IllegalMove("no"), 409, "/problems/conflict", "Conflict"),
        (errors.NotCancellable("no"), 409, "/problems/conflict", "Conflict"),
        (errors.ReferenceTaken("no"), 409, "/problems/conflict", "Conflict"),
        (errors.IdTaken("no"), 409, "/problems/conflict", "Conflict"),
        (errors.ClockBackwards("no"), 409, "/problems/conflict", "Conflict"),
        (errors.InvalidQuery("bad"), 400, "/problems/validation-error", "Bad request"),
        (problems.PayloadTooLarge("big"), 413, "/problems/payload-too-large", "Payload too large"),
    ],
)
def test_e1_each_error_has_its_answer(
    exc: errors.DomainError | problems.MockError, status: int, type_: str, title: str
) -> None:
    response = problems.problem_for(exc, "/downlinks/x")
    body = orjson.loads(bytes(response.body))
    assert response.status_code == status
    assert response.media_type == problems.PROBLEM_MEDIA_TYPE
    assert body == {
        "type": type_,
        "title": title,
        "status": status,
        "detail": exc.detail,
        "instance": "/downlinks/x",
    }


@pytest.mark.rule("E2")
def test_e2_a_domain_error_keeps_its_violations() -> None:
    found = [{"parameter": "limit", "detail": "too big"}]
    response = problems.problem_for(errors.InvalidQuery("bad", errors=found), "/downlinks")
    assert orjson.loads(bytes(response.body))["errors"] == found


def test_the_edge_names_the_domain_errors_it_raises() -> None:
    # Code at the edge raises and catches these under their old home.
    assert problems.NotFound is errors.NotFound
    assert problems.Conflict is errors.Conflict
    assert not issubclass(errors.DomainError, problems.MockError)  # the domain knows no HTTP
