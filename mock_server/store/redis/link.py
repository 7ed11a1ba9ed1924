"""One event loop's link to the shared store (Redis): the client, its scripts, and the
requests' writes its next round carries; and the names of the keys.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.exceptions import TimeoutError as RedisTimeoutError

from mock_server.store.redis import scripts

if sys.version_info >= (3, 11):
    from asyncio import timeout as async_timeout
else:  # redis depends on async-timeout there
    from async_timeout import timeout as async_timeout  # type: ignore[import-not-found,unused-ignore]

__all__ = ["Link", "Keys", "TIMEOUT_S"]

TIMEOUT_S = 2.0
"""The longest a Redis command may take before the request is answered 503."""


class _HiredisPacking:
    """Commands packed by hiredis (C) rather than by redis-py's asyncio connection
    (Python), as redis-py's own synchronous client does when hiredis is installed; and
    every reply waited for at most TIMEOUT_S. (The client's socket timeout is off: with
    it, each write, which does not block on a socket with room, ran in a task of its
    own; a Redis that stops answering is caught on the reply.)"""

    def pack_command(self, *args: Any) -> list[bytes]:
        if isinstance(args[0], str) and " " in args[0]:
            args = (*args[0].split(), *args[1:])  # "SCRIPT LOAD" is two words
        return [hiredis.pack_command(args)]

    async def read_response(
        self, disable_decoding: bool = False, timeout: float | None = None, **options: Any
    ) -> Any:
        read = super().read_response  # type: ignore[misc]
        if timeout is not None:
            return await read(disable_decoding, timeout, **options)
        try:
            async with async_timeout(TIMEOUT_S):
                return await read(disable_decoding, None, **options)
        except asyncio.TimeoutError:
            raise RedisTimeoutError(f"no reply within {TIMEOUT_S:g} s") from None


_PACKED: dict[type[Any], type[Any]] = {}


def _packed(connection_class: type[Any]) -> type[Any]:
    """`connection_class` packing with hiredis (one class made per connection class)."""
    found = _PACKED.get(connection_class)
    if found is None:
        name = f"Packed{connection_class.__name__}"
        found = _PACKED[connection_class] = type(name, (_HiredisPacking, connection_class), {})
    return found


class Link:
    """One event loop's client, scripts, and the work its next round carries
    (`Replica.link`; an asyncio connection, lock or future belongs to the loop it was
    made on)."""

    def __init__(self, url: str) -> None:
        self.client = client = aioredis.Redis.from_url(
            url,
            socket_timeout=None,  # replies are bounded in _HiredisPacking.read_response
            socket_connect_timeout=TIMEOUT_S,
            retry_on_timeout=False,
        )
        pool = client.connection_pool
        pool.connection_class = _packed(pool.connection_class)
        names = ("SYNC", "ROUND", "COMMIT", "SEED", "DEVICES", "RESET", "CONTROL")
        self.scripts = {name: client.register_script(getattr(scripts, name)) for name in names}
        self.scripts["JOURNAL_CLEAR"] = client.register_script(scripts.JOURNAL_CLEAR)
        self.next_round: asyncio.Future[None] | None = None  # the sync round to come
        self.running = False  # a round is under way
        # What requests wait to have written by the next round, each with its waiter:
        # journal entries (M7) and creates (reference key, event, the put).
        self.journal: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self.creates: list[tuple[tuple[str, bytes, Any], asyncio.Future[Any]]] = []


class Keys:
    """The Redis keys of one shared mock, all under its prefix (`--store-prefix`)."""

    def __init__(self, prefix: str) -> None:
        def key(name: str) -> str:
            return f"{prefix}:{name}"

        self.downlinks = key("downlinks")  # id -> "rev|[downlink, timeline]"
        self.references = key("refs")  # owner \x1f externalReference -> id (C6)
        self.devices = key("devices")  # networkId -> tags (M3)
        self.log = key("log")  # the change log (a stream)
        self.seq = key("seq")  # the change log's counter
        self.ordinal = key("ordinal")  # creation ordinals under a seeded scenario (S4)
        self.control = key("control")  # clock, scenario, faults
        self.control_version = key("control-version")
        self.scenarios = key("scenarios")  # digest -> [source, document]
        self.secret = key("cursor-secret")  # L7: one key for every process's cursors
        self.initialised = key("initialised")  # set once the fixtures are loaded
        self.journal = key("journal")  # M7: "seq|entry", oldest first
        self.journal_costs = key("journal-costs")  # each entry's cost, in the same order
        self.journal_bytes = key("journal-bytes")
        self.journal_seq = key("journal-seq")
        self.journal_cleared = key("journal-cleared")  # the seq reached at the last clear
        self.fault_ids = key("fault-ids")
        self.faults_applied = key("faults-applied")  # M8: fault id -> times applied

    def round(self) -> list[str]:
        """KEYS of the `ROUND` script (scripts.py)."""
        return [
            *self.changes(),
            self.control_version,
            self.journal,
            self.journal_costs,
            self.journal_bytes,
            self.journal_seq,
        ]

    def commit(self) -> list[str]:
        """KEYS of the `COMMIT` script (scripts.py)."""
        return [self.downlinks, self.control, self.control_version, *self.changes()[3:]]

    def changes(self) -> list[str]:
        """KEYS of the scripts that change downlinks (scripts.py)."""
        return [self.downlinks, "", "", self.references, self.log, self.seq]
