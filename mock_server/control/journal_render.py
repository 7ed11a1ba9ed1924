"""What the journal (M7) keeps of one exchange, and how it shows it: always renderable.

Anything a client sends can end up in the journal: headers, a body nested 300 deep, a token
whose `client_id` is a lone surrogate. What is kept is cut to a byte budget when it is
recorded (`keep_headers`), and what is shown is made safe when it is read: bodies nested
deeper than `MAX_DEPTH` are shown as text, text that is not valid Unicode is escaped
(`\\ud800` stays visible as those six characters). So no accepted request can make a later
`GET /__mock/requests` fail.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jwt
import orjson

__all__ = [
    "MAX_DEPTH",
    "TRUNCATED",
    "clean_text",
    "keep_headers",
    "render_headers",
    "render_body",
    "client_of",
    "redact",
]

MAX_DEPTH = 32
"""How deep a journaled JSON body may nest and still be shown as JSON (else as text)."""
TRUNCATED = b"...[truncated]"
"""Appended to a header value cut to the entry's byte budget."""


def clean_text(text: str) -> str:
    """`text` as valid UTF-8: lone surrogates escaped as `\\udXXX`, the rest unchanged."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def keep_headers(
    raw: Iterable[tuple[bytes, bytes]], names: frozenset[bytes], budget: int
) -> tuple[list[tuple[bytes, bytes]], int, bool]:
    """The headers among `names`, cut so that names and values together fit `budget`
    bytes: (kept, bytes kept, whether anything was cut)."""
    # Every request and answer passes here: pick the headers in one comprehension (servers
    # send names in lower case, so only a name with capitals is lowered), and when
    # together they fit with room to spare (nearly always), nothing needs cutting.
    kept = [
        (name, value) if name in names else (name.lower(), value)
        for name, value in raw
        if name in names or (not name.islower() and name.lower() in names)
    ]
    used = 0
    for name, value in kept:
        used += len(name) + len(value)
    if used + len(TRUNCATED) < budget:
        return kept, used, False
    return _cut_headers(kept, budget)


def _cut_headers(
    picked: list[tuple[bytes, bytes]], budget: int
) -> tuple[list[tuple[bytes, bytes]], int, bool]:
    """`keep_headers` for headers that may not fit: cut in order to `budget` bytes."""
    kept: list[tuple[bytes, bytes]] = []
    used = 0
    cut = False
    for name, value in picked:
        room = budget - used - len(name)
        if room <= len(TRUNCATED):
            cut = True
            break
        if len(value) > room:
            value = value[: room - len(TRUNCATED)] + TRUNCATED
            cut = True
        kept.append((name, value))
        used += len(name) + len(value)
    return kept, used, cut


def render_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Kept headers as text (latin-1: every byte is a character, none is invalid)."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in raw}


def _depth_within(value: Any, limit: int) -> bool:
    """Whether `value` nests at most `limit` containers deep (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return True


def render_body(into: dict[str, Any], chunks: list[bytes], size: int, limit: int) -> None:
    """Put a kept body into `into`: JSON when it parses whole and nests at most MAX_DEPTH,
    else text (invalid UTF-8 replaced); `bodyTruncated` and `bodySize` when it was cut."""
    data = b"".join(chunks)[:limit]
    truncated = size > len(data)
    if not data:
        into["body"] = None
    elif not truncated:
        try:
            # orjson refuses lone surrogates and invalid UTF-8, so what it reads re-encodes.
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            into["body"] = data.decode("utf-8", "replace")
        else:
            into["body"] = value if _depth_within(value, MAX_DEPTH) else data.decode("utf-8")
    else:
        into["body"] = data.decode("utf-8", "replace")
    if truncated:
        into["bodyTruncated"] = True
        into["bodySize"] = size


def redact(authorization: str) -> str:
    """The Authorization header without its credentials."""
    scheme = authorization.split(" ", 1)[0]
    return f"{scheme} <redacted>" if " " in authorization else "<redacted>"


def client_of(authorization: str) -> str | None:
    """The client a Bearer JWT names (`client_id`, else `sub`), signature unchecked; text
    that is not valid Unicode escaped."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        claims: Any = jwt.decode(token.strip(), options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, RecursionError):
        return None
    if not isinstance(claims, dict):  # a payload that is JSON but not an object
        return None
    client = claims.get("client_id", claims.get("sub"))
    return clean_text(client) if isinstance(client, str) else None
