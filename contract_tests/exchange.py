"""The records a check keeps of its HTTP traffic, and the spec it judges by.

`Exchange` is one request with its answer, able to quote itself as a `curl` line (user
tokens as `$VARIABLES`, K3) and as a short excerpt; `load_spec` finds `openapi.json`;
`schema_validator` checks a value against one of its schemas. `contract_tests.context`
re-exports them all.
"""

from __future__ import annotations

import json as jsonlib
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from contract_tests.registry import ContractError, Finding

__all__ = [
    "Exchange",
    "load_spec",
    "SPEC_ENV",
    "EXCERPT_CHARS",
    "redact",
    "curl_line",
    "schema_validator",
]

SPEC_ENV = "DOWNLINKS_OPENAPI"  # a path to openapi.json, when not next to the package
EXCERPT_CHARS = 500  # how much of a response body a finding quotes

# Headers worth quoting in an excerpt: the ones rules talk about.
_NOTABLE_HEADERS = ("content-type", "location", "www-authenticate", "allow", "content-length")


def load_spec(path: str | Path | None = None) -> dict[str, Any]:
    """Read openapi.json: `path`, else $DOWNLINKS_OPENAPI, else the package's own copy
    (`contract_tests/data` links to the source tree's openapi.json; a wheel carries it)."""
    candidates: list[str | Path] = [path] if path else []
    if os.environ.get(SPEC_ENV):
        candidates.append(os.environ[SPEC_ENV])
    candidates.append(
        Path(str(resources.files("contract_tests").joinpath("data"))) / "openapi.json"
    )
    for candidate in candidates:
        p = Path(candidate)
        if p.is_file():
            try:
                document: dict[str, Any] = jsonlib.loads(p.read_text(encoding="utf-8"))
                return document
            except (OSError, ValueError) as exc:
                raise ContractError(f"cannot read the OpenAPI document {p}: {exc}") from exc
        if path and candidate == path:
            raise ContractError(f"no OpenAPI document at {p}")
    raise ContractError(f"openapi.json not found; pass --spec or set ${SPEC_ENV}")


def redact(text: str, secrets: Mapping[str, str]) -> str:
    """`text` with every secret value replaced by "$VARIABLE"."""
    for variable, secret in secrets.items():
        if secret:
            text = text.replace(secret, f"${variable}")
    return text


@dataclass
class Exchange:
    """One request and the response it got."""

    request: httpx.Request
    response: httpx.Response
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def curl(self) -> str:
        """A copy-pasteable curl line reproducing the request (user tokens as $VARIABLES)."""
        return curl_line(self.request, self.secrets)

    def json(self) -> Any:
        """The response body as JSON; a `Finding` when it is not JSON."""
        try:
            return self.response.json()
        except ValueError:
            raise Finding(
                "the response body is not JSON",
                expected="a JSON body",
                actual=repr(self.response.text[:80]),
                request=self.curl,
                response=self.excerpt(),
            ) from None

    def excerpt(self) -> str:
        """Status line, the headers rules talk about, and the first 500 characters of body."""
        r = self.response
        lines = [f"HTTP {r.status_code} {r.reason_phrase}".rstrip()]
        for name in _NOTABLE_HEADERS:
            if name in r.headers:
                lines.append(f"{name}: {r.headers[name]}")
        body = r.text
        if body:
            cut = body[:EXCERPT_CHARS]
            lines += ["", cut + (" ..." if len(body) > EXCERPT_CHARS else "")]
        return "\n".join(lines)


def curl_line(request: httpx.Request, secrets: Mapping[str, str] | None = None) -> str:
    """`curl` reproducing `request`; secrets become "$VARIABLE" (double-quoted so the shell
    expands them)."""
    parts = ["curl", "-i", "-X", request.method, shlex.quote(str(request.url))]
    skip = {"host", "accept", "accept-encoding", "connection", "user-agent", "content-length"}
    for raw_name, raw_value in request.headers.raw:  # raw: the case as sent
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        if name.lower() in skip:
            continue
        header = f"{name}: {value}"
        redacted = redact(header, secrets or {})
        parts += ["-H", shlex.quote(header) if redacted == header else f'"{redacted}"']
    body = request.content
    if body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and len(text) <= 4096:
            parts += ["--data-raw", shlex.quote(text)]
        else:
            parts += ["--data-binary", f"@<{len(body)} bytes>"]
    return " ".join(parts)


_VALIDATORS: dict[tuple[int, str], Any] = {}
_SPEC_URI = "urn:downlinks:openapi"


def schema_validator(spec: dict[str, Any], schema: str) -> Any:
    """A JSON Schema validator for `#/components/schemas/<schema>` of `spec` (cached)."""
    key = (id(spec), schema)
    if key not in _VALIDATORS:
        from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        if schema not in spec.get("components", {}).get("schemas", {}):
            raise ValueError(f"the spec has no schema {schema!r}")
        resource = Resource.from_contents(spec, default_specification=DRAFT202012)
        registry = Registry().with_resource(_SPEC_URI, resource)
        ref = {"$ref": f"{_SPEC_URI}#/components/schemas/{schema}"}
        _VALIDATORS[key] = Draft202012Validator(ref, registry=registry)
    return _VALIDATORS[key]
