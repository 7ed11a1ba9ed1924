"""Bearer tokens (A1-A4): who the caller is, what it may do, and minting tokens for tests.

Every request passes through `Authenticator.authenticate`, so the verified outcome of a
token (client, scopes, `exp`, `nbf`) is cached per `Authorization` header value: a token
seen before costs a dict lookup and the time and scope checks. Time is judged against the
mock's clock on every call, never against the wall clock, so a cached token still expires
when a manual clock is moved past its `exp` (A3, T3).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mock_server.config import AuthMode
from mock_server.domain.timefmt import format_ms
from mock_server.http.problems import Forbidden, Unauthorized

__all__ = [
    "SCOPES",
    "REALM",
    "JWKS_ALGORITHMS",
    "Principal",
    "Authenticator",
    "ConfigError",
    "mint_token",
]

SCOPES = ("downlink.read", "downlink.write", "downlink.delete")
"""Every scope the API knows (A2): GET needs read, POST write, DELETE delete."""

REALM = "downlinks"
"""The realm named in every `WWW-Authenticate` challenge."""

JWKS_ALGORITHMS = ("RS256", "ES256")
"""The signature algorithms jwks mode verifies (A4)."""

DEFAULT_CLIENT = "default"
"""The tenant every caller is in mode `off` (A4)."""

_CACHE_SIZE = 10_000

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


class ConfigError(ValueError):
    """The authenticator cannot start: a missing secret, an unreadable JWKS file, ..."""


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
            self._keys = _load_jwks(jwks_path)
        self._cache: dict[str, _Verified] = {}
        self._cache_size = max(1, cache_size)
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
        with self._cache_lock:
            if len(self._cache) >= self._cache_size:
                # dicts keep insertion order: the first key is the oldest.
                del self._cache[next(iter(self._cache))]
            self._cache[authorization] = verified
        return verified

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
                    token, self._secret, algorithms=["HS256"], options=_NO_CLAIM_CHECKS
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
        client = value
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
        return value.split()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [scope for item in value for scope in item.split()]
    raise _InvalidToken(f"the {name} claim must be a space-separated string or an array of strings")


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


def _load_jwks(path: Path | None) -> dict[str | None, jwt.PyJWK]:
    """The RS256/ES256 verification keys of a JWKS file, by kid."""
    if path is None:
        raise ConfigError("auth mode jwks needs a JWKS file (--jwks)")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the JWKS file {str(path)!r}: {exc}") from None
    try:
        keyset = jwt.PyJWKSet.from_json(text)
    except ValueError as exc:
        raise ConfigError(f"the JWKS file {str(path)!r} is not JSON: {exc}") from None
    except (jwt.PyJWTError, AttributeError) as exc:
        # AttributeError: a top level that is not an object.
        raise ConfigError(f"the JWKS file {str(path)!r} holds no usable key set: {exc}") from None
    keys: dict[str | None, jwt.PyJWK] = {}
    for key in keyset:
        if key.algorithm_name not in JWKS_ALGORITHMS:
            continue
        if key.key_id in keys:
            raise ConfigError(f"the JWKS file {str(path)!r} has two keys with kid {key.key_id!r}")
        if hasattr(key.key, "public_key"):
            # A private JWK still verifies with its public half.
            key.key = key.key.public_key()
        keys[key.key_id] = key
    if not keys:
        raise ConfigError(
            f"the JWKS file {str(path)!r} has no RS256 or ES256 key (RSA, or EC on P-256)"
        )
    return keys


def mint_token(
    client_id: str,
    scopes: Iterable[str] = SCOPES,
    *,
    mode: AuthMode | str = AuthMode.LENIENT,
    secret: str | None = None,
    expires_at_ms: int | None = None,
    issued_at_ms: int | None = None,
    private_key_pem: str | None = None,
    kid: str | None = None,
) -> str:
    """A JWT for `client_id` with `scopes`, acceptable to a mock in `mode` (A4).

    Claims: `client_id` and `sub` (both the client), `scope` (space-separated), `iat`
    (`issued_at_ms`, default the wall clock) and `exp` when `expires_at_ms` is given; times
    are whole seconds, rounded down. `lenient` (and `off`) tokens are unsigned (`alg: none`):
    lenient mode checks no signature, and an unsigned token cannot pass for a verified
    one anywhere else. `hs256` signs with `secret`; `jwks` signs with `private_key_pem`
    (RSA: RS256, EC P-256: ES256) and names `kid` in the header. An argument another
    mode needs is ignored. Raises ValueError on a missing secret or key, or a bad scope.
    """
    mode = AuthMode(mode)
    if not isinstance(client_id, str) or not client_id:
        raise ValueError("client_id must be a non-empty string")
    granted: list[str] = []
    for scope in scopes:
        if not isinstance(scope, str) or not scope or scope.split() != [scope]:
            raise ValueError(f"scope {scope!r} must be a non-empty string without spaces")
        if scope not in granted:
            granted.append(scope)
    issued = issued_at_ms if issued_at_ms is not None else time.time_ns() // 1_000_000
    claims: dict[str, Any] = {
        "client_id": client_id,
        "sub": client_id,
        "scope": " ".join(granted),
        "iat": issued // 1000,
    }
    if expires_at_ms is not None:
        claims["exp"] = expires_at_ms // 1000
    headers = {"kid": kid} if kid is not None else None
    if mode in (AuthMode.LENIENT, AuthMode.OFF):
        return _JWT.encode(claims, None, algorithm="none", headers=headers)
    if mode is AuthMode.HS256:
        if not secret:
            raise ValueError("an hs256 token needs the mock's shared secret")
        return _JWT.encode(claims, secret, algorithm="HS256", headers=headers)
    if not private_key_pem:
        raise ValueError("a jwks token needs a private key (PEM) matching a key of the JWKS")
    try:
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"cannot load the private key: {exc}") from None
    if isinstance(key, rsa.RSAPrivateKey):
        alg = "RS256"
    elif isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        alg = "ES256"
    else:
        raise ValueError("a jwks token needs an RSA key (RS256) or an EC P-256 key (ES256)")
    return _JWT.encode(claims, key, algorithm=alg, headers=headers)
