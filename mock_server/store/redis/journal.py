"""The request journal (M7) of every process sharing a store, kept in Redis.

Each process appends the exchanges it answered (as the memory journal keeps them, with
its byte budgets); a read gets every process's, oldest first, into the process's own
`Journal`, whose filters and rendering then answer as for one process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mock_server.store.redis.codec import dumps, loads

if TYPE_CHECKING:
    from mock_server.store.redis.state import RedisStore

__all__ = ["append", "refresh", "clear", "encode_entry", "decode_entry"]

# Positions in a journal entry's fields (`JournalEntry` without its seq) that hold bytes,
# lists of bytes, and lists of (bytes, bytes) header pairs.
_BYTES = (2,)
_BYTES_LISTS = (4, 8)
_PAIR_LISTS = (3, 7)


def _text(value: bytes) -> str:
    return value.decode("latin-1")  # every byte one character: nothing lost


def encode_entry(fields: tuple[Any, ...]) -> bytes:
    """An entry's fields as JSON, with "@SEQ@" first where the shared seq goes."""
    out: list[Any] = list(fields)
    for i in _BYTES:
        out[i] = _text(out[i])
    for i in _BYTES_LISTS:
        out[i] = [_text(chunk) for chunk in out[i]]
    for i in _PAIR_LISTS:
        out[i] = [[_text(k), _text(v)] for k, v in out[i]]
    return dumps(["@SEQ@", *out])


def decode_entry(raw: bytes) -> tuple[Any, ...]:
    """The stored tuple (seq first) of an entry `encode_entry` made."""
    data = loads(raw)
    seq, fields = data[0], data[1:]
    for i in _BYTES:
        fields[i] = fields[i].encode("latin-1")
    for i in _BYTES_LISTS:
        fields[i] = [chunk.encode("latin-1") for chunk in fields[i]]
    for i in _PAIR_LISTS:
        fields[i] = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in fields[i]]
    return (seq, *fields)


async def append(state: RedisStore, fields: tuple[Any, ...]) -> None:
    """Append one exchange to the shared journal (the oldest go past its budgets)."""
    journal = state.mock.journal
    keys = state.keys
    async with state.reaching():
        await state.run_script(
            "JOURNAL",
            [keys.journal, keys.journal_bytes, keys.journal_seq],
            [journal.size, journal.total_bytes, fields[-1], encode_entry(fields)],
        )


async def refresh(state: RedisStore) -> None:
    """Load every process's entries into this process's journal, to be read."""
    keys = state.keys
    async with state.reaching() as r:
        pipe = r.pipeline(transaction=True)
        pipe.lrange(keys.journal, 0, -1)
        pipe.get(keys.journal_seq)
        pipe.get(keys.journal_bytes)
        raw, seq, total = await pipe.execute()
    entries = [decode_entry(item.partition(b"|")[2]) for item in raw]
    state.mock.journal.load(entries, int(seq or 0), int(total or 0))


async def clear(state: RedisStore) -> None:
    """Empty the shared journal (its seq goes on counting)."""
    keys = state.keys
    async with state.reaching() as r:
        await r.delete(keys.journal, keys.journal_bytes)
    state.mock.journal.clear()
