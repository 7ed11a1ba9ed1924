"""What a check works with: the target, one HTTP exchange at a time, and the test hooks.

A check receives a fresh `Context`. It talks to the target only through `ctx.request` (or
the shortcuts built on it: `create`, `walk`, and the M3-M5 hooks `seed`, `transition`,
`clock`), and fails by `ctx.fail(...)`, which raises a `Finding` carrying a `curl` line and
a response excerpt (K3).

    @check("R1", "a created downlink reads back", tag=Tag.SPEC)
    def read_back(ctx: Context) -> None:
        created = ctx.create()
        got = ctx.request("GET", f"/downlinks/{created['id']}")
        ctx.expect_status(got, 200)
"""

from __future__ import annotations

import json as jsonlib
import random
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import urljoin

import httpx
import jwt

from contract_tests.exchange import (
    EXCERPT_CHARS,
    SPEC_ENV,
    Exchange,
    curl_line,
    load_spec,
    redact,
    schema_validator,
)
from contract_tests.registry import Finding, Mode, Skip

__all__ = [
    "Target",
    "Exchange",
    "Context",
    "load_spec",
    "SPEC_ENV",
    "EXCERPT_CHARS",
    "FULL_SCOPES",
    "READ_SCOPES",
    "MINTABLE_AUTH",
    "redact",
    "curl_line",
    "schema_validator",
]

FULL_SCOPES = ("downlink.read", "downlink.write", "downlink.delete")
READ_SCOPES = ("downlink.read",)
MINTABLE_AUTH = frozenset({"lenient", "off"})  # M1 auth values that take unsigned tokens
_UNSET: Any = ...  # "argument not given" for parameters where None means something


@dataclass
class Target:
    """The implementation under test and the credentials the suite holds for it."""

    base_url: str  # no trailing slash
    mode: Mode  # resolved: FULL when M1 answers (auto), else BLACK_BOX
    auth: str | None  # M1's "auth" value, None in black-box
    token: str  # full scopes (downlink.read write delete), client A
    other_tenant_token: str | None = None  # full scopes, client B (None: checks needing it Skip)
    read_only_token: str | None = None  # only downlink.read, client A
    # Tokens the user handed in are secrets: curl lines show them as these shell variables.
    secrets: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")

    @property
    def can_mint(self) -> bool:
        """Whether the target takes unsigned tokens (M1 says lenient or off auth, A4)."""
        return self.auth in MINTABLE_AUTH

    def mint(self, client_id: str, scopes: Iterable[str], exp: int | None = None) -> str | None:
        """An unsigned JWT (alg none) for `client_id` with `scopes`, expiring at epoch `exp`
        (seconds) if given; None when the target's auth mode would not accept it."""
        if not self.can_mint:
            return None
        claims: dict[str, Any] = {"client_id": client_id, "sub": client_id}
        claims["scope"] = " ".join(scopes)
        if exp is not None:
            claims["exp"] = exp
        return jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]  # unsigned


def _default_body(network_id: str) -> dict[str, Any]:
    return {
        "instruction": [{"bn": network_id}, {"n": "x", "v": 1}],
        "method": {"protocol": "SMS"},
    }


