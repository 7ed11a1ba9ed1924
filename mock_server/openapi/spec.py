"""openapi.json, compiled: the public API's parameters and create bodies (E2).

The document is read at run time (`mock_server.config.OPENAPI_PATH`), never copied.
`Spec` is the generic `Document` (parameters, bodies, schemas) plus the create-request
reader (`mock_server.openapi.create`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from mock_server import config
from mock_server.domain.model import NewDownlink
from mock_server.http.problems import Violation
from mock_server.openapi.create import FEEDBACK_TIMEOUT_MIN_MS, CreateReader
from mock_server.openapi.document import Document, json_pointer

__all__ = ["Spec", "load_spec", "json_pointer", "FEEDBACK_TIMEOUT_MIN_MS"]


class Spec(Document):
    """The public OpenAPI document: a `Document` that also reads create bodies."""

    validate_create: Callable[[object], tuple[NewDownlink | None, list[Violation]]]
    """Check a parsed `POST /downlinks` body (C1-C5, C9): the normalized request and no
    violations, or None and every violation (see `CreateReader.read`)."""

    def __init__(self, document: dict[str, Any], *, uri: str = "urn:downlinks:openapi") -> None:
        super().__init__(document, uri=uri)
        # The bound method itself: no extra call on the request path.
        self.validate_create = CreateReader(self).read


@lru_cache(maxsize=8)
def _load(path: Path) -> Spec:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the OpenAPI document {path}: {exc}") from exc
    if not isinstance(document, dict):
        raise ValueError(f"the OpenAPI document {path} is not a JSON object")
    return Spec(document, uri=path.as_uri())


def load_spec(path: Path | None = None) -> Spec:
    """The compiled spec of the OpenAPI document at `path` (default:
    `config.OPENAPI_PATH`), read once per path."""
    return _load(Path(path if path is not None else config.OPENAPI_PATH).resolve())
