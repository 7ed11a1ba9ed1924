"""problem+json answers (E1-E3) and the one exception family that produces them."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

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
    "problem_response",
    "PROBLEM_MEDIA_TYPE",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"

Violation = dict[str, str]
"""One E2 entry: {"pointer": "#/retryLimit", "detail": ...} or {"parameter": "limit", ...}."""


class MockError(Exception):
    """Root of every error the mock answers with a problem+json body (E1)."""

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


class NotFound(MockError):
    """404: unknown, or not the caller's (A5)."""

    status = 404
    type = "/problems/not-found"
    title = "Not found"


class MethodNotAllowed(MockError):
    """405: a known path with another method (E3); `Allow` lists the methods."""

    status = 405
    type = "/problems/method-not-allowed"
    title = "Method not allowed"


class Conflict(MockError):
    """409: the state does not permit it (C6, X1, M3, M4, M5)."""

    status = 409
    type = "/problems/conflict"
    title = "Conflict"


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


def problem_response(
    status: int,
    type_: str,
    title: str,
    detail: str,
    instance: str,
    *,
    errors: list[Violation] | None = None,
    headers: dict[str, str] | None = None,
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
