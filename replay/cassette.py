"""Cassettes: recorded exchanges (JSONL) and hand-written replay scripts (YAML), read into
one list of steps that the replayer runs.

A cassette line is one JSON object:

    {"time": "2025-01-01T00:00:00.000Z", "durationMs": 2.1,
     "request": {"method": "POST", "path": "/downlinks", "query": "",
                 "headers": {"content-type": "application/json",
                             "authorization": "Bearer <redacted>"},
                 "auth": {"client": "demo-client", "scopes": ["downlink.write"]},
                 "body": {...}},
     "response": {"status": 201, "headers": {...}, "body": {...}}}

A body is `body` (the parsed JSON, for a JSON media type) or `text` (anything else, or
JSON that does not parse); neither when empty. Token values never reach the file: the
`authorization` header is redacted, and `auth` keeps what a replay needs to mint an
equivalent token (client, scopes, expiry) when the token is a JWT.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import jwt
import orjson

__all__ = [
    "Auth",
    "Recorded",
    "Expect",
    "Step",
    "CassetteError",
    "CassetteWriter",
    "load_steps",
    "read_cassette",
    "message_body",
    "redact_headers",
    "HOP_HEADERS",
    "REDACTED",
]

REDACTED = "<redacted>"
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
# Headers that describe one hop or one encoding, not the exchange.
HOP_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "host",
        "content-length",
        "content-encoding",
        "accept-encoding",
        "date",
        "server",
    }
)


class CassetteError(ValueError):
    """A cassette or script that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Auth:
    """What a replay needs to send an equivalent token. `client` None: an opaque token."""

    client: str | None = None
    scopes: tuple[str, ...] = ()
    expires_at_ms: int | None = None

    def to_json(self) -> dict[str, Any]:
        if self.client is None:
            return {"opaque": True}
        out: dict[str, Any] = {"client": self.client, "scopes": list(self.scopes)}
        if self.expires_at_ms is not None:
            out["exp"] = self.expires_at_ms // 1000
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Auth:
        if data.get("opaque") or not isinstance(data.get("client"), str):
            return cls()
        exp = data.get("exp")
        return cls(
            client=data["client"],
            scopes=tuple(s for s in data.get("scopes", ()) if isinstance(s, str)),
            expires_at_ms=exp * 1000 if isinstance(exp, int) else None,
        )

    @classmethod
    def of_header(cls, value: str) -> Auth:
        """The claims of a Bearer JWT, read without checking the signature."""
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return cls()
        try:
            claims = jwt.decode(token.strip(), options={"verify_signature": False})
        except jwt.PyJWTError:
            return cls()
        client = claims.get("client_id", claims.get("sub"))
        if not isinstance(client, str):
            return cls()
        scope = claims.get("scope", claims.get("scp", ""))
        scopes = tuple(scope.split() if isinstance(scope, str) else scope or ())
        exp = claims.get("exp")
        return cls(client, scopes, exp * 1000 if isinstance(exp, int) else None)


@dataclass(frozen=True)
class Recorded:
    """A request or response as the cassette or script holds it."""

    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # parsed JSON, when `has_json`
    text: str | None = None  # a body that is not JSON
    has_json: bool = False

    def content(self) -> bytes | None:
        if self.has_json:
            return orjson.dumps(self.body)
        if self.text is not None:
            return self.text.encode("utf-8")
        return None


