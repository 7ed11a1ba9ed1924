"""A stored downlink as plain data, whole: what the shared store writes and reads back.

The public JSON (`Downlink.to_json`) leaves out what the store and the progression engine
need (the owner, the retry limit, the parts, the progression); this keeps everything, in
epoch milliseconds, so a downlink read back is the one written.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from mock_server.domain.model import Downlink, LogEntry, Status

__all__ = ["dump_downlink", "load_downlink", "dumps", "loads"]


def dump_downlink(dl: Downlink) -> list[Any]:
    """`dl` as a JSON-ready list (positional: a million of them stay small)."""
    return [
        dl.id,
        dl.owner,
        dl.network_id,
        dl.status.value,
        dl.created_at,
        dl.modified_at,
        dl.message,
        dl.external_reference,
        [[e.created_at, e.event, e.error_code] for e in dl.logs],
        dl.method,
        dl.retry_limit,
        dl.feedback_timeout_ms,
        dl.parts,
        dl.retries,
        dl.progression,
    ]


def load_downlink(data: list[Any]) -> Downlink:
    """The downlink `dump_downlink` gave `data` for."""
    (
        id_,
        owner,
        network_id,
        status,
        created_at,
        modified_at,
        message,
        reference,
        logs,
        method,
        retry_limit,
        feedback_timeout_ms,
        parts,
        retries,
        progression,
    ) = data
    return Downlink(
        id=id_,
        owner=owner,
        network_id=network_id,
        status=Status(status),
        created_at=created_at,
        modified_at=modified_at,
        message=message,
        external_reference=reference,
        logs=[LogEntry(at, event, code) for at, event, code in logs],
        method=method,
        retry_limit=retry_limit,
        feedback_timeout_ms=feedback_timeout_ms,
        parts=parts,
        retries=retries,
        progression=progression,
    )


def dumps(value: Any) -> bytes:
    """JSON bytes, keys sorted (equal values give equal bytes)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        # An integer past 64 bits (a retryLimit of 10**30 is valid): the slower encoder.
        return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def loads(data: bytes | str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)  # integers past 64 bits (see `dumps`)
