"""problem+json answers (E1-E3): the HTTP-only errors, and the one place where every error,
domain ones included, becomes its answer (`problem_for`).

`NotFound` and `Conflict` are the domain's (`mock_server.domain.errors`), named here too so
that the edge's code can raise and catch them beside the HTTP ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from mock_server.domain.errors import Conflict, DomainError, InvalidQuery, NotFound, Violation

__all__ = [
    "MockError",
    "BadRequest",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "MethodNotAllowed",
    "Conflict",
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "Violation",
    "problem_for",
    "problem_response",
    "PROBLEM_MEDIA_TYPE",
    "StoreUnavailable",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"


class MockError(Exception):
    """Root of the errors of the HTTP edge itself (tokens, bodies, parameters); each is
    answered with a problem+json body (E1). What the domain refuses is a `DomainError`."""

    status: int = 500
    type: str = "/problems/internal-error"
    title: str = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[Violation] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}

    def to_response(self, instance: str) -> Response:
        return problem_response(
            self.status,
            self.type,
            self.title,
            self.detail,
            instance,
            errors=self.errors,
            headers=self.headers,
        )


class BadRequest(MockError):
    """400: bad input, with every violation in `errors` (E2)."""

    status = 400
    type = "/problems/validation-error"
    title = "Bad request"


class Unauthorized(MockError):
    """401: no token, or one that cannot be used (A1, A3)."""

    status = 401
    type = "/problems/unauthorized"
    title = "Unauthorized"


class Forbidden(MockError):
    """403: a valid token without the needed scope (A2)."""

    status = 403
    type = "/problems/forbidden"
    title = "Forbidden"


class MethodNotAllowed(MockError):
    """405: a known path with another method (E3); `Allow` lists the methods."""

    status = 405
    type = "/problems/method-not-allowed"
    title = "Method not allowed"


class PayloadTooLarge(MockError):
    """413: a body over the size limit (E3)."""

    status = 413
    type = "/problems/payload-too-large"
    title = "Payload too large"


class UnsupportedMediaType(MockError):
    """415: a body that is not application/json (E3)."""

    status = 415
    type = "/problems/unsupported-media-type"
    title = "Unsupported media type"


class StoreUnavailable(MockError):
    """503: the shared store cannot be reached, or is too busy with one downlink."""

    status = 503
    type = "/problems/store-unavailable"
    title = "Service unavailable"


# The answer of each domain error family (the nearest listed class decides).
_DOMAIN_PROBLEMS: dict[type[DomainError], tuple[int, str, str]] = {
    NotFound: (404, "/problems/not-found", "Not found"),  # unknown, or not the caller's (A5)
    Conflict: (409, "/problems/conflict", "Conflict"),  # the state does not permit it
    InvalidQuery: (400, BadRequest.type, BadRequest.title),  # E2, with every violation
}


def problem_for(exc: MockError | DomainError, instance: str) -> Response:
    """The problem+json answer to `exc` on the path `instance` (E1)."""
    if isinstance(exc, MockError):
        return exc.to_response(instance)
    status, type_, title = next(
        (_DOMAIN_PROBLEMS[cls] for cls in type(exc).__mro__ if cls in _DOMAIN_PROBLEMS),
        (500, MockError.type, MockError.title),
    )
    return problem_response(status, type_, title, exc.detail, instance, errors=exc.errors)


def problem_response(
    status: int,
    type_: str,
    title: str,
    detail: str,
    instance: str,
    *,
    errors: list[Violation] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Render an RFC 9457 problem as `application/problem+json` (E1)."""
    body: dict[str, Any] = {
        "type": type_,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors is not None:
        body["errors"] = errors
    return Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE
    )
