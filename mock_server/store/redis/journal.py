"""The request journal (M7) of every process sharing a store, kept in Redis.

Each process appends the exchanges it answered (as the memory journal keeps them, with
its byte budgets), several in one round trip: its rounds carry them (store/redis/replica.py),
and each request waits for the round that writes its entry, so its answer leaves only once
the entry is in Redis (a reader in another process finds it). A read gets every process's,
oldest first, into the process's own `Journal`, whose filters and rendering then answer as
for one process.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from mock_server.store.redis.codec import dumps, loads

if TYPE_CHECKING:
    from mock_server.store.redis.state import RedisStore

__all__ = ["refresh", "clear", "encode_entry", "decode_entry"]

log = logging.getLogger("mock_server.store.redis")

# Positions in a journal entry's fields (`JournalEntry` without its seq): the query
# (bytes), the request's and the response's headers (lists of (bytes, bytes) pairs) and
# bodies (lists of bytes chunks).
_QUERY = 2
_HEADERS = (3, 7)
_REQUEST_BODY, _RESPONSE_BODY = 4, 8


def _text(value: bytes) -> str:
    return value.decode("latin-1")  # every byte one character: nothing lost


def encode_entry(fields: tuple[Any, ...]) -> bytes:
    """An entry as Redis keeps it: "<n>|" and n bytes of JSON (the fields, each body
    replaced by its length), then the request's and the response's bodies as they are
    (a page's 8 KB is neither escaped nor copied into text). Its seq is not written: it
    follows from the entry's place in the journal (`refresh`)."""
    out: list[Any] = list(fields)
    out[_QUERY] = _text(out[_QUERY])
    for i in _HEADERS:
        out[i] = [[_text(k), _text(v)] for k, v in out[i]]
    request_body = b"".join(out[_REQUEST_BODY])
    response_body = b"".join(out[_RESPONSE_BODY])
    out[_REQUEST_BODY], out[_RESPONSE_BODY] = len(request_body), len(response_body)
    meta = dumps(out)
    return b"%d|%b%b%b" % (len(meta), meta, request_body, response_body)


def decode_entry(raw: bytes, seq: int) -> tuple[Any, ...]:
    """The tuple the journal keeps (`seq` first) of an entry `encode_entry` wrote;
    ValueError when it is not one."""
    head, _, rest = raw.partition(b"|")
    size = int(head)
    fields = loads(rest[:size])
    if not isinstance(fields, list) or len(fields) <= _RESPONSE_BODY:
        raise ValueError("not a journal entry")
    bodies = rest[size:]
    cut = int(fields[_REQUEST_BODY])
    if cut + int(fields[_RESPONSE_BODY]) != len(bodies):
        raise ValueError("a journal entry's bodies are not the lengths it gives")
    fields[_QUERY] = fields[_QUERY].encode("latin-1")
    for i in _HEADERS:
        fields[i] = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in fields[i]]
    fields[_REQUEST_BODY] = [bodies[:cut]] if cut else []
    fields[_RESPONSE_BODY] = [bodies[cut:]] if len(bodies) > cut else []
    return (seq, *fields)


async def refresh(state: RedisStore, newest: int | None = None) -> None:
    """Load every process's entries (or the `newest`) into this process's journal."""
    keys = state.keys
    async with state.reaching() as r:
        pipe = r.pipeline(transaction=True)
        pipe.lrange(keys.journal, 0 if newest is None else -newest, -1)
        pipe.get(keys.journal_seq)
        pipe.get(keys.journal_bytes)
        pipe.get(keys.journal_cleared)
        raw, seq, total, cleared = await pipe.execute()
    # The last entry has the journal's seq; each before it, one less (entries are only
    # appended at the end and dropped from the start).
    last = int(seq or 0)
    entries = []
    for place, item in enumerate(raw, start=last - len(raw) + 1):
        try:
            entries.append(decode_entry(item, place))
        except (ValueError, TypeError, AttributeError, IndexError):
            log.warning("a journal entry in Redis could not be read; it is left out")
    state.mock.journal.load(entries, last, int(total or 0), int(cleared or 0))


async def clear(state: RedisStore) -> None:
    """Empty the shared journal (its seq goes on counting)."""
    keys = state.keys
    async with state.reaching():
        await state.run_script(
            "JOURNAL_CLEAR",
            [
                keys.journal,
                keys.journal_costs,
                keys.journal_bytes,
                keys.journal_cleared,
                keys.journal_seq,
            ],
            [],
        )
    state.mock.journal.clear()
