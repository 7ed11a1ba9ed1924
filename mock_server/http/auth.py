"""Bearer tokens (A1-A4): who the caller is and what it may do.

Token material (the scopes, JWKS files, minting tokens for tests) is in `tokens.py`; its
names are importable from here too.

Every request passes through `Authenticator.authenticate`, so the verified outcome of a
token (client, scopes, `exp`, `nbf`) is cached per `Authorization` header value: a token
seen before costs a dict lookup and the time and scope checks. The cache is bounded by
bytes (`CACHE_BYTES`), and a header over `MAX_CACHED_TOKEN` bytes is verified every time,
never kept, so no caller can make the cache hold more than the budget. Time is judged against the
mock's clock on every call, never against the wall clock, so a cached token still expires
when a manual clock is moved past its `exp` (A3, T3).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import jwt

from mock_server.config import AuthMode
from mock_server.domain.timefmt import format_ms
from mock_server.http.problems import Forbidden, Unauthorized
from mock_server.http.tokens import JWKS_ALGORITHMS, SCOPES, ConfigError, load_jwks, mint_token

__all__ = [
    "SCOPES",
    "REALM",
    "JWKS_ALGORITHMS",
    "Principal",
    "Authenticator",
    "ConfigError",
    "mint_token",
]

REALM = "downlinks"
"""The realm named in every `WWW-Authenticate` challenge."""

DEFAULT_CLIENT = "default"
"""The tenant every caller is in mode `off` (A4)."""

_CACHE_SIZE = 10_000

CACHE_BYTES = 8 * 1024 * 1024
"""The token cache's budget: the sum of the cached header values' lengths, plus
`_ENTRY_OVERHEAD` each."""

MAX_CACHED_TOKEN = 8 * 1024
"""An `Authorization` header longer than this is verified on every use and never cached."""

# What one cached entry costs besides its header value: the dict slot, the verified
# outcome and its principal (measured with sys.getsizeof, rounded up).
_ENTRY_OVERHEAD = 512

# pyjwt judges exp/nbf/iat by the wall clock; the mock judges them by its own (A3).
_NO_CLAIM_CHECKS: Any = {
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_iss": False,
    "verify_sub": False,
    "verify_jti": False,
}
_UNVERIFIED: Any = {"verify_signature": False, **_NO_CLAIM_CHECKS}

_JWT = jwt.PyJWT()


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: its client (tenant, A5) and granted scopes."""

    client_id: str
    scopes: frozenset[str]


_EVERYONE = Principal(DEFAULT_CLIENT, frozenset(SCOPES))


class _InvalidToken(Exception):
    """A token that cannot be used; the message becomes the 401's detail."""


@dataclass(frozen=True, slots=True)
class _Verified:
    """What a token proved once; exp and nbf are still judged on every use."""

    principal: Principal
    exp_ms: int | None
    nbf_ms: int | None


