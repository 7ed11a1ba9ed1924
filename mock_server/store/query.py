"""List parameters -> a query: filters, sort keys, limit and keyset cursors (L1-L7)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from mock_server.domain.errors import InvalidQuery, Violation
from mock_server.domain.model import Downlink
from mock_server.domain.timefmt import parse_rfc3339

__all__ = [
    "SORTABLE",
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "SortKey",
    "Cursor",
    "ListQuery",
    "CursorCodec",
    "build_query",
    "parse_sort",
]

SORTABLE = ("createdAt", "modifiedAt", "id", "networkId", "externalReference", "status")
DEFAULT_LIMIT = 50  # L3 [spec]
MAX_LIMIT = 1000  # L3 [mock]
_TIME_FILTERS = {
    "createdSince": "created_since",
    "createdBefore": "created_before",
    "modifiedSince": "modified_since",
    "modifiedBefore": "modified_before",
}


@dataclass(frozen=True, slots=True)
class SortKey:
    """One field of `sort` (L4)."""

    field: str
    desc: bool = False

    def __str__(self) -> str:
        return f"-{self.field}" if self.desc else self.field


class _Desc:
    """Wraps a value so that it sorts in reverse."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return bool(other.value < self.value)

    def __gt__(self, other: _Desc) -> bool:
        return bool(other.value > self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.value == other.value

    def __le__(self, other: _Desc) -> bool:
        return bool(other.value <= self.value)

    def __ge__(self, other: _Desc) -> bool:
        return bool(other.value >= self.value)

    __hash__ = None  # type: ignore[assignment]


def _raw_value(dl: Downlink, name: str) -> Any:
    if name == "createdAt":
        return dl.created_at
    if name == "modifiedAt":
        return dl.modified_at
    if name == "id":
        return dl.id
    if name == "networkId":
        return dl.network_id
    if name == "status":
        return dl.status.value
    # externalReference: an absent value sorts as the smallest (L4).
    ref = dl.external_reference
    return (0, "") if ref is None else (1, ref)


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page starts: the raw sort values of an edge item, and which way to go."""

    values: tuple[Any, ...]
    backwards: bool  # True for a `prev` cursor: the items before `values`


@dataclass
class ListQuery:
    """A validated `GET /downlinks` request."""

    q: str | None = None
    created_since: int | None = None
    created_before: int | None = None
    modified_since: int | None = None
    modified_before: int | None = None
    sort: tuple[SortKey, ...] = (SortKey("createdAt"), SortKey("id"))
    limit: int = DEFAULT_LIMIT
    cursor: Cursor | None = None
    raw: dict[str, str] = field(default_factory=dict)  # the filters as sent, for links (L5)

    def raw_key(self, dl: Downlink) -> tuple[Any, ...]:
        """The raw sort values of a downlink (what a cursor stores)."""
        return tuple([_raw_value(dl, k.field) for k in self.sort])

    def order_key(self, raw: tuple[Any, ...]) -> tuple[Any, ...]:
        """Raw sort values -> a key whose natural order is the requested order."""
        return tuple(_Desc(v) if k.desc else v for v, k in zip(raw, self.sort, strict=True))

    def key(self) -> Callable[[Downlink], tuple[Any, ...]]:
        sort = self.sort
        if not any(k.desc for k in sort):
            return lambda dl: tuple(_raw_value(dl, k.field) for k in sort)
        return lambda dl: tuple(
            _Desc(_raw_value(dl, k.field)) if k.desc else _raw_value(dl, k.field) for k in sort
        )

    def binding(self, owner: str) -> bytes:
        """What a cursor is bound to (L7): the caller, the filters and the sort."""
        # Written out (each page's links encode a cursor or two): the same bytes as
        # joining owner, q, the four time filters and `str` of each sort key.
        sort = ",".join([f"-{k.field}" if k.desc else k.field for k in self.sort])
        return (
            f"{owner}\x1f{self.q or ''}\x1f{self.created_since}\x1f{self.created_before}"
            f"\x1f{self.modified_since}\x1f{self.modified_before}\x1f{sort}"
        ).encode()


def parse_sort(text: str | None) -> tuple[tuple[SortKey, ...], list[Violation]]:
    """Parse `sort` (L4). Ties always fall back to `id` ascending, so the order is total."""
    if text is None:
        return (SortKey("createdAt"), SortKey("id")), []
    keys: list[SortKey] = []
    errors: list[Violation] = []
    seen: set[str] = set()
    for part in text.split(","):
        desc = part.startswith("-")
        name = part[1:] if desc else part
        if name not in SORTABLE:
            errors.append(
                {
                    "parameter": "sort",
                    "detail": f"cannot sort by {name!r}: sortable fields are "
                    + ", ".join(SORTABLE)
                    + " (prefix - for descending)",
                }
            )
            continue
        if name in seen:
            errors.append({"parameter": "sort", "detail": f"{name!r} is given more than once"})
            continue
        seen.add(name)
        keys.append(SortKey(name, desc))
    if not any(k.field == "id" for k in keys):
        keys.append(SortKey("id"))
    return tuple(keys), errors


def build_query(
    params: Mapping[str, Any],
    raw: Mapping[str, str],
    codec: CursorCodec,
    owner: str,
    *,
    errors: list[Violation] | None = None,
) -> ListQuery:
    """Turn spec-coerced parameters into a ListQuery, or raise InvalidQuery with every
    problem: those found here and the `errors` found before (E2)."""
    errors = list(errors or [])
    query = ListQuery()
    query.raw = {name: raw[name] for name in ("q", *_TIME_FILTERS) if name in raw}
    q = params.get("q")
    if q is not None:
        query.q = q
    for name, attr in _TIME_FILTERS.items():
        value = params.get(name)
        if value is None:
            continue
        try:
            setattr(query, attr, parse_rfc3339(value))
        except ValueError as exc:
            errors.append({"parameter": name, "detail": str(exc)})
    limit = params.get("limit")
    if limit is not None:
        if not 1 <= limit <= MAX_LIMIT:
            errors.append(
                {
                    "parameter": "limit",
                    "detail": f"limit must be from 1 to {MAX_LIMIT}, not {limit}",
                }
            )
        else:
            query.limit = limit
    sort, sort_errors = parse_sort(params.get("sort"))
    errors.extend(sort_errors)
    query.sort = sort
    if "sort" in raw:
        query.raw["sort"] = raw["sort"]
    if errors:
        raise InvalidQuery("the list request has invalid parameters", errors=errors)
    cursor = params.get("cursor")
    if cursor is not None:
        query.cursor = codec.decode(cursor, query, owner)
    return query


class CursorCodec:
    """Opaque, tamper-evident keyset cursors, bound to the caller, filters and sort (L7).

    A cursor is base64url(JSON [values, direction]) + "." + base64url(keyed BLAKE2b MAC). The key is
    made per process, so a cursor from another mock instance is refused too.
    """

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or os.urandom(32)

    def _mac(self, payload: bytes, binding: bytes) -> bytes:
        # Keyed BLAKE2b is a MAC in one call (RFC 7693), cheaper than HMAC-SHA256.
        return hashlib.blake2b(
            payload + b"\x1e" + binding, key=self._secret, digest_size=16
        ).digest()

    def encode(self, query: ListQuery, owner: str, values: tuple[Any, ...], backwards: bool) -> str:
        payload = orjson.dumps([list(values), "p" if backwards else "n"])
        mac = self._mac(payload, query.binding(owner))
        return f"{_b64(payload)}.{_b64(mac)}"

    def decode(self, token: str, query: ListQuery, owner: str) -> Cursor:
        bad = InvalidQuery(
            "the cursor is not valid for this request: use a `next` or `prev` link as given, "
            "with the same filters and sort",
            errors=[
                {"parameter": "cursor", "detail": "garbled, or made for other filters or sort"}
            ],
        )
        try:
            payload_text, mac_text = token.split(".")
            payload, mac = _unb64(payload_text), _unb64(mac_text)
        except (ValueError, binascii.Error):
            raise bad from None
        if not hmac.compare_digest(mac, self._mac(payload, query.binding(owner))):
            raise bad
        values, direction = orjson.loads(payload)
        # JSON has no tuples: the externalReference key is a pair.
        restored = tuple(tuple(v) if isinstance(v, list) else v for v in values)
        if len(restored) != len(query.sort):
            raise bad
        return Cursor(restored, direction == "p")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or not text.isascii():
        raise ValueError("empty")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
