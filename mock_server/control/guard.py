"""The guard in front of the whole app: who may reach the control plane, and from where.

The control plane (`/__mock`) can wipe the mock, plant or cancel any client's downlinks and
read every client's requests, so it is guarded in every mode (docs/security.md):

- **one canonical path**: a control path must be sent as written (`/_%5fmock/reset` is not an
  alias that gets past a proxy rule on the literal prefix);
- **no cross-site requests**: a browser page from another origin cannot drive it
  (`Sec-Fetch-Site` must be `same-origin` or `none`; an `Origin` must be the mock's own) and
  a body must be JSON or YAML, never a type an HTML form can send without a preflight;
- **an admin token** when the mock listens on anything but loopback (`--admin-token`, or
  one generated at start and printed in the banner): `Authorization: Bearer <token>`, or
  Basic with the token as the password (a browser asks for it on the web view).

For every path, public API included, a mock on loopback answers only the `Host` names that
mean this machine (DNS rebinding: a page whose name resolves to 127.0.0.1 must not reach
it), plus those the user allows (`--allowed-host`).
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.config import is_loopback
from mock_server.http.problems import problem_response

__all__ = ["ControlGuard", "CONTROL_PREFIX", "LOOPBACK_HOSTS"]

CONTROL_PREFIX = "/__mock"
# Names that mean this machine. `testserver` is what Starlette's TestClient sends: it is
# not a name a public DNS answers, so it opens nothing to a rebinding page.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "testserver"})
# Body types an HTML form (or a `no-cors` fetch) sends without a CORS preflight.
_SIMPLE_MEDIA = frozenset(
    {"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}
)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SAFE_FETCH_SITES = frozenset({"same-origin", "none"})


def _host_name(value: str) -> str:
    """The name part of a Host header or an origin's authority (no port, no brackets)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class ControlGuard:
    """Pure ASGI middleware: refuse what must not reach the mock, as problem+json."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        listen_host: str,
        admin_token: str | None = None,
        allowed_hosts: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.admin_token = admin_token
        self.loopback = is_loopback(listen_host)
        self.allowed_hosts = LOOPBACK_HOSTS | {_host_name(h) for h in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            status, type_, title, detail = refusal
            # Basic first: a browser asks for it (any user name, the admin token as the
            # password) and then sends it with every request of the web view.
            realm = 'realm="downlinks-mock admin"'
            headers = {"WWW-Authenticate": f"Basic {realm}, Bearer {realm}"}
            response = problem_response(
                status,
                type_,
                title,
                detail,
                scope["path"],
                headers=headers if status == 401 else None,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> tuple[int, str, str, str] | None:
        headers = _headers(scope)
        if self.loopback:
            host = _host_name(headers.get("host", "localhost"))
            if host not in self.allowed_hosts and not host.endswith(".localhost"):
                return (
                    400,
                    "/problems/unknown-host",
                    "Unknown host",
                    f"this mock listens on loopback and answers Host names that mean this "
                    f"machine, not {host!r}; allow more with --allowed-host",
                )
        path: str = scope["path"]
        raw = scope.get("raw_path")
        raw_path = raw.decode("latin-1") if isinstance(raw, bytes) else path
        control = path.startswith(CONTROL_PREFIX)
        if not control:
            return None
        if raw_path != path:
            return _not_canonical(raw_path)
        site = headers.get("sec-fetch-site")
        if site is not None and site not in _SAFE_FETCH_SITES:
            return _cross_site(f"Sec-Fetch-Site is {site!r}")
        origin = headers.get("origin")
        if origin is not None and not _same_origin(origin, headers.get("host", ""), scope):
            return _cross_site(f"Origin {origin!r} is not this mock")
        if scope["method"] in _BODY_METHODS and _has_body(headers):
            media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if media in _SIMPLE_MEDIA:
                return (
                    415,
                    "/problems/unsupported-media-type",
                    "Unsupported media type",
                    "send control-plane bodies as application/json (or application/yaml for "
                    f"a scenario), not {media or 'a body without a Content-Type'}",
                )
        if self.admin_token is not None and not self._admin(headers):
            return (
                401,
                "/problems/admin-token-required",
                "Admin token required",
                "the control plane needs the admin token printed at start "
                "(Authorization: Bearer <admin token>)",
            )
        return None

    def _admin(self, headers: dict[str, str]) -> bool:
        """Bearer <admin token>, or Basic with the admin token as the password (what a
        browser sends for the web view once asked)."""
        assert self.admin_token is not None
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True).decode()
            except (ValueError, UnicodeDecodeError):
                return False
            credentials = decoded.partition(":")[2]
        elif scheme != "bearer":
            return False
        return hmac.compare_digest(credentials.strip().encode(), self.admin_token.encode())


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name (the first of repeated ones)."""
    found: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        found.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    return found


def _has_body(headers: dict[str, str]) -> bool:
    length = headers.get("content-length")
    return "transfer-encoding" in headers or (length is not None and length.strip() != "0")


def _same_origin(origin: str, host: str, scope: Scope) -> bool:
    scheme, sep, authority = origin.strip().lower().partition("://")
    if not sep:  # "null" (a sandboxed page, a file) or garbage
        return False
    return scheme == scope.get("scheme", "http") and authority == host.strip().lower()


def _cross_site(why: str) -> tuple[int, str, str, str]:
    return (
        403,
        "/problems/cross-site",
        "Cross-site request",
        f"the control plane takes no requests from other sites' pages: {why}",
    )


def _not_canonical(raw_path: str) -> tuple[int, str, str, str]:
    return (
        404,
        "/problems/not-found",
        "Not found",
        f"no such resource: {raw_path!r} is not written the canonical way "
        "(no percent-encoded letters or slashes)",
    )
