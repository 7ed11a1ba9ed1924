"""Group A: Bearer tokens, scopes and tenancy (A1, A2, A3, A5).

A target whose M1 reports `auth: off` has no authentication to check: those checks skip.
Tokens with unusual claims (expired, `sub` only, `scp` array) are minted unsigned and so
only reach a target whose M1 reports lenient auth; others skip them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import jwt

from contract_tests.context import Context, Exchange
from contract_tests.registry import Skip, Tag, check

__all__ = ["auth_params", "EXPIRED_EXP", "mint_claims"]

EXPIRED_EXP = 946_684_800  # 2000-01-01T00:00:00Z: expired by any clock a target runs (K4)
_PARAM = re.compile(r'([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def auth_params(header: str) -> tuple[str, dict[str, str]]:
    """A `WWW-Authenticate` challenge split into its scheme and auth-params (RFC 9110)."""
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    for m in _PARAM.finditer(rest):
        params[m.group(1).lower()] = m.group(2) if m.group(2) is not None else m.group(3)
    return scheme, params


def _needs_auth(ctx: Context) -> None:
    if ctx.target.auth == "off":
        raise Skip("the target runs without authentication (M1 auth: off)")


def mint_claims(ctx: Context, claims: dict[str, Any]) -> str:
    """An unsigned token with exactly `claims`; skips unless the target takes such tokens."""
    _needs_auth(ctx)
    if ctx.target.auth != "lenient":
        raise Skip(
            "needs a token with chosen claims: only a target with lenient auth (M1) takes one"
        )
    return jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]  # unsigned


def _operations(ctx: Context, downlink_id: str, network_id: str) -> Iterator[tuple[str, str, Any]]:
    """Each operation of the API aimed at this run's data: (method, path, JSON body or ...,
    which sends none). The create is for `network_id`, so a test can see it stored nothing."""
    body: dict[str, Any] = {"instruction": [{"bn": network_id}, {"n": "x", "v": 1}]}
    body["method"] = {"protocol": "SMS"}
    yield "GET", "/downlinks", ...
    yield "POST", "/downlinks", body
    yield "GET", f"/downlinks/{downlink_id}", ...
    yield "DELETE", f"/downlinks/{downlink_id}", ...


def _expect_401(ctx: Context, exchange: Exchange) -> None:
    ctx.expect_problem(exchange, 401)
    header = exchange.response.headers.get("www-authenticate", "")
    if auth_params(header)[0].lower() != "bearer":
        ctx.fail(
            "a 401 lacks a Bearer challenge (RFC 6750)",
            exchange,
            expected="WWW-Authenticate: Bearer ...",
            actual=f"WWW-Authenticate: {header or '(none)'}",
        )


def _not_cancelled(ctx: Context, created: dict[str, Any], why: str) -> None:
    """A refused cancel left the downlink uncancelled (it may have progressed meanwhile)."""
    got = ctx.request("GET", f"/downlinks/{created['id']}")
    ctx.expect_status(got, 200)
    status = got.json().get("status")
    if status == "CANCELLED":
        ctx.fail(
            f"a refused cancel ({why}) cancelled the downlink anyway",
            got,
            expected=f"status {created.get('status')} or a later one, not CANCELLED",
            actual=f"status {status}",
        )


def _none_listed(ctx: Context, network_id: str, why: str) -> None:
    listed = ctx.request("GET", "/downlinks", params={"q": network_id})
    ctx.expect_status(listed, 200)
    items = listed.json().get("items", [])
    if items:
        ctx.fail(
            f"a refused create ({why}) stored a downlink anyway",
            listed,
            expected="no downlink of this device",
            actual=f"{len(items)} listed",
        )


# -- A1 ------------------------------------------------------------------------------------


@check("A1", "every operation without a token is 401 with a Bearer challenge", tag=Tag.SPEC)
def missing_token_is_401(ctx: Context) -> None:
    _needs_auth(ctx)
    created, network_id = ctx.create(), ctx.network_id()
    for method, path, body in _operations(ctx, created["id"], network_id):
        _expect_401(ctx, ctx.request(method, path, token=None, json=body))
    _not_cancelled(ctx, created, "no token")
    _none_listed(ctx, network_id, "no token")


@check("A1", "an unparsable token or another scheme is 401", tag=Tag.SPEC)
def unparsable_token_is_401(ctx: Context) -> None:
    _needs_auth(ctx)
    created, network_id = ctx.create(), ctx.network_id()
    for header in ("Bearer not-a-token", "Bearer a.b.c", "Basic Y29udHJhY3Q6dGVzdA=="):
        for method, path, body in _operations(ctx, created["id"], network_id):
            exchange = ctx.request(
                method, path, token=None, json=body, headers={"Authorization": header}
            )
            _expect_401(ctx, exchange)
    _not_cancelled(ctx, created, "unparsable token")
    _none_listed(ctx, network_id, "unparsable token")


# -- A2 ------------------------------------------------------------------------------------


def _expect_403(ctx: Context, exchange: Exchange, scope: str) -> None:
    ctx.expect_problem(exchange, 403)
    header = exchange.response.headers.get("www-authenticate", "")
    scheme, params = auth_params(header)
    if (
        scheme.lower() != "bearer"
        or params.get("error") != "insufficient_scope"
        or scope not in params.get("scope", "").split()
    ):
        ctx.fail(
            f"a 403 does not name the missing scope {scope}",
            exchange,
            expected=f'WWW-Authenticate: Bearer error="insufficient_scope", scope="{scope}"',
            actual=f"WWW-Authenticate: {header or '(none)'}",
        )


def _read_only(ctx: Context) -> str:
    _needs_auth(ctx)
    if not ctx.target.read_only_token:
        raise Skip("needs a read-only token (--read-only-token, or a target with lenient auth)")
    return ctx.target.read_only_token


@check("A2", "a read-only token reads but cannot create: 403 insufficient_scope", tag=Tag.SPEC)
def create_needs_write_scope(ctx: Context) -> None:
    token = _read_only(ctx)
    created = ctx.create()
    for path in ("/downlinks", f"/downlinks/{created['id']}"):
        ctx.expect_status(ctx.request("GET", path, token=token), 200)
    network_id = ctx.network_id()
    body = {"instruction": [{"bn": network_id}, {"n": "x", "v": 1}], "method": {"protocol": "SMS"}}
    _expect_403(ctx, ctx.request("POST", "/downlinks", token=token, json=body), "downlink.write")
    _none_listed(ctx, network_id, "403")


@check("A2", "a read-only token cannot cancel: 403 insufficient_scope", tag=Tag.SPEC)
def cancel_needs_delete_scope(ctx: Context) -> None:
    token = _read_only(ctx)
    created = ctx.create()
    refused = ctx.request("DELETE", f"/downlinks/{created['id']}", token=token)
    _expect_403(ctx, refused, "downlink.delete")
    _not_cancelled(ctx, created, "403")


@check("A2", "a token without downlink.read cannot read: 403 insufficient_scope", tag=Tag.SPEC)
def read_needs_read_scope(ctx: Context) -> None:
    _needs_auth(ctx)
    client = f"contract-{ctx.run_id}-a"
    token = ctx.target.mint(client, ["downlink.write", "downlink.delete"])
    if token is None:
        raise Skip(
            "needs a token without downlink.read: the suite mints one only with lenient auth"
        )
    created = ctx.create()
    for path in ("/downlinks", f"/downlinks/{created['id']}"):
        _expect_403(ctx, ctx.request("GET", path, token=token), "downlink.read")


# -- A3 ------------------------------------------------------------------------------------


@check("A3", "an expired token (exp in 2000) is 401", tag=Tag.MOCK)
def expired_token_is_401(ctx: Context) -> None:
    client = f"contract-{ctx.run_id}-a"
    token = mint_claims(
        ctx,
        {
            "client_id": client,
            "scope": "downlink.read downlink.write downlink.delete",
            "exp": EXPIRED_EXP,
        },
    )
    created, network_id = ctx.create(), ctx.network_id()
    for method, path, body in _operations(ctx, created["id"], network_id):
        _expect_401(ctx, ctx.request(method, path, token=token, json=body))
    _not_cancelled(ctx, created, "expired token")
    _none_listed(ctx, network_id, "expired token")


@check("A3", "the client is client_id, else sub; scopes may be an scp array", tag=Tag.MOCK)
def client_from_sub_and_scp_array(ctx: Context) -> None:
    client = f"contract-{ctx.run_id}-sub-{uuid.uuid4().hex[:6]}"
    by_sub = mint_claims(ctx, {"sub": client, "scp": ["downlink.read", "downlink.write"]})
    stranger = f"contract-{ctx.run_id}-stranger"
    by_client_id = mint_claims(
        ctx, {"client_id": client, "sub": stranger, "scope": "downlink.read"}
    )
    created = ctx.create(token=by_sub)
    read = ctx.request("GET", f"/downlinks/{created['id']}", token=by_client_id)
    if read.status != 200:
        ctx.fail(
            "a token whose client_id equals another token's sub is not the same client",
            read,
            expected="200: the downlink created under sub is readable under client_id",
            actual=str(read.status),
        )
    other = mint_claims(ctx, {"client_id": stranger, "sub": client, "scope": "downlink.read"})
    hidden = ctx.request("GET", f"/downlinks/{created['id']}", token=other)
    if hidden.status != 404:
        ctx.fail(
            "sub was used although client_id names another client",
            hidden,
            expected="404: client_id wins over sub",
            actual=str(hidden.status),
        )


# -- A5 ------------------------------------------------------------------------------------


def _other(ctx: Context) -> str:
    _needs_auth(ctx)
    if not ctx.target.other_tenant_token:
        raise Skip("needs another client's token (--other-tenant-token, or lenient auth)")
    return ctx.target.other_tenant_token


def _same_not_found(ctx: Context, hidden: Exchange, missing: Exchange) -> None:
    """Another client's downlink answers exactly as a never-existing one: no leak."""
    problem = ctx.expect_problem(hidden, 404)
    reference = ctx.expect_problem(missing, 404)
    for member in ("type", "title"):
        if problem.get(member) != reference.get(member):
            ctx.fail(
                "another client's downlink answers unlike a missing one: its existence leaks",
                hidden,
                expected=f"`{member}` {reference.get(member)!r} as for an unknown id",
                actual=f"`{member}` {problem.get(member)!r}",
            )


