"""The four public operations of openapi.json. Handlers stay thin: parse, call, render.

Ticking the clock and authenticating happen before each handler (`endpoint`); what the
store refuses is a domain error, answered in one place (`problems.problem_for`).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote_plus, unquote

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.http.auth import Principal
from mock_server.http.endpoint import endpoint, note_created
from mock_server.http.problems import (
    BadRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    Violation,
)
from mock_server.mock import Mock
from mock_server.openapi.validation import json_pointer
from mock_server.store.base import Page
from mock_server.store.query import ListQuery, build_query
from mock_server.store.steps import page_in_steps

__all__ = ["routes", "read_body", "read_json_body"]

_JSON = "application/json"
# application/json, or a structured syntax suffix with a subtype name before it (RFC 6838
# 4.2: a name starts with a letter or digit): `application/+json` is no JSON type.
_JSON_TYPE = re.compile(r"application/(?:json|[a-z0-9][a-z0-9!#$&^_.+-]*\+json)")
# A \uD800-\uDFFF escape: where a lone surrogate can come from (RFC 8259 8.2).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# 19 digits in a row: a number orjson may not keep exact (it reads integers past 64 bits
# as floats), so such a body takes the standard parser.
_LONG_DIGITS = re.compile(rb"[0-9]{19}")
MAX_DEPTH = 64
"""How deeply a JSON body may nest (arrays and objects); deeper is a 400 (E3)."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body, or 413 as soon as it is known to be over `limit` bytes (E3)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    # The ASGI messages read here as `Request.stream` reads them, without the async
    # generator (and the event loop's bookkeeping of it) that each body would cost.
    receive = request.receive
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "http.request":
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        elif kind == "http.disconnect":
            raise ClientDisconnect()


async def read_json_body(request: Request, limit: int) -> Any:
    """The request's JSON body: 415 unless JSON (E3), 413 over `limit`, 400 if malformed."""
    ctype = request.headers.get("content-type", "")
    media = ctype.split(";", 1)[0].strip().lower()
    if not _JSON_TYPE.fullmatch(media):
        raise UnsupportedMediaType(
            f"send the body as {_JSON}, not {media or 'a body without a Content-Type'}"
        )
    body = await read_body(request, limit)
    if not _LONG_DIGITS.search(body):
        # orjson reads what the standard parser reads, to the same values, except for long
        # integers (above), numbers past the float range (json: infinity; orjson: an
        # error) and lone surrogates (an error): whatever it refuses, the standard parser
        # below reads again and explains.
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
        else:
            _refuse_deep(body, value)
            return value
    try:
        # JSON text exchanged between systems is UTF-8 without a BOM (RFC 8259 8.1): the
        # bytes are decoded as exactly that, not sniffed as UTF-16/32 as `json.loads` of
        # bytes would. A BOM decodes to U+FEFF, which the parser refuses.
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(
            "the body is not valid JSON",
            errors=[
                {"pointer": "#", "detail": f"not UTF-8 text: {exc.reason} at byte {exc.start}"}
            ],
        ) from None
    try:
        # The standard parser keeps big integers exact; NaN and Infinity are not JSON.
        value = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        raise BadRequest(
            "the body is not valid JSON", errors=[{"pointer": "#", "detail": reason}]
        ) from None
    if _SURROGATE_ESCAPE.search(body):
        _refuse_lone_surrogates(value)
    _refuse_deep(body, value)
    return value


def _refuse_deep(body: bytes, value: Any) -> None:
    """400 for a body nested deeper than MAX_DEPTH: validators recurse per level, and an
    encoder refuses what is too deep to write back (nothing accepted may break a later
    read). Most bodies hold too few brackets to be that deep, which two counts tell."""
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadRequest(
                "the body is not valid JSON",
                errors=[{"pointer": "#", "detail": f"nested too deeply (over {MAX_DEPTH} levels)"}],
            )
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)