@dataclass(frozen=True)
class Expect:
    """What a step expects back. `subset`: a script's partial body, not a whole record."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    has_body: bool = False
    subset: bool = False


@dataclass(frozen=True)
class Step:
    """One request to send and what should come back."""

    index: int  # 1-based, in file order
    source: str  # file:line, for messages
    name: str
    method: str
    path: str
    query: str
    request: Recorded
    auth: Auth | None  # None: the request had no Authorization header
    expect: Expect
    save: dict[str, str] = field(default_factory=dict)  # scripts: variable -> JSON pointer
    file: Path | None = None  # the cassette or script it came from

    @property
    def id(self) -> str:
        """A short, stable test id: `003-GET-/downlinks/{id}` (recorded UUIDs as `{id}`)."""
        return f"{self.index:03d}-{self.method}-{self.name or _UUID.sub('{id}', self.path)}"

    @property
    def target(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")


# -- writing ---------------------------------------------------------------------------


def redact_headers(headers: Iterable[tuple[str, str]]) -> tuple[dict[str, str], Auth | None]:
    """Headers worth keeping, secrets redacted, and the token's replayable claims."""
    kept: dict[str, str] = {}
    auth = None
    for name, value in headers:
        name = name.lower()
        if name in HOP_HEADERS:
            continue
        if name == "authorization":
            auth = Auth.of_header(value)
        if name in _SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} {REDACTED}".strip()
        kept[name] = value
    return kept, auth


def message_body(content: bytes, content_type: str | None) -> dict[str, Any]:
    """`{"body": json}` for a JSON body that parses, `{"text": ...}` for others, `{}` empty."""
    if not content:
        return {}
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            return {"body": orjson.loads(content)}
        except orjson.JSONDecodeError:
            pass
    return {"text": content.decode("utf-8", "replace")}


class CassetteWriter:
    """Appends exchanges to a JSONL file, one line each, flushed at once."""

    def __init__(self, path: Path, *, append: bool = False) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] = path.open("ab" if append else "wb")
        self._lock = threading.Lock()
        self.count = 0

    def write(self, exchange: dict[str, Any]) -> None:
        line = orjson.dumps(exchange) + b"\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()
            self.count += 1

    def close(self) -> None:
        self._file.close()


# -- reading cassettes -----------------------------------------------------------------


def _recorded(data: Mapping[str, Any]) -> Recorded:
    headers = data.get("headers") or {}
    return Recorded(
        headers={str(k).lower(): str(v) for k, v in headers.items()},
        body=data.get("body"),
        text=data.get("text"),
        has_json="body" in data,
    )


def read_cassette(path: Path) -> list[Step]:
    """The exchanges of a JSONL cassette as steps; CassetteError names the bad line."""
    steps: list[Step] = []
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise CassetteError(f"cannot read {path}: {exc.strerror or exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            data = orjson.loads(line)
            request, response = data["request"], data["response"]
            method = str(request["method"]).upper()
            req_path = str(request["path"])
            status = int(response["status"])
        except orjson.JSONDecodeError as exc:
            raise CassetteError(f"{where}: not JSON ({exc})") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise CassetteError(
                f"{where}: not an exchange (needs request.method, request.path and "
                f"response.status): {exc!r}"
            ) from None
        reply = _recorded(response)
        auth = request.get("auth")
        has_auth = "authorization" in {str(k).lower() for k in request.get("headers") or {}}
        steps.append(
            Step(
                index=len(steps) + 1,
                source=where,
                name="",
                method=method,
                path=req_path,
                query=str(request.get("query") or ""),
                request=_recorded(request),
                auth=Auth.from_json(auth)
                if isinstance(auth, dict)
                else Auth()
                if has_auth
                else None,
                expect=Expect(
                    status=status,
                    headers=reply.headers,
                    body=reply.body if reply.has_json else reply.text,
                    has_body=reply.has_json or reply.text is not None,
                ),
                file=path,
            )
        )
    if not steps:
        raise CassetteError(f"{path}: no exchanges in it")
    return steps


def load_steps(path: Path) -> list[Step]:
    """A cassette (`.jsonl`) or a script (`.yaml`, `.yml`), by the file's extension."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return read_cassette(path)
    if suffix in (".yaml", ".yml"):
        from replay.script import read_script  # the script reader builds on this module

        return read_script(path)
    raise CassetteError(
        f"{path}: unknown kind of file; a cassette ends in .jsonl, a replay script in .yaml"
    )
