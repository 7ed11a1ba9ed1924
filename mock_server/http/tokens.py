"""Token material (A2, A4): the scopes the API knows, the keys of a JWKS file, and minting
tokens that a mock in a given auth mode accepts (for tests and `downlinks-mock token`)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mock_server.config import AuthMode

__all__ = ["SCOPES", "JWKS_ALGORITHMS", "ConfigError", "load_jwks", "mint_token"]

SCOPES = ("downlink.read", "downlink.write", "downlink.delete")
"""Every scope the API knows (A2): GET needs read, POST write, DELETE delete."""

JWKS_ALGORITHMS = ("RS256", "ES256")
"""The signature algorithms jwks mode verifies (A4)."""

_JWT = jwt.PyJWT()


class ConfigError(ValueError):
    """The authenticator cannot start: a missing secret, an unreadable JWKS file, ..."""


def load_jwks(path: Path | None) -> dict[str | None, jwt.PyJWK]:
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
        return _JWT.encode(claims, "", algorithm="none", headers=headers)  # "": no key
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