class Authenticator:
    """Turns an `Authorization` header into a `Principal` or a 401/403 (A1-A4).

    `now_ms` is the mock's clock in epoch milliseconds; `exp` and `nbf` are judged by it.
    """

    def __init__(
        self,
        mode: AuthMode | str,
        *,
        secret: str | None = None,
        jwks_path: Path | None = None,
        now_ms: Callable[[], int],
        cache_size: int = _CACHE_SIZE,
        cache_bytes: int = CACHE_BYTES,
    ) -> None:
        try:
            self.mode = AuthMode(mode)
        except ValueError:
            choices = ", ".join(m.value for m in AuthMode)
            raise ConfigError(f"unknown auth mode {mode!r}; choose one of {choices}") from None
        self._now_ms = now_ms
        self._secret: str | None = None
        self._keys: dict[str | None, jwt.PyJWK] = {}
        if self.mode is AuthMode.HS256:
            if not secret:
                raise ConfigError("auth mode hs256 needs a shared secret (--secret)")
            self._secret = secret
        elif self.mode is AuthMode.JWKS:
            self._keys = load_jwks(jwks_path)
        self._cache: dict[str, _Verified] = {}
        self._cache_size = max(1, cache_size)
        self._cache_budget = max(0, cache_bytes)
        self._cache_bytes = 0
        self._cache_lock = threading.Lock()

    def authenticate(self, authorization: str | None, required_scope: str) -> Principal:
        """The caller of a request needing `required_scope`, or raise Unauthorized/Forbidden.

        `authorization` is the raw `Authorization` header value (None when absent).
        """
        principal = self.identify(authorization)
        if required_scope not in principal.scopes:
            granted = ", ".join(sorted(principal.scopes)) or "none"
            raise Forbidden(
                f"this operation needs scope {required_scope}; the token of client"
                f" {principal.client_id!r} grants: {granted}",
                headers={
                    "WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope",'
                    f' scope="{required_scope}"'
                },
            )
        return principal

    def identify(self, authorization: str | None) -> Principal:
        """The caller named by a usable token, whatever its scopes; else raise Unauthorized.

        The checks of A1, A3 and A4 without A2's: for who-is-asking questions such as the
        default owner of seeded records (M3).
        """
        if self.mode is AuthMode.OFF:
            return _EVERYONE
        if authorization is None:
            _challenge(None, "missing Authorization header: send 'Authorization: Bearer <token>'")
        verified = self._cache.get(authorization)
        if verified is None:
            verified = self._verify(authorization)
        if verified.exp_ms is not None or verified.nbf_ms is not None:
            now = self._now_ms()
            if verified.exp_ms is not None and now >= verified.exp_ms:
                _challenge(
                    "invalid_token",
                    f"token expired at {_instant(verified.exp_ms)}"
                    f" (the mock's clock reads {_instant(now)})",
                )
            if verified.nbf_ms is not None and now < verified.nbf_ms:
                _challenge(
                    "invalid_token",
                    f"token not valid before {_instant(verified.nbf_ms)}"
                    f" (the mock's clock reads {_instant(now)})",
                )
        return verified.principal

    def _verify(self, authorization: str) -> _Verified:
        """Check a header seen for the first time, and remember what it proved."""
        scheme, _, rest = authorization.partition(" ")
        if scheme.lower() != "bearer":
            # RFC 6750 3.1: another scheme is no bearer credential at all, so no error code.
            _challenge(None, f"expected 'Authorization: Bearer <token>', got scheme {scheme!r}")
        token = rest.strip()
        try:
            if not token:
                raise _InvalidToken("the Bearer token is empty")
            verified = _claims_to_verified(self._decode(token))
        except _InvalidToken as exc:
            _challenge("invalid_token", str(exc))
        cost = len(authorization) + _ENTRY_OVERHEAD
        if len(authorization) > MAX_CACHED_TOKEN or cost > self._cache_budget:
            return verified
        with self._cache_lock:
            if authorization in self._cache:
                return verified
            while self._cache and (
                len(self._cache) >= self._cache_size
                or self._cache_bytes + cost > self._cache_budget
            ):
                # dicts keep insertion order: the first key is the oldest.
                oldest = next(iter(self._cache))
                del self._cache[oldest]
                self._cache_bytes -= len(oldest) + _ENTRY_OVERHEAD
            self._cache[authorization] = verified
            self._cache_bytes += cost
        return verified

    @property
    def cached_bytes(self) -> int:
        """What the token cache holds, in the units of its budget (`CACHE_BYTES`)."""
        return self._cache_bytes

    def _decode(self, token: str) -> dict[str, Any]:
        """The token's claims, after the checks of this mode (A4)."""
        parts = token.count(".") + 1
        if parts != 3:
            raise _InvalidToken(f"not a JWT: expected 3 dot-separated parts, got {parts}")
        try:
            header = jwt.get_unverified_header(token)
            alg = header.get("alg")
            if not isinstance(alg, str) or not alg:
                raise _InvalidToken("not a JWT: the header has no alg")
            if self.mode is AuthMode.LENIENT:
                return _JWT.decode(token, options=_UNVERIFIED)
            if self.mode is AuthMode.HS256:
                _require_alg(alg, ("HS256",), self.mode)
                return _JWT.decode(
                    token, self._secret or "", algorithms=["HS256"], options=_NO_CLAIM_CHECKS
                )
            _require_alg(alg, JWKS_ALGORITHMS, self.mode)
            key = self._key_for(header.get("kid"))
            return _JWT.decode(token, key, algorithms=[alg], options=_NO_CLAIM_CHECKS)
        except jwt.InvalidSignatureError:
            raise _InvalidToken("signature verification failed") from None
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise _InvalidToken(f"not a valid JWT: {exc}") from None

    def _key_for(self, kid: str | None) -> jwt.PyJWK:
        """The JWKS key named by `kid`; without a kid, the only key if there is just one."""
        if kid is None:
            if len(self._keys) == 1:
                return next(iter(self._keys.values()))
            raise _InvalidToken(
                f"the token has no kid and the JWKS holds {len(self._keys)} keys; name one"
            )
        key = self._keys.get(kid)
        if key is None:
            known = ", ".join(sorted(repr(k) for k in self._keys if k is not None)) or "none"
            raise _InvalidToken(f"no JWKS key has kid {kid!r} (known kids: {known})")
        return key


