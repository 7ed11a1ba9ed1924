"""`downlinks-mock token` (A4: the mock ships a command that mints tokens)."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from click.testing import CliRunner

from mock_server.cli.token import token_command
from mock_server.config import AuthMode
from mock_server.http.auth import SCOPES, Authenticator, Principal
from mock_server.http.problems import Unauthorized

SECRET = "a-shared-secret-of-at-least-32-bytes!"


def run(*args: str) -> Any:
    return CliRunner().invoke(token_command, list(args))


def mint(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1  # the token alone, so that $(...) captures just it
    return lines[0]


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def lenient() -> Authenticator:
    return Authenticator(AuthMode.LENIENT, now_ms=lambda: 0)


def test_a4_token_defaults_demo_client_all_scopes_no_expiry() -> None:
    token = mint()
    assert jwt.get_unverified_header(token)["alg"] == "none"
    got = claims(token)
    assert got["client_id"] == got["sub"] == "demo-client"
    assert got["scope"].split() == list(SCOPES)
    assert "exp" not in got
    assert lenient().authenticate(f"Bearer {token}", "downlink.delete") == Principal(
        "demo-client", frozenset(SCOPES)
    )


def test_a4_token_client_and_repeated_scopes() -> None:
    token = mint("--client", "acme", "--scope", "downlink.read", "--scope", "downlink.delete")
    got = claims(token)
    assert got["client_id"] == "acme"
    assert got["scope"] == "downlink.read downlink.delete"


def test_a4_token_unknown_scope_is_a_usage_error() -> None:
    result = run("--scope", "downlink.admin")
    assert result.exit_code == 2
    assert "downlink.admin" in result.output


def test_a4_token_hs256_is_signed_with_the_secret() -> None:
    token = mint("--mode", "hs256", "--secret", SECRET, "--client", "acme")
    auth = Authenticator(AuthMode.HS256, secret=SECRET, now_ms=lambda: 0)
    assert auth.authenticate(f"Bearer {token}", "downlink.write").client_id == "acme"
    other = Authenticator(AuthMode.HS256, secret=SECRET[::-1], now_ms=lambda: 0)
    with pytest.raises(Unauthorized):
        other.authenticate(f"Bearer {token}", "downlink.write")


def test_a4_token_hs256_without_secret_is_a_usage_error() -> None:
    result = run("--mode", "hs256")
    assert result.exit_code == 2
    assert "--secret" in result.output
    assert "Traceback" not in result.output


def test_a4_token_secret_without_hs256_is_a_usage_error() -> None:
    result = run("--secret", SECRET)
    assert result.exit_code == 2
    assert "--mode hs256" in result.output


def test_a4_token_jwks_mode_is_not_offered() -> None:
    result = run("--mode", "jwks")
    assert result.exit_code == 2


def test_a4_token_empty_client_is_a_usage_error() -> None:
    result = run("--client", "")
    assert result.exit_code == 2
    assert "--client" in result.output


@pytest.mark.parametrize("seconds", [3600, 0, -60])
def test_a3_token_expires_in(seconds: int) -> None:
    got = claims(mint("--expires-in", str(seconds)))
    assert got["exp"] - got["iat"] == seconds


def test_a3_token_expired_by_expires_in_is_refused() -> None:
    token = mint("--expires-in", "-60")
    exp_ms = claims(token)["exp"] * 1000
    auth = Authenticator(AuthMode.LENIENT, now_ms=lambda: exp_ms)
    with pytest.raises(Unauthorized, match="token expired at"):
        auth.authenticate(f"Bearer {token}", "downlink.read")


def test_token_help_describes_every_option() -> None:
    result = run("--help")
    assert result.exit_code == 0
    options = [p for p in token_command.params if p.name != "help"]
    assert {p.name for p in options} == {"client", "scopes", "mode", "secret", "expires_in"}
    for param in options:
        assert param.help, param.name  # type: ignore[attr-defined]
        assert param.opts[0] in result.output
