"""Mutants of authentication and tenancy (A1-A5) and of the error answers (E1-E3)."""

from __future__ import annotations

import heapq
from collections.abc import Generator
from typing import Any

import jwt

from mock_server.domain.model import Downlink
from mock_server.http.problems import Forbidden, NotFound
from mock_server.store.base import Page
from mock_server.store.query import ListQuery
from tests.gallery.mutant import authorised, mock_of, mutant, owners_of
from tests.gallery.rewrite import Answer, Call, Rewrite

__all__: list[str] = []


# -- A: tokens and tenancy -------------------------------------------------------------


@mutant("A1", description="a 401 without a WWW-Authenticate challenge")
def missing_www_authenticate(app: Any) -> Any:
    def after(call: Call, answer: Answer) -> None:
        if answer.status == 401:
            answer.set_header("www-authenticate", None)

    return Rewrite(app, after=after)


@mutant("A2", description="POST checks the downlink.read scope instead of downlink.write")
def create_needs_read_scope(app: Any) -> Any:
    auth = mock_of(app).auth
    authenticate = auth.authenticate

    def copied(authorization: str | None, required_scope: str) -> Any:
        if required_scope == "downlink.write":
            required_scope = "downlink.read"
        return authenticate(authorization, required_scope)

    auth.authenticate = copied
    return app


@mutant("A2", description="DELETE checks the downlink.write scope instead of downlink.delete")
def cancel_needs_write_scope(app: Any) -> Any:
    auth = mock_of(app).auth
    authenticate = auth.authenticate

    def copied(authorization: str | None, required_scope: str) -> Any:
        if required_scope == "downlink.delete":
            required_scope = "downlink.write"
        return authenticate(authorization, required_scope)

    auth.authenticate = copied
    return app


@mutant("A2", description="reading needs no scope: any valid token reads")
def read_scope_unchecked(app: Any) -> Any:
    auth = mock_of(app).auth
    authenticate = auth.authenticate

    def lenient(authorization: str | None, required_scope: str) -> Any:
        if required_scope == "downlink.read":
            return auth.identify(authorization)
        return authenticate(authorization, required_scope)

    auth.authenticate = lenient
    return app


@mutant("A3", description="exp is compared with the clock in seconds: no token ever expires")
def expired_token_accepted(app: Any) -> Any:
    mock = mock_of(app)
    mock.auth._now_ms = lambda: mock.clock.now() // 1000
    return app


@mutant("A3", description="the client is taken from sub even when client_id is there")
def client_from_sub_first(app: Any) -> Any:
    def before(call: Call) -> None:
        header = call.header("authorization") or ""
        token = header[7:] if header.startswith("Bearer ") else ""
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return
        if isinstance(claims, dict) and "sub" in claims and "client_id" in claims:
            claims["client_id"] = claims["sub"]
            call.set_header("authorization", "Bearer " + jwt.encode(claims, None, "none"))

    return Rewrite(app, before=before)


@mutant("A5", description="GET and DELETE find any client's downlink by id")
def tenancy_ignored_by_id(app: Any) -> Any:
    store = mock_of(app).store

    def get(owner: str, downlink_id: str) -> Downlink:
        dl = store.find(downlink_id)
        if dl is None:
            raise NotFound(f"no downlink with id {downlink_id!r}")
        return dl

    store.get = get
    return app


@mutant("A5", description="another client's downlink is 403, not 404: its existence leaks")
def other_tenant_forbidden(app: Any) -> Any:
    store = mock_of(app).store
    get = store.get

    def get_or_forbid(owner: str, downlink_id: str) -> Downlink:
        dl = store.find(downlink_id)
        if dl is not None and dl.owner != owner:
            raise Forbidden("this downlink belongs to another client")
        return get(owner, downlink_id)

    store.get = get_or_forbid
    return app


@mutant("A5", description="lists show every client's downlinks")
def lists_leak_other_tenants(app: Any) -> Any:
    store = mock_of(app).store
    steps = store.page_steps
    owners = owners_of(store)

    def every_tenant(owner: str, query: ListQuery) -> Generator[None, None, Page]:
        pages = []
        for tenant in sorted(owners | {owner}):
            pages.append((yield from steps(tenant, query)))
        items = heapq.nsmallest(query.limit, (dl for p in pages for dl in p.items), key=query.key())
        return Page(items, any(p.has_next for p in pages), any(p.has_prev for p in pages))

    store.page_steps = every_tenant
    return app


# -- E: error answers ------------------------------------------------------------------


@mutant("E1", description="a 400 is application/json, not application/problem+json")
def bad_request_not_problem(app: Any) -> Any:
    def after(call: Call, answer: Answer) -> None:
        if answer.status == 400:
            answer.set_header("content-type", "application/json")

    return Rewrite(app, after=after)


@mutant("E1", description="problems carry no `instance`")
def problem_without_instance(app: Any) -> Any:
    def after(call: Call, answer: Answer) -> None:
        problem = answer.json()
        if answer.media_type == "application/problem+json" and isinstance(problem, dict):
            problem.pop("instance", None)
            answer.set_json(problem)

    return Rewrite(app, after=after)


@mutant("E2", description="a 400 reports only the first violation")
def first_violation_only(app: Any) -> Any:
    def after(call: Call, answer: Answer) -> None:
        problem = answer.json()
        if answer.status == 400 and isinstance(problem, dict) and problem.get("errors"):
            problem["errors"] = problem["errors"][:1]
            answer.set_json(problem)

    return Rewrite(app, after=after)


@mutant("E3", description="malformed JSON is a 500", server_errors=True)
def malformed_json_500(app: Any) -> Any:
    def before(call: Call) -> Answer | None:
        if call.is_create() and call.body and call.json() is None:
            media = (call.header("content-type") or "").split(";")[0].strip()
            if media == "application/json" and authorised(
                app, call.header("authorization"), "downlink.write"
            ):
                detail = "Expecting ',' delimiter"
                return Answer.problem(500, "Internal error", detail, call.path)
        return None

    return Rewrite(app, before=before)


@mutant("E3", description="a body of any Content-Type is read as JSON (no 415)")
def any_content_type_accepted(app: Any) -> Any:
    def before(call: Call) -> None:
        if call.is_create():
            call.set_header("content-type", "application/json")

    return Rewrite(app, before=before)


@mutant("E3", description="a 405 without an Allow header")
def method_not_allowed_without_allow(app: Any) -> Any:
    def after(call: Call, answer: Answer) -> None:
        if answer.status == 405:
            answer.set_header("allow", None)

    return Rewrite(app, after=after)


@mutant(
    "E3", description="authentication runs before routing: an unknown path without a token is 401"
)
def unknown_path_needs_token(app: Any) -> Any:
    def before(call: Call) -> Answer | None:
        known = call.path == "/downlinks" or call.downlink_id is not None
        if not known and call.header("authorization") is None:
            answer = Answer.problem(401, "Unauthorized", "missing token", call.path)
            answer.set_header("www-authenticate", 'Bearer realm="downlinks"')
            return answer
        return None

    return Rewrite(app, before=before)


@mutant("E3", description="no body size limit: a 2 MiB body is taken")
def body_limit_missing(app: Any) -> Any:
    mock_of(app).config.body_limit = 64 * 1024 * 1024
    return app
