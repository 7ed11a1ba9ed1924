"""Target discovery: M1 decides the mode (K2) and whether the suite may mint tokens (A4)."""

from __future__ import annotations

import jwt
import pytest

from contract_tests.discovery import check_base_url, discover, probe_health
from contract_tests.registry import ContractError, Mode
from tests.contract_tests.fakes import fake_app, serving, unused_url

M1 = {"status": "ok", "version": "1", "auth": "lenient"}


def _claims(token: str | None) -> dict:
    assert token is not None
    return jwt.decode(token, options={"verify_signature": False})


def test_m1_auto_is_full_mode_and_mints_three_tokens() -> None:
    with serving(fake_app(M1)) as url:
        target = discover(url + "/", run_id="r1", timeout=5)
    assert (target.base_url, target.mode, target.auth) == (url, Mode.FULL, "lenient")
    assert _claims(target.token)["client_id"] == "contract-r1-a"
    assert _claims(target.other_tenant_token)["client_id"] == "contract-r1-b"
    read_only = _claims(target.read_only_token)
    assert (read_only["client_id"], read_only["scope"]) == ("contract-r1-a", "downlink.read")
    assert target.secrets == {}


def test_k2_without_m1_auto_is_black_box_and_needs_a_token() -> None:
    with serving(fake_app(None)) as url:
        with pytest.raises(ContractError, match="--token is required"):
            discover(url, run_id="r1")
        target = discover(url, token="secret", run_id="r1")
        assert (target.mode, target.auth, target.other_tenant_token) == (Mode.BLACK_BOX, None, None)
        assert target.secrets == {"DOWNLINKS_TOKEN": "secret"}
        with pytest.raises(ContractError, match="--mode full needs the test hooks"):
            discover(url, mode="full", token="secret", run_id="r1")


def test_a_wrong_m1_shape_is_no_m1() -> None:
    for body in ({"status": "ok"}, {**M1, "auth": "magic"}, ["ok"]):
        with serving(fake_app(body)) as url:
            assert probe_health(url) is None


def test_black_box_forced_keeps_auth_and_off_auth_mints_no_tenants() -> None:
    with serving(fake_app({**M1, "auth": "off"})) as url:
        target = discover(url, mode="black-box", run_id="r2")
    assert (target.mode, target.auth) == (Mode.BLACK_BOX, "off")
    assert target.token and target.other_tenant_token is None and target.read_only_token is None


def test_given_tokens_win_and_are_secrets() -> None:
    with serving(fake_app(M1)) as url:
        target = discover(url, token="t", other_tenant_token="o", run_id="r3")
    assert (target.token, target.other_tenant_token) == ("t", "o")
    assert target.secrets == {"DOWNLINKS_TOKEN": "t", "DOWNLINKS_OTHER_TENANT_TOKEN": "o"}


def test_unreachable_and_malformed_urls_are_contract_errors() -> None:
    with pytest.raises(ContractError, match="cannot reach"):
        discover(unused_url(), run_id="r")
    for bad in ("ftp://x", "127.0.0.1:8080", "http://", "http://h/?q=1"):
        with pytest.raises(ContractError, match="--base-url"):
            check_base_url(bad)