def _challenge(error: str | None, detail: str) -> NoReturn:
    """Raise the 401 of A1 with its RFC 6750 challenge."""
    value = f'Bearer realm="{REALM}"'
    if error is not None:
        value += f', error="{error}", error_description="{_quotable(detail)}"'
    raise Unauthorized(detail, headers={"WWW-Authenticate": value})


def _quotable(text: str) -> str:
    """Text fit for a quoted error_description (RFC 6750 3: printable ASCII, no '"' or '\\')."""
    text = text.replace('"', "'").replace("\\", "/")
    return "".join(c if " " <= c <= "~" else "?" for c in text)


def _instant(ms: int) -> str:
    try:
        return format_ms(ms)
    except (OverflowError, ValueError):  # beyond the years datetime can show
        return f"{ms} ms since the epoch"


def _require_alg(alg: str, allowed: tuple[str, ...], mode: AuthMode) -> None:
    if alg in allowed:
        return
    hint = "; unsigned tokens are accepted only in lenient mode" if alg.lower() == "none" else ""
    raise _InvalidToken(
        f"alg {alg!r} is not accepted in {mode.value} mode (accepted: {', '.join(allowed)}){hint}"
    )


def _claims_to_verified(claims: dict[str, Any]) -> _Verified:
    """Client, scopes and validity window from the claims (A3)."""
    client = None
    for name in ("client_id", "sub"):
        value = claims.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            raise _InvalidToken(f"the {name} claim must be a non-empty string")
        client = _storable(name, value)
        break
    if client is None:
        raise _InvalidToken("the token has neither a client_id nor a sub claim")
    scopes: set[str] = set()
    for name in ("scope", "scp"):
        scopes.update(_scope_claim(name, claims.get(name)))
    return _Verified(
        Principal(client, frozenset(scopes)),
        _numeric_date_ms("exp", claims.get("exp")),
        _numeric_date_ms("nbf", claims.get("nbf")),
    )


def _scope_claim(name: str, value: Any) -> list[str]:
    """A scope claim as a space-separated string or an array of strings, either way."""
    if value is None:
        return []
    if isinstance(value, str):
        return _storable(name, value).split()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [scope for item in value for scope in _storable(name, item).split()]
    raise _InvalidToken(f"the {name} claim must be a space-separated string or an array of strings")


def _storable(name: str, value: str) -> str:
    """`value`, if UTF-8 can carry it: a claim the mock keeps (the client, the scopes) is
    written into answers and the journal, so a lone surrogate (JSON allows `"\\ud800"`)
    would make them unencodable for everyone; such a token is unusable (401)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _InvalidToken(
            f"the {name} claim holds a lone surrogate (a \\uD800-\\uDFFF escape without its "
            "pair), which UTF-8 cannot encode"
        ) from None
    return value


def _numeric_date_ms(name: str, value: Any) -> int | None:
    """A NumericDate claim (seconds since the epoch, RFC 7519) in milliseconds."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _InvalidToken(f"the {name} claim must be a number of seconds since the epoch")
    if isinstance(value, int):
        return value * 1000
    ms = value * 1000
    if not math.isfinite(ms):
        raise _InvalidToken(f"the {name} claim is out of range")
    return math.floor(ms)