class Context:
    """One check's view of the target: requests, shortcuts, and ways to fail."""

    def __init__(
        self,
        target: Target,
        spec: dict[str, Any] | None = None,
        *,
        name: str = "",
        seed: int | str | None = None,
        run_id: str | None = None,
        client: httpx.Client | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.target = target
        self.spec = spec if spec is not None else load_spec()
        self.name = name
        self.run_id = run_id or uuid.uuid4().hex[:8]
        # Seeded per check, so a check's choices repeat under --seed whatever else runs.
        self.rng = random.Random(f"{seed}:{name}" if seed is not None else None)
        self._client = client or httpx.Client(timeout=timeout)
        self._owns_client = client is None
        self.exchanges: list[Exchange] = []  # every exchange of this check, oldest first

    def close(self) -> None:
        """Release the HTTP client if this context made it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- identities ----------------------------------------------------------------------

    def network_id(self) -> str:
        """A fresh device id (K1): the run id makes it unique across runs, even under --seed."""
        prefix = (self.run_id + "0" * 8)[:8].lower()
        return f"urn:dev:DEVEUI:{prefix}{self.rng.getrandbits(32):08x}:"

    # -- HTTP ----------------------------------------------------------------------------

    def _token(self, token: str | None) -> str | None:
        return self.target.token if token is _UNSET else token

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = _UNSET,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = _UNSET,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Exchange:
        """Send one request. `path` is relative to the base URL or absolute (a `next` link).
        `token=...` (the default) sends the target's token, `token=None` none at all."""
        url = path if "://" in path else self.target.base_url + path
        send_headers: dict[str, str] = {}
        bearer = self._token(token)
        if bearer is not None:
            send_headers["Authorization"] = f"Bearer {bearer}"
        if json is not _UNSET:
            content = jsonlib.dumps(json).encode()
            send_headers["Content-Type"] = "application/json"
        send_headers.update(headers or {})
        request = self._client.build_request(
            method, url, params=params, content=content, headers=send_headers
        )
        try:
            response = self._client.send(request)
        except httpx.TimeoutException:
            raise Finding(
                "the target did not answer in time",
                expected="an answer",
                actual="timeout",
                request=curl_line(request, self.target.secrets),
            ) from None
        except httpx.TransportError as exc:
            raise Finding(
                f"the request failed: {exc}",
                expected="an answer",
                actual=type(exc).__name__,
                request=curl_line(request, self.target.secrets),
            ) from None
        exchange = Exchange(request, response, self.target.secrets)
        self.exchanges.append(exchange)
        return exchange

    def create(
        self, network_id: str | None = None, *, token: str | None = _UNSET, **fields: Any
    ) -> dict[str, Any]:
        """POST /downlinks with a valid body for `network_id` (fresh if None), overridden by
        `fields`; the 201 body, else a `Finding`."""
        body = _default_body(network_id or self.network_id())
        body.update(fields)
        exchange = self.request("POST", "/downlinks", token=token, json=body)
        self.expect_status(exchange, 201)
        created = exchange.json()
        if not isinstance(created, dict):
            self.fail("the created downlink is not a JSON object", exchange)
        return created

    def walk(
        self,
        params: Mapping[str, Any] | list[tuple[str, Any]],
        *,
        direction: str = "next",
        token: str | None = _UNSET,
        max_pages: int = 1000,
    ) -> list[list[dict[str, Any]]]:
        """GET /downlinks with `params`, then follow the `direction` links ("next" or "prev")
        until absent; the pages' items. A non-200, a link seen twice or too many pages fail."""
        if direction not in ("next", "prev"):
            raise ValueError(f"direction must be 'next' or 'prev', not {direction!r}")
        pages: list[list[dict[str, Any]]] = []
        seen: set[str] = set()
        exchange = self.request("GET", "/downlinks", token=token, params=params)
        while True:
            self.expect_status(exchange, 200)
            page = exchange.json()
            if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                self.fail(
                    "the page is not an object with an items array",
                    exchange,
                    expected='{"items": [...]}',
                    actual=type(page).__name__,
                )
            pages.append(page["items"])
            link = page.get(direction)
            if link is None:
                return pages
            if not isinstance(link, str):
                self.fail(f"`{direction}` is not a string", exchange, actual=repr(link))
            link = urljoin(str(exchange.request.url), link)
            if link in seen:
                self.fail(
                    f"walking `{direction}` came back to a page already visited",
                    exchange,
                    expected="every link new",
                    actual=link,
                )
            if len(pages) >= max_pages:
                self.fail(f"walking `{direction}` did not end after {max_pages} pages", exchange)
            seen.add(link)
            exchange = self.request("GET", link, token=token)

    # -- test hooks (M3-M5), full mode only ----------------------------------------------

    def _hook(self, what: str) -> None:
        if self.target.mode is not Mode.FULL:
            raise Skip(f"needs the {what} test hook (full mode)")

    def _expect_hook(self, exchange: Exchange, status: int, what: str) -> None:
        """Like `expect_status`, but a refusal is a set-up failure (an error, not a broken
        rule): the hook is how the check prepares, not what it judges."""
        try:
            self.expect_status(exchange, status)
        except Finding as finding:
            finding.message = f"set-up: the {what} test hook refused: {finding.message}"
            finding.setup = True
            raise

    def seed(
        self, records: list[dict[str, Any]], *, token: str | None = _UNSET
    ) -> list[dict[str, Any]]:
        """M3: store `records` as given (owner: the token's client); the stored records."""
        self._hook("M3")
        exchange = self.request("POST", "/__mock/downlinks", token=token, json=records)
        self._expect_hook(exchange, 201, "M3")
        stored = exchange.json()
        if not isinstance(stored, list) or len(stored) != len(records):
            self.fail("M3 did not answer the array as stored", exchange)
        return stored

    def seed_devices(self, devices: list[dict[str, Any]]) -> None:
        """M3: register device tags that `q` matches exactly (L1)."""
        self._hook("M3")
        exchange = self.request("POST", "/__mock/devices", token=None, json=devices)
        self._expect_hook(exchange, 201, "M3")

    def transition(
        self, downlink_id: str, status: str, error_code: str | None = None
    ) -> dict[str, Any]:
        """M4: move a downlink to `status`; the downlink after the move."""
        self._hook("M4")
        body: dict[str, Any] = {"status": status}
        if error_code is not None:
            body["errorCode"] = error_code
        exchange = self.request(
            "POST", f"/__mock/downlinks/{downlink_id}/transition", token=None, json=body
        )
        self._expect_hook(exchange, 200, "M4")
        moved = exchange.json()
        if not isinstance(moved, dict):
            self.fail("M4 did not answer the downlink", exchange)
        return moved

    def clock(self) -> dict[str, Any]:
        """M5: the target's clock, {"now": ..., "mode": ...}."""
        self._hook("M5")
        exchange = self.request("GET", "/__mock/clock", token=None)
        self._expect_hook(exchange, 200, "M5")
        clock = exchange.json()
        if not isinstance(clock, dict):
            self.fail("M5 did not answer a JSON object", exchange)
        return clock

    # -- failing -------------------------------------------------------------------------

    def fail(
        self,
        message: str,
        exchange: Exchange | None = None,
        *,
        expected: str = "",
        actual: str = "",
    ) -> NoReturn:
        """Raise a `Finding`, with the curl line and response excerpt of `exchange`."""
        raise Finding(
            message,
            expected=expected,
            actual=actual,
            request=exchange.curl if exchange else "",
            response=exchange.excerpt() if exchange else "",
        )

    def expect_status(self, exchange: Exchange, *statuses: int) -> None:
        """Fail unless the response status is one of `statuses`."""
        if exchange.status not in statuses:
            wanted = " or ".join(str(s) for s in statuses)
            self.fail(
                f"{exchange.request.method} {exchange.request.url.path} answered "
                f"{exchange.status}, not {wanted}",
                exchange,
                expected=wanted,
                actual=str(exchange.status),
            )

    def expect_schema(self, exchange: Exchange, schema: str, instance: Any = _UNSET) -> None:
        """Fail unless `instance` (default: the response body) satisfies the spec's
        `#/components/schemas/<schema>`."""
        value = exchange.json() if instance is _UNSET else instance
        errors = sorted(
            schema_validator(self.spec, schema).iter_errors(value),
            key=lambda e: [str(p) for p in e.path],
        )
        if errors:
            where = [
                f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
                for e in errors[:3]
            ]
            self.fail(
                f"the body does not match the spec's {schema} schema",
                exchange,
                expected=f"a {schema} (openapi.json #/components/schemas/{schema})",
                actual="; ".join(where) + (" ..." if len(errors) > 3 else ""),
            )

    def expect_problem(self, exchange: Exchange, status: int) -> dict[str, Any]:
        """Fail unless the answer is `status` with an E1 problem+json body; the body."""
        self.expect_status(exchange, status)
        media = exchange.response.headers.get("content-type", "").split(";")[0].strip()
        if media.lower() != "application/problem+json":
            self.fail(
                "an error answer is not problem+json (E1)",
                exchange,
                expected="Content-Type: application/problem+json",
                actual=f"Content-Type: {media or '(none)'}",
            )
        problem = exchange.json()
        if not isinstance(problem, dict):
            self.fail("the problem is not a JSON object (E1)", exchange)
        for member, kind in (("type", str), ("title", str), ("status", int), ("detail", str)):
            value = problem.get(member)
            if not isinstance(value, kind) or isinstance(value, bool):
                self.fail(
                    f"the problem lacks a {kind.__name__} `{member}` (E1)",
                    exchange,
                    expected=f"`{member}`: {kind.__name__}",
                    actual=f"`{member}`: {value!r}",
                )
        if problem["status"] != status:
            self.fail(
                "the problem's `status` differs from the HTTP status (E1)",
                exchange,
                expected=str(status),
                actual=str(problem["status"]),
            )
        return problem