def _refuse_lone_surrogates(value: Any) -> None:
    """400 for a string (or member name) holding a lone surrogate: JSON's `\\ud800`
    escape parses, but no UTF-8 text can carry it, so nothing made of it could be stored
    and served (I-JSON, RFC 7493 2.1)."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(item))
            continue
        if isinstance(item, dict):
            texts = list(item)
            stack.extend((v, (*path, k)) for k, v in item.items())
        elif isinstance(item, str):
            texts = [item]
        else:
            continue
        for text in texts:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                where = json_pointer((*path, text) if isinstance(item, dict) else path)
                raise BadRequest(
                    "the body is not valid JSON",
                    errors=[
                        {
                            "pointer": where,
                            "detail": "a string holds a lone surrogate (a \\uD800-\\uDFFF "
                            "escape without its pair), which UTF-8 cannot encode",
                        }
                    ],
                ) from None


def _params(
    request: Request, mock: Mock, operation_id: str, *, report: bool = True
) -> tuple[dict[str, Any], dict[str, str], list[Violation]]:
    """The operation's query parameters, coerced and validated from the spec (E2), as
    sent, and what is wrong with them (raised at once unless `report` is False, for a
    caller that adds its own findings first). Each may be given once (which of two would
    win?), and only those the spec declares."""
    # The pairs `request.query_params.multi_items()` gives (parse_qsl of the latin-1
    # text, blank values kept), read directly: a name or value without `%` or `+` is its
    # own unquoted text, so only the others pay for `unquote`.
    query_string: bytes = request.scope["query_string"]
    items: list[tuple[str, str]] = []
    if query_string:
        for part in query_string.decode("latin-1").split("&"):
            if not part:
                continue
            name, _, value = part.partition("=")
            if "%" in name or "+" in name:
                name = unquote(name.replace("+", " "), errors="replace")
            if "%" in value or "+" in value:
                value = unquote(value.replace("+", " "), errors="replace")
            items.append((name, value))
    params, errors = mock.spec.check_query(operation_id, items)
    raw = dict(items)
    if errors and report:
        raise BadRequest("the request has invalid query parameters", errors=errors)
    return params, raw, errors


class _JSONResponse(Response):
    """JSON bytes as they are, the headers Starlette's `init_headers` would give them
    (Location first, then Content-Length and Content-Type) written out directly."""

    media_type = _JSON

    def __init__(self, body: bytes, status: int = 200, location: str | None = None) -> None:
        self.status_code = status
        self.background = None
        self.body = body
        raw = [(b"location", location.encode("latin-1"))] if location is not None else []
        raw += [(b"content-length", b"%d" % len(body)), (b"content-type", b"application/json")]
        self.raw_headers = raw


def _json(body: bytes, status: int = 200, location: str | None = None) -> Response:
    return _JSONResponse(body, status, location)


# -- GET /downlinks ---------------------------------------------------------------


@endpoint("downlink.read")
async def search_downlinks(request: Request, mock: Mock, caller: Principal) -> Response:
    owner = caller.client_id
    origin = mock.config.public_url or _origin(request)
    # A repeated query on an unchanged store: the page rendered last time (pagecache.py).
    query_string: bytes = request.scope["query_string"]
    cached = mock.pages.get(mock.store.version, owner, query_string, origin)
    if cached is not None:
        return _json(cached)
    # E2: the spec's findings and the list rules' (dates, limit, sort) in one answer.
    params, raw, errors = _params(request, mock, "searchDownlinks", report=False)
    query = build_query(params, raw, mock.cursors, owner, errors=errors)
    # A long scan gives the event loop back between its steps (store/steps.py).
    page, version = await page_in_steps(mock.store, owner, query)
    body = _render_page(origin, mock, owner, query, page)
    mock.pages.put(version, owner, query_string, origin, body)
    return _json(body)


def _origin(request: Request) -> str:
    """scheme://host[:port] of the request, as the client addressed it (for L5 links)."""
    scope = request.scope
    host = request.headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}"


def _render_page(origin: str, mock: Mock, owner: str, query: ListQuery, page: Page) -> bytes:
    items = page.items
    if not items:
        return b'{"items":[]}'
    encoded = mock.store.encoded
    # Each downlink's cached JSON (`encoded` fills the cache when it is empty).
    parts = [dl.encoded or encoded(dl) for dl in items]
    tail = b"]"
    if page.has_next or page.has_prev:
        # The filters as sent, then limit, then the cursor (URL-safe base64: no quoting):
        # what `urlencode` gives, the names being plain ASCII words.
        filters = "".join([f"{name}={quote_plus(value)}&" for name, value in query.raw.items()])
        prefix = f"{origin}/downlinks?{filters}limit={query.limit}&cursor="
        if page.has_next:
            cursor = mock.cursors.encode(query, owner, query.raw_key(items[-1]), False)
            tail += b',"next":' + orjson.dumps(prefix + cursor)
        if page.has_prev:
            cursor = mock.cursors.encode(query, owner, query.raw_key(items[0]), True)
            tail += b',"prev":' + orjson.dumps(prefix + cursor)
    # One join of the whole page: the opening and closing ride on the first and last item.
    parts[0] = b'{"items":[' + parts[0]
    parts[-1] = parts[-1] + tail + b"}"
    return b",".join(parts)


# -- POST /downlinks --------------------------------------------------------------


@endpoint("downlink.write")
async def create_downlink(request: Request, mock: Mock, caller: Principal) -> Response:
    _params(request, mock, "createDownlink")
    body = await read_json_body(request, mock.config.body_limit)
    new, errors = mock.spec.validate_create(body)
    if new is None:
        raise BadRequest("the downlink request is invalid", errors=errors)
    owner = caller.client_id
    now = mock.clock.now()
    if new.dry_run:
        # C8: everything is validated, uniqueness included, and nothing is stored.
        preview = mock.store.create(owner, new, now, dry_run=True)
        return _json(mock.store.encoded(preview), 201)
    dl = await mock.state.create(owner, new, now)
    note_created(request, dl)
    return _json(mock.store.encoded(dl), 201, f"/downlinks/{dl.id}")


# -- GET /downlinks/{downlinkId} ----------------------------------------------------


@endpoint("downlink.read")
async def get_downlink(request: Request, mock: Mock, caller: Principal) -> Response:
    if request.scope["query_string"]:
        _params(request, mock, "getDownlink")
    dl = mock.store.get(caller.client_id, request.path_params["downlinkId"])
    return _json(mock.store.encoded(dl))


# -- DELETE /downlinks/{downlinkId} -------------------------------------------------


@endpoint("downlink.delete")
async def cancel_downlink(request: Request, mock: Mock, caller: Principal) -> Response:
    params, _, _ = _params(request, mock, "cancelDownlink")
    forced = bool(params.get("forced", False))
    downlink_id = request.path_params["downlinkId"]
    await mock.state.cancel(caller.client_id, downlink_id, forced, mock.clock.now())
    return Response(status_code=202)


async def _collection(request: Request) -> Response:
    if request.method == "POST":
        return await create_downlink(request)
    return await search_downlinks(request)


async def _item(request: Request) -> Response:
    if request.method == "DELETE":
        return await cancel_downlink(request)
    return await get_downlink(request)


# One route per path, so that a 405 lists every method the path has (E3).
routes = [
    Route("/downlinks", _collection, methods=["GET", "POST"]),
    Route("/downlinks/{downlinkId}", _item, methods=["GET", "DELETE"]),
]
