"""Bearer-token authentication (A1-A4) and token minting."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from mock_server.config import AuthMode
from mock_server.http.auth import (
    SCOPES,
    Authenticator,
    ConfigError,
    Principal,
    mint_token,
)
from mock_server.http.problems import Forbidden, Unauthorized

Y2000_MS = 946_684_800_000  # 2000-01-01T00:00:00.000Z
HOUR_MS = 3_600_000
SECRET = "a-shared-secret-of-at-least-32-bytes!"
READ = "downlink.read"


class ManualClock:
    """The mock's clock as the authenticator sees it: epoch ms, moved by the test."""

    def __init__(self, now: int = Y2000_MS) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(header: Any, payload: Any, signature: bytes = b"") -> str:
    """A token assembled by hand, so that any part can be malformed on purpose."""

    def part(value: Any) -> str:
        return b64(value if isinstance(value, bytes) else json.dumps(value).encode())

    return f"{part(header)}.{part(payload)}.{b64(signature)}"


def unsigned(claims: dict[str, Any], **header: Any) -> str:
    return raw_token({"alg": "none", "typ": "JWT", **header}, claims)


def hs256(claims: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def bearer(token: str) -> str:
    return f"Bearer {token}"


def authenticator(mode: AuthMode = AuthMode.LENIENT, clock: ManualClock | None = None, **kw: Any):
    return Authenticator(mode, now_ms=clock or ManualClock(), **kw)


def unauthorized(auth: Authenticator, header: str | None, scope: str = READ) -> Unauthorized:
    with pytest.raises(Unauthorized) as info:
        auth.authenticate(header, scope)
    assert info.value.status == 401
    assert info.value.headers["WWW-Authenticate"].startswith('Bearer realm="downlinks"')
    return info.value


def invalid_token(auth: Authenticator, header: str, scope: str = READ) -> Unauthorized:
    err = unauthorized(auth, header, scope)
    challenge = err.headers["WWW-Authenticate"]
    assert 'error="invalid_token"' in challenge
    assert "error_description=" in challenge
    return err


ALL = {"client_id": "acme", "scope": " ".join(SCOPES)}


# --- A1: the Authorization header -------------------------------------------------------


@pytest.mark.parametrize("mode", [AuthMode.LENIENT, AuthMode.HS256])
def test_a1_missing_header_is_401_without_error_code(mode: AuthMode) -> None:
    auth = authenticator(mode, secret=SECRET)
    err = unauthorized(auth, None)
    assert err.headers["WWW-Authenticate"] == 'Bearer realm="downlinks"'
    assert "Authorization" in err.detail


@pytest.mark.parametrize("header", ["Basic xyz", "Token abc.def.ghi", "abc.def.ghi"])
def test_a1_other_scheme_is_401_without_error_code(header: str) -> None:
    err = unauthorized(authenticator(), header)
    assert err.headers["WWW-Authenticate"] == 'Bearer realm="downlinks"'
    assert "Bearer" in err.detail


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer    "])
def test_a1_bearer_without_token_is_invalid_token(header: str) -> None:
    err = invalid_token(authenticator(), header)
    assert "empty" in err.detail


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_a1_scheme_is_case_insensitive(scheme: str) -> None:
    principal = authenticator().authenticate(f"{scheme} {unsigned(ALL)}", READ)
    assert principal.client_id == "acme"


GARBLED = {
    "two parts": "a.b",
    "four parts": "a.b.c.d",
    "one part": "abcdef",
    "not base64url": "!!!.???.***",
    "header not JSON": raw_token(b"not json", ALL),
    "payload not JSON": raw_token({"alg": "none"}, b"not json"),
    "payload a JSON array": raw_token({"alg": "none"}, ["client_id", "acme"]),
    "payload a JSON string": raw_token({"alg": "none"}, "acme"),
    "header a JSON array": raw_token(["alg", "none"], ALL),
    "header without alg": raw_token({"typ": "JWT"}, ALL),
    "kid not a string": raw_token({"alg": "none", "kid": 7}, ALL),
    "space inside": "abc def.ghi.jkl",
}


@pytest.mark.parametrize("token", list(GARBLED.values()), ids=list(GARBLED))
def test_a1_unparsable_token_is_invalid_token(token: str) -> None:
    err = invalid_token(authenticator(), bearer(token))
    assert "JWT" in err.detail


@pytest.mark.parametrize(("token", "parts"), [("a.b", 2), ("a.b.c.d", 4), ("abc", 1)])
def test_a1_wrong_number_of_parts_is_named(token: str, parts: int) -> None:
    err = invalid_token(authenticator(), bearer(token))
    assert f"expected 3 dot-separated parts, got {parts}" in err.detail


def test_a1_error_description_is_a_valid_quoted_string() -> None:
    # A detail with quotes or backslashes must not break the challenge's quoting (RFC 6750 3).
    token = raw_token({"alg": 'x"y\\z\u00e9'}, ALL)
    err = invalid_token(authenticator(AuthMode.HS256, secret=SECRET), bearer(token))
    assert '"' in err.detail  # the problem detail itself keeps the text
    challenge = err.headers["WWW-Authenticate"]
    description = challenge.split('error_description="', 1)[1]
    assert description.endswith('"')
    assert '"' not in description[:-1] and "\\" not in description
    assert all(" " <= c <= "~" for c in challenge)


# --- A2: scopes ---------------------------------------------------------------------------


@pytest.mark.parametrize("needed", SCOPES)
def test_a2_token_without_the_scope_is_403(needed: str) -> None:
    others = [s for s in SCOPES if s != needed]
    token = unsigned({"client_id": "acme", "scope": " ".join(others)})
    auth = authenticator()
    with pytest.raises(Forbidden) as info:
        auth.authenticate(bearer(token), needed)
    err = info.value
    assert err.status == 403
    assert err.headers["WWW-Authenticate"] == (
        f'Bearer realm="downlinks", error="insufficient_scope", scope="{needed}"'
    )
    assert needed in err.detail
    for other in others:  # still usable for what it grants
        assert auth.authenticate(bearer(token), other).client_id == "acme"


def test_a2_token_with_no_scope_claim_is_403() -> None:
    with pytest.raises(Forbidden):
        authenticator().authenticate(bearer(unsigned({"client_id": "acme"})), READ)


# --- A3: client, scope forms, expiry ------------------------------------------------------


def test_a3_client_is_the_client_id_claim() -> None:
    token = unsigned({"client_id": "acme", "sub": "user-1", "scope": READ})
    assert authenticator().authenticate(bearer(token), READ) == Principal("acme", frozenset({READ}))


def test_a3_client_falls_back_to_sub() -> None:
    token = unsigned({"sub": "user-1", "scope": READ})
    assert authenticator().authenticate(bearer(token), READ).client_id == "user-1"


def test_a3_token_without_client_is_401() -> None:
    err = invalid_token(authenticator(), bearer(unsigned({"scope": READ})))
    assert "client_id" in err.detail and "sub" in err.detail


@pytest.mark.parametrize("claims", [{"client_id": 42}, {"client_id": ""}, {"sub": ["a"]}])
def test_a3_client_claim_of_the_wrong_type_is_401(claims: dict[str, Any]) -> None:
    invalid_token(authenticator(), bearer(unsigned({**claims, "scope": READ})))


SCOPE_FORMS = {
    "scope string": {"scope": "downlink.read downlink.write"},
    "scope string, extra spaces": {"scope": "  downlink.read   downlink.write "},
    "scp array": {"scp": ["downlink.read", "downlink.write"]},
    "scp string": {"scp": "downlink.read downlink.write"},
    "scope array": {"scope": ["downlink.read", "downlink.write"]},
    "both claims, merged": {"scope": "downlink.read", "scp": ["downlink.write"]},
}


@pytest.mark.parametrize("claims", list(SCOPE_FORMS.values()), ids=list(SCOPE_FORMS))
def test_a3_scope_claim_forms(claims: dict[str, Any]) -> None:
    principal = authenticator().authenticate(bearer(unsigned({"sub": "c", **claims})), READ)
    assert principal.scopes == {"downlink.read", "downlink.write"}


@pytest.mark.parametrize("value", [5, {"read": True}, ["downlink.read", 7]])
def test_a3_scope_claim_of_the_wrong_type_is_401(value: Any) -> None:
    err = invalid_token(authenticator(), bearer(unsigned({"sub": "c", "scope": value})))
    assert "scope" in err.detail


def test_a3_expired_token_is_401_naming_the_expiry() -> None:
    clock = ManualClock(Y2000_MS + HOUR_MS)
    token = unsigned({**ALL, "exp": Y2000_MS // 1000})
    err = invalid_token(authenticator(clock=clock), bearer(token))
    assert "token expired at 2000-01-01T00:00:00.000Z" in err.detail
    assert "2000-01-01T01:00:00.000Z" in err.detail  # the mock's now, for diagnosis


def test_a3_expiry_is_judged_by_the_mock_clock_not_the_wall_clock() -> None:
    # Expired long ago by the wall clock, still valid by a mock clock set in 1999.
    clock = ManualClock(Y2000_MS - HOUR_MS)
    token = unsigned({**ALL, "exp": Y2000_MS // 1000})
    assert authenticator(clock=clock).authenticate(bearer(token), READ).client_id == "acme"


def test_a3_token_expires_at_exactly_exp() -> None:
    # RFC 7519 4.1.4: valid only *before* exp.
    clock = ManualClock(Y2000_MS - 1)
    auth = authenticator(clock=clock)
    header = bearer(unsigned({**ALL, "exp": Y2000_MS // 1000}))
    assert auth.authenticate(header, READ).client_id == "acme"
    clock.now = Y2000_MS
    invalid_token(auth, header)


def test_a3_fractional_exp_is_honoured_to_the_millisecond() -> None:
    clock = ManualClock(Y2000_MS + 499)
    auth = authenticator(clock=clock)
    header = bearer(unsigned({**ALL, "exp": Y2000_MS / 1000 + 0.5}))
    assert auth.authenticate(header, READ).client_id == "acme"
    clock.now = Y2000_MS + 500
    err = invalid_token(auth, header)
    assert "2000-01-01T00:00:00.500Z" in err.detail


def test_a3_cache_does_not_bypass_expiry() -> None:
    clock = ManualClock(Y2000_MS - HOUR_MS)
    auth = authenticator(clock=clock)
    header = bearer(unsigned({**ALL, "exp": Y2000_MS // 1000}))
    for _ in range(3):  # first verified, then served from the cache
        assert auth.authenticate(header, READ).client_id == "acme"
    clock.now = Y2000_MS + 1
    invalid_token(auth, header)


def test_a3_not_yet_valid_token_is_401_until_nbf() -> None:
    clock = ManualClock(Y2000_MS - 1)
    auth = authenticator(clock=clock)
    header = bearer(unsigned({**ALL, "nbf": Y2000_MS // 1000}))
    err = invalid_token(auth, header)
    assert "not valid before 2000-01-01T00:00:00.000Z" in err.detail
    clock.now = Y2000_MS  # nbf itself is valid (RFC 7519 4.1.5)
    assert auth.authenticate(header, READ).client_id == "acme"


@pytest.mark.parametrize("claim", ["exp", "nbf"])
@pytest.mark.parametrize("value", ["tomorrow", True, None, [1]])
def test_a3_time_claim_that_is_not_a_number_is_401(claim: str, value: Any) -> None:
    token = unsigned({**ALL, claim: value})
    if value is None:  # JSON null is an absent claim
        assert authenticator().authenticate(bearer(token), READ).client_id == "acme"
    else:
        err = invalid_token(authenticator(), bearer(token))
        assert claim in err.detail


def test_a3_iat_is_not_judged() -> None:
    # iat in the far future by any clock: the mock does not reject it.
    token = unsigned({**ALL, "iat": 4_102_444_800})
    assert authenticator().authenticate(bearer(token), READ).client_id == "acme"


def test_a3_far_past_expiry_still_has_a_clear_detail() -> None:
    token = unsigned({**ALL, "exp": -(10**15)})
    err = invalid_token(authenticator(), bearer(token))
    assert "expired at" in err.detail


# --- A4: verification modes ---------------------------------------------------------------


def test_a4_lenient_accepts_unsigned_tokens() -> None:
    principal = authenticator().authenticate(bearer(unsigned(ALL)), "downlink.delete")
    assert principal == Principal("acme", frozenset(SCOPES))


def test_a4_lenient_does_not_check_signatures() -> None:
    token = hs256(ALL, secret="some secret the mock never heard of, 32+ bytes")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "EEEE")
    auth = authenticator()
    assert auth.authenticate(bearer(token), READ).client_id == "acme"
    assert auth.authenticate(bearer(tampered), READ).client_id == "acme"


def test_a4_lenient_still_requires_a_well_formed_jwt() -> None:
    invalid_token(authenticator(), bearer("not-a-jwt"))


def test_a4_hs256_accepts_a_token_signed_with_the_secret() -> None:
    auth = authenticator(AuthMode.HS256, secret=SECRET)
    assert auth.authenticate(bearer(hs256(ALL)), READ).client_id == "acme"


def test_a4_hs256_rejects_a_wrong_secret() -> None:
    auth = authenticator(AuthMode.HS256, secret=SECRET)
    token = hs256(ALL, secret="another secret that is also long enough")
    err = invalid_token(auth, bearer(token))
    assert "signature" in err.detail


def test_a4_hs256_rejects_alg_none() -> None:
    auth = authenticator(AuthMode.HS256, secret=SECRET)
    err = invalid_token(auth, bearer(unsigned(ALL)))
    assert "'none'" in err.detail and "lenient" in err.detail


def test_a4_hs256_rejects_a_tampered_payload() -> None:
    auth = authenticator(AuthMode.HS256, secret=SECRET)
    header, _, signature = hs256({**ALL, "scope": READ}).split(".")
    forged = f"{header}.{b64(json.dumps(ALL).encode())}.{signature}"
    invalid_token(auth, bearer(forged))


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_a4_hs256_rejects_other_algorithms(alg: str) -> None:
    auth = authenticator(AuthMode.HS256, secret=SECRET)
    err = invalid_token(auth, bearer(jwt.encode(ALL, SECRET + SECRET, algorithm=alg)))
    assert alg in err.detail


def test_a4_hs256_requires_a_secret() -> None:
    for secret in (None, ""):
        with pytest.raises(ConfigError, match="secret"):
            authenticator(AuthMode.HS256, secret=secret)


def test_a4_off_mode_needs_no_header_and_ignores_any() -> None:
    auth = authenticator(AuthMode.OFF)
    everyone = Principal("default", frozenset(SCOPES))
    for header in (None, "Basic xyz", "Bearer garbage", bearer(unsigned({"sub": "acme"}))):
        for scope in SCOPES:
            assert auth.authenticate(header, scope) == everyone


def test_a4_mode_is_exposed_and_taken_from_a_string() -> None:
    assert authenticator("off").mode is AuthMode.OFF  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown auth mode"):
        authenticator("basic")  # type: ignore[arg-type]


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


# --- A4: jwks -----------------------------------------------------------------------------


def _pem(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _jwk(key: Any, kid: str | None, **extra: Any) -> dict[str, Any]:
    algorithm = RSAAlgorithm if isinstance(key, rsa.RSAPublicKey) else ECAlgorithm
    jwk = algorithm.to_jwk(key, as_dict=True)
    if kid is not None:
        jwk["kid"] = kid
    return {**jwk, **extra}


def write_jwks(tmp_path: Path, *jwks: dict[str, Any]) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": list(jwks)}))
    return path


@pytest.fixture
def jwks_auth(tmp_path: Path, rsa_key: Any, ec_key: Any) -> Authenticator:
    path = write_jwks(
        tmp_path,
        _jwk(rsa_key.public_key(), "rsa-1", alg="RS256", use="sig"),
        _jwk(ec_key.public_key(), "ec-1"),
    )
    return authenticator(AuthMode.JWKS, jwks_path=path)


@pytest.mark.parametrize(("key_name", "kid"), [("rsa_key", "rsa-1"), ("ec_key", "ec-1")])
def test_a4_jwks_verifies_rs256_and_es256_by_kid(
    jwks_auth: Authenticator, request: pytest.FixtureRequest, key_name: str, kid: str
) -> None:
    pem = _pem(request.getfixturevalue(key_name))
    token = mint_token("acme", [READ], mode=AuthMode.JWKS, private_key_pem=pem, kid=kid)
    assert jwks_auth.authenticate(bearer(token), READ) == Principal("acme", frozenset({READ}))


def test_a4_jwks_rejects_a_token_signed_by_another_key(jwks_auth: Authenticator) -> None:
    stranger = _pem(ec.generate_private_key(ec.SECP256R1()))
    token = mint_token("acme", mode=AuthMode.JWKS, private_key_pem=stranger, kid="ec-1")
    err = invalid_token(jwks_auth, bearer(token))
    assert "signature" in err.detail


def test_a4_jwks_rejects_an_unknown_kid(jwks_auth: Authenticator, ec_key: Any) -> None:
    token = mint_token("acme", mode=AuthMode.JWKS, private_key_pem=_pem(ec_key), kid="nope")
    err = invalid_token(jwks_auth, bearer(token))
    assert "'nope'" in err.detail and "'ec-1'" in err.detail


def test_a4_jwks_without_kid_needs_a_single_key(jwks_auth: Authenticator, ec_key: Any) -> None:
    token = mint_token("acme", mode=AuthMode.JWKS, private_key_pem=_pem(ec_key))
    err = invalid_token(jwks_auth, bearer(token))
    assert "no kid" in err.detail


def test_a4_jwks_without_kid_uses_the_only_key(tmp_path: Path, rsa_key: Any) -> None:
    auth = authenticator(
        AuthMode.JWKS, jwks_path=write_jwks(tmp_path, _jwk(rsa_key.public_key(), None))
    )
    token = mint_token("acme", mode=AuthMode.JWKS, private_key_pem=_pem(rsa_key))
    assert auth.authenticate(bearer(token), READ).client_id == "acme"


def test_a4_jwks_rejects_a_key_of_the_wrong_algorithm(
    jwks_auth: Authenticator, ec_key: Any
) -> None:
    # An ES256 token naming the RSA key's kid.
    token = mint_token("acme", mode=AuthMode.JWKS, private_key_pem=_pem(ec_key), kid="rsa-1")
    invalid_token(jwks_auth, bearer(token))


def test_a4_jwks_rejects_alg_none(jwks_auth: Authenticator) -> None:
    err = invalid_token(jwks_auth, bearer(unsigned(ALL, kid="rsa-1")))
    assert "'none'" in err.detail


def test_a4_jwks_rejects_hs256_signed_with_the_public_key(
    jwks_auth: Authenticator, rsa_key: Any
) -> None:
    # Algorithm confusion: the public key used as an HMAC secret must not verify.
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "kid": "rsa-1"}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(ALL).encode())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    err = invalid_token(jwks_auth, bearer(f"{signing_input}.{b64(mac)}"))
    assert "HS256" in err.detail


@pytest.mark.parametrize(
    ("key_name", "algorithm"), [("rsa_key", RSAAlgorithm), ("ec_key", ECAlgorithm)]
)
def test_a4_jwks_accepts_a_private_jwk_by_its_public_half(
    tmp_path: Path, request: pytest.FixtureRequest, key_name: str, algorithm: Any
) -> None:
    key = request.getfixturevalue(key_name)
    private_jwk = algorithm.to_jwk(key, as_dict=True)
    assert "d" in private_jwk
    auth = authenticator(AuthMode.JWKS, jwks_path=write_jwks(tmp_path, private_jwk))
    token = mint_token("acme", mode=AuthMode.JWKS, private_key_pem=_pem(key))
    assert auth.authenticate(bearer(token), READ).client_id == "acme"


def test_a4_jwks_config_errors(tmp_path: Path, rsa_key: Any) -> None:
    with pytest.raises(ConfigError, match="JWKS file"):
        authenticator(AuthMode.JWKS)
    with pytest.raises(ConfigError, match="cannot read"):
        authenticator(AuthMode.JWKS, jwks_path=tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    for text, match in [
        ("{not json", "not JSON"),
        ("[]", "no usable key set"),
        ('{"keys": []}', "no usable key set"),
        ('{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}', "no RS256 or ES256 key"),
    ]:
        bad.write_text(text)
        with pytest.raises(ConfigError, match=match):
            authenticator(AuthMode.JWKS, jwks_path=bad)
    dup = write_jwks(tmp_path, _jwk(rsa_key.public_key(), "k"), _jwk(rsa_key.public_key(), "k"))
    with pytest.raises(ConfigError, match="two keys"):
        authenticator(AuthMode.JWKS, jwks_path=dup)


# --- the verified-token cache -------------------------------------------------------------


def test_cache_is_bounded() -> None:
    auth = authenticator(cache_size=3)
    headers = [bearer(unsigned({**ALL, "jti": str(i)})) for i in range(10)]
    for header in headers:
        assert auth.authenticate(header, READ).client_id == "acme"
    assert len(auth._cache) == 3
    assert list(auth._cache) == headers[-3:]  # the oldest were dropped
    assert auth.authenticate(headers[0], READ).client_id == "acme"  # re-verified


def test_a4_cache_never_admits_a_rejected_token() -> None:
    auth = authenticator(AuthMode.HS256, secret=SECRET)
    forged = bearer(hs256(ALL, secret="another secret that is also long enough"))
    for _ in range(2):
        invalid_token(auth, forged)


# --- mint_token -----------------------------------------------------------------------------


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def test_mint_token_claims() -> None:
    token = mint_token(
        "acme",
        [READ, "downlink.write", READ],
        issued_at_ms=Y2000_MS + 999,
        expires_at_ms=Y2000_MS + HOUR_MS + 999,
    )
    assert jwt.get_unverified_header(token)["alg"] == "none"
    assert _claims(token) == {
        "client_id": "acme",
        "sub": "acme",
        "scope": "downlink.read downlink.write",
        "iat": Y2000_MS // 1000,
        "exp": (Y2000_MS + HOUR_MS) // 1000,
    }


def test_mint_token_defaults_to_every_scope_and_no_expiry() -> None:
    claims = _claims(mint_token("acme"))
    assert claims["scope"].split() == list(SCOPES)
    assert "exp" not in claims
    assert isinstance(claims["iat"], int)


def test_mint_token_empty_scopes() -> None:
    token = mint_token("acme", [])
    with pytest.raises(Forbidden):
        authenticator().authenticate(bearer(token), READ)


@pytest.mark.parametrize("mode", [AuthMode.LENIENT, AuthMode.HS256, AuthMode.OFF])
def test_a4_minted_token_passes_its_mode(mode: AuthMode) -> None:
    token = mint_token("acme", mode=mode, secret=SECRET, kid="k1")
    assert jwt.get_unverified_header(token)["kid"] == "k1"
    auth = authenticator(mode, secret=SECRET)
    assert auth.authenticate(bearer(token), "downlink.delete").client_id in ("acme", "default")


def test_a4_hs256_token_is_refused_with_a_wrong_secret_and_accepted_in_lenient() -> None:
    token = mint_token("acme", mode=AuthMode.HS256, secret=SECRET)
    invalid_token(authenticator(AuthMode.HS256, secret=SECRET[::-1]), bearer(token))
    assert authenticator().authenticate(bearer(token), READ).client_id == "acme"


def test_mint_token_bad_input() -> None:
    with pytest.raises(ValueError, match="secret"):
        mint_token("acme", mode=AuthMode.HS256)
    with pytest.raises(ValueError, match="private key"):
        mint_token("acme", mode=AuthMode.JWKS)
    with pytest.raises(ValueError, match="cannot load"):
        mint_token("acme", mode=AuthMode.JWKS, private_key_pem="not a pem")
    with pytest.raises(ValueError, match="RSA key"):
        mint_token(
            "acme", mode=AuthMode.JWKS, private_key_pem=_pem(ed25519.Ed25519PrivateKey.generate())
        )
    with pytest.raises(ValueError, match="client_id"):
        mint_token("")
    for scope in ("", "downlink.read downlink.write", " downlink.read"):
        with pytest.raises(ValueError, match="scope"):
            mint_token("acme", [scope])


# --- never anything but 401/403 -----------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
_CLAIM_NAMES = st.sampled_from(["client_id", "sub", "scope", "scp", "exp", "nbf", "iat"])


@settings(max_examples=100, deadline=None)
@given(
    header=st.dictionaries(st.sampled_from(["alg", "kid", "typ", "crit", "b64"]), _JSON),
    claims=st.dictionaries(_CLAIM_NAMES | st.text(max_size=5), _JSON),
    mode=st.sampled_from([AuthMode.LENIENT, AuthMode.HS256]),
)
def test_a1_any_token_gives_a_principal_or_a_problem(
    header: dict[str, Any], claims: dict[str, Any], mode: AuthMode
) -> None:
    auth = authenticator(mode, secret=SECRET)
    try:
        principal = auth.authenticate(bearer(raw_token(header, claims)), READ)
    except (Unauthorized, Forbidden) as exc:
        assert exc.headers["WWW-Authenticate"].startswith('Bearer realm="downlinks"')
    else:
        assert mode is AuthMode.LENIENT and READ in principal.scopes


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_a1_any_header_value_gives_a_principal_or_a_problem(value: str) -> None:
    try:
        authenticator().authenticate(value, READ)
    except (Unauthorized, Forbidden) as exc:
        assert exc.status in (401, 403)


# --- identify: who is asking, whatever the scopes -----------------------------------------


def test_a3_identify_names_the_client_without_judging_scopes() -> None:
    auth = authenticator()
    token = bearer(unsigned({"sub": "acme"}))  # no scope at all
    assert auth.identify(token) == Principal("acme", frozenset())
    with pytest.raises(Forbidden):
        auth.authenticate(token, READ)


def test_a3_identify_still_refuses_unusable_tokens() -> None:
    clock = ManualClock(Y2000_MS)
    auth = authenticator(clock=clock)
    expired = bearer(unsigned({**ALL, "exp": Y2000_MS // 1000}))
    for header in (None, "Basic xyz", "Bearer a.b", expired):
        with pytest.raises(Unauthorized):
            auth.identify(header)


def test_a4_identify_in_off_mode_is_the_default_client() -> None:
    assert authenticator(AuthMode.OFF).identify("Bearer garbage").client_id == "default"
