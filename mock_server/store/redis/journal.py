"""The request journal (M7) of every process sharing a store, kept in Redis.

Each process appends the exchanges it answered (as the memory journal keeps them, with
its byte budgets), several in one round trip: its rounds carry them (store/redis/replica.py),
and each request waits for the round that writes its entry, so its answer leaves only once
the entry is in Redis (a reader in another process finds it). A read gets every process's, oldest first, into the process's own
`Journal`, whose filters and rendering then answer as for one process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mock_server.store.redis.codec import dumps, loads

if TYPE_CHECKING:
    from mock_server.store.redis.state import RedisStore

__all__ = ["refresh", "clear", "encode_entry", "decode_entry"]

# Positions in a journal entry's fields (`JournalEntry` without its seq) that hold bytes,
# lists of bytes, and lists of (bytes, bytes) header pairs.
_BYTES = (2,)
_BYTES_LISTS = (4, 8)
_PAIR_LISTS = (3, 7)


def _text(value: bytes) -> str:
    return value.decode("latin-1")  # every byte one character: nothing lost


def encode_entry(fields: tuple[Any, ...]) -> bytes:
    """An entry's fields as JSON (the shared seq is written in front of it)."""
    out: list[Any] = list(fields)
    for i in _BYTES:
        out[i] = _text(out[i])
    for i in _BYTES_LISTS:
        out[i] = [_text(chunk) for chunk in out[i]]
    for i in _PAIR_LISTS:
        out[i] = [[_text(k), _text(v)] for k, v in out[i]]
    return dumps(out)


def decode_entry(raw: bytes) -> tuple[Any, ...]:
    """The stored tuple (seq first) of an entry as the journal keeps it ("seq|entry")."""
    seq, _, body = raw.partition(b"|")
    fields = loads(body)
    for i in _BYTES:
        fields[i] = fields[i].encode("latin-1")
    for i in _BYTES_LISTS:
        fields[i] = [chunk.encode("latin-1") for chunk in fields[i]]
    for i in _PAIR_LISTS:
        fields[i] = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in fields[i]]
    return (int(seq), *fields)


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
    entries = [decode_entry(item) for item in raw]
    state.mock.journal.load(entries, int(seq or 0), int(total or 0), int(cleared or 0))


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
