"""The request journal (M7) of every process sharing a store, kept in Redis.

Each process appends the exchanges it answered (as the memory journal keeps them, with
its byte budgets); a read gets every process's, oldest first, into the process's own
`Journal`, whose filters and rendering then answer as for one process.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from mock_server.store.redis.codec import dumps, loads

if TYPE_CHECKING:
    from mock_server.store.redis.state import RedisStore

__all__ = ["Appender", "refresh", "clear", "encode_entry", "decode_entry", "BATCH"]

BATCH = 64
"""Entries one round trip carries at most."""

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


class Appender:
    """Appends exchanges to the shared journal, several in one round trip when several
    requests finish at once: each waits for the write that carries its entry, so its
    answer leaves only once the entry is in Redis (a reader in another process finds it).
    """

    def __init__(self, state: RedisStore) -> None:
        self.state = state

    async def append(self, fields: tuple[Any, ...]) -> None:
        """Append one exchange (the oldest go past the journal's budgets)."""
        link = self.state.link()  # the waiting and the writing stay on one loop
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        link.pending.append((fields, done))
        if not link.writing:
            link.writing = True
            loop.create_task(self._write(link))
        await done

    async def _write(self, link: Any) -> None:
        try:
            while link.pending:
                batch, link.pending = link.pending[:BATCH], link.pending[BATCH:]
                error: BaseException | None = None
                try:
                    await self._send([fields for fields, _ in batch])
                except Exception as exc:  # each waiting request gets it (a 503)
                    error = exc
                for _, done in batch:
                    if done.done():
                        continue
                    if error is None:
                        done.set_result(None)
                    else:
                        done.set_exception(error)
        finally:
            link.writing = False

    async def _send(self, entries: list[tuple[Any, ...]]) -> None:
        state = self.state
        journal, keys = state.mock.journal, state.keys
        args: list[Any] = [journal.size, journal.total_bytes]
        for fields in entries:
            args += [fields[-1], encode_entry(fields)]
        async with state.reaching():
            await state.run_script(
                "JOURNAL",
                [keys.journal, keys.journal_costs, keys.journal_bytes, keys.journal_seq],
                args,
            )


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