@check("A5", "another client's downlink reads as 404, exactly like an unknown id", tag=Tag.SPEC)
def other_tenant_read_is_404(ctx: Context) -> None:
    token = _other(ctx)
    created = ctx.create()
    hidden = ctx.request("GET", f"/downlinks/{created['id']}", token=token)
    missing = ctx.request("GET", f"/downlinks/{uuid.uuid4()}", token=token)
    _same_not_found(ctx, hidden, missing)


@check("A5", "another client's downlink cancels as 404 and stays as it was", tag=Tag.SPEC)
def other_tenant_cancel_is_404(ctx: Context) -> None:
    token = _other(ctx)
    created = ctx.create()
    for forced in ("false", "true"):
        hidden = ctx.request(
            "DELETE", f"/downlinks/{created['id']}", token=token, params={"forced": forced}
        )
        missing = ctx.request(
            "DELETE", f"/downlinks/{uuid.uuid4()}", token=token, params={"forced": forced}
        )
        _same_not_found(ctx, hidden, missing)
    _not_cancelled(ctx, created, "another client's cancel")


@check("A5", "another client's downlinks are absent from its lists", tag=Tag.SPEC)
def other_tenant_list_excludes(ctx: Context) -> None:
    token = _other(ctx)
    network_id = ctx.network_id()
    mine = ctx.create(network_id)
    theirs = ctx.create(network_id, token=token)
    pairs: tuple[tuple[str, Any, dict[str, Any], dict[str, Any]], ...] = (
        ("A", ..., mine, theirs),  # ...: the target's own token
        ("B", token, theirs, mine),
    )
    for who, tok, own, foreign in pairs:
        listed = ctx.request("GET", "/downlinks", params={"q": network_id}, token=tok)
        ctx.expect_status(listed, 200)
        ids = [item.get("id") for item in listed.json().get("items", [])]
        if foreign["id"] in ids:
            ctx.fail(
                f"client {who}'s list shows the other client's downlink",
                listed,
                expected=f"only {own['id']}",
                actual=", ".join(str(i) for i in ids),
            )
        if own["id"] not in ids:
            ctx.fail(
                f"client {who}'s list misses its own downlink",
                listed,
                expected=f"{own['id']} listed",
                actual=", ".join(str(i) for i in ids) or "(empty)",
            )
