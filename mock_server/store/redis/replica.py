"""The shared store's copy in each process, kept in step with Redis (docs/shared-mock.md).

Each process keeps a whole copy of the state in its own memory (a `MemoryStore`, the
progressions, the clock), so reads, filters, sorts and pages are answered exactly as by
one process, by the same code. Redis holds the truth:

- every downlink as of its last committed change, with its timeline and a revision, in
  one hash, and the references (C6), the device registry, the control state (clock,
  scenario, faults) and the journal;
- a change log (a stream) of every change, numbered by one counter.

A request's change (a create, a cancel, an M4 move) is worked out on a private copy of the
one downlink it touches (store/redis/play.py) and committed by a Lua script only if the
downlink's revision is still the one the copy was made from (store/redis/scripts.py); the
script appends the change to the log in the same step. Before each request is answered the
process applies the log's new changes and fires the moves of its timelines that have
fallen due (T3), in rounds: one script call reads the changes and writes what the
requests are waiting on (journal entries, creates). A timeline's moves are played by every
process on its own copy, alike, and never committed; a cancel racing one is refused when
the move fell due first (`COMMIT`). So a page walk may hop between processes, and every
process shows one history.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import weakref
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from mock_server.config import MockConfig, masked_store
from mock_server.domain.errors import Conflict
from mock_server.domain.model import Downlink
from mock_server.http.problems import StoreUnavailable
from mock_server.store.memory import MemoryStore
from mock_server.store.query import CursorCodec
from mock_server.store.redis.codec import dump_downlink, dumps, load_downlink, loads
from mock_server.store.redis.journal import encode_entry
from mock_server.store.redis.link import Keys, Link
from mock_server.timeline.scenarios import Scenario, parse_scenario

if TYPE_CHECKING:
    from mock_server.mock import Mock

__all__ = [
    "Replica",
    "Keys",
    "Link",
    "scenario_digest",
    "reply",
    "put_event",
    "stored_value",
    "parse_stored",
    "reference_key",
    "StoreUnavailable",
]

log = logging.getLogger("mock_server.store.redis")

T = TypeVar("T")


async def reply(result: Awaitable[T] | T) -> T:
    """A redis-py asyncio command's reply (its types allow the sync client's too)."""
    return await cast(Awaitable[T], result)


LOG_LENGTH = 100_000
"""Changes the log keeps (about): a process further behind than this reloads everything."""
READ_BATCH = 2_000
"""Changes read from the log in one round trip."""
ATTEMPTS = 8
"""How often a change is worked out again when another process changed the downlink first."""
JOURNAL_BATCH = 64
"""Journal entries one round carries at most."""
CREATE_BATCH = 64
"""Creates one round carries at most."""


def scenario_digest(source: str, document: Any) -> str:
    """The name under which a scenario is shared: a digest of what it was loaded from."""
    return hashlib.sha256(dumps([source, document])).hexdigest()[:32]


Own = tuple[str, int, Downlink, "dict[str, Any] | None"]
"""A put this process commits: downlink id, new revision, the downlink, its timeline."""


def put_event(dl: Downlink, timeline: dict[str, Any] | None, rev: int) -> bytes:
    """The log's event for `dl` at revision `rev` with its timeline, whole; what Redis
    stores for the downlink too (behind its revision), so it is encoded once."""
    return dumps(["put", "@SEQ@", dl.id, rev, dump_downlink(dl), timeline])


def stored_value(dl: Downlink, timeline: dict[str, Any] | None, rev: int) -> bytes:
    return b"%d|" % rev + put_event(dl, timeline, rev)


def parse_stored(raw: bytes) -> tuple[int, Downlink, dict[str, Any] | None]:
    rev, _, rest = raw.partition(b"|")
    event = loads(rest)
    return int(rev), load_downlink(event[4]), event[5]


def reference_key(owner: str, reference: str | None) -> str:
    return "" if reference is None else f"{owner}\x1f{reference}"


class Replica:
    """One process's copy of the shared state: loaded from Redis, kept current from its
    change log (`sync`), and the due moves it sees fired (T3)."""

    def __init__(self, mock: Mock, config: MockConfig) -> None:
        self.mock = mock
        assert isinstance(mock.store, MemoryStore)  # the copy of the state is in memory
        self.mirror: MemoryStore = mock.store
        self.url = config.store
        self.name = masked_store(config.store)
        self.keys = Keys(config.store_prefix)
        # One link to Redis per event loop: an asyncio connection, lock or future belongs
        # to the loop it was made on (a server has one loop; tests may run several).
        self._links: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Link] = (
            weakref.WeakKeyDictionary()
        )
        self._last_link: tuple[weakref.ref[asyncio.AbstractEventLoop], Link] | None = None
        self._ready = False
        self._seq = 0  # the last change applied
        self._last_id = b"0-0"  # its id in the log
        self._control_version: bytes | None = None
        self._revs: dict[str, int] = {}
        self._timeline_scenario: dict[str, str] = {}  # downlink id -> scenario digest
        self._scenarios: dict[str, Scenario] = {}
        self.scenario_digest = ""
        self._configured = mock.progressions.configured

    # -- connection and errors -----------------------------------------------------

    def link(self) -> Link:
        """This event loop's link to Redis."""
        loop = asyncio.get_running_loop()
        last = self._last_link
        if last is not None and last[0]() is loop:
            return last[1]  # a server has one loop: the lookup is done once
        found = self._links.get(loop)
        if found is None:
            found = self._links[loop] = Link(self.url)
        self._last_link = (weakref.ref(loop), found)
        return found

    def _redis(self) -> aioredis.Redis:
        return self.link().client

    @asynccontextmanager
    async def reaching(self) -> AsyncIterator[aioredis.Redis]:
        """The client, with every Redis failure turned into a 503 naming the store."""
        try:
            yield self._redis()
        except RedisError as exc:
            raise StoreUnavailable(
                f"the shared store {self.name} cannot be reached ({exc.__class__.__name__}: "
                f"{exc}); try again once it is back",
                headers={"Retry-After": "1"},
            ) from None

    async def _script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        return await self.link().scripts[name](keys=keys, args=args)

    async def run_script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        """Run one of the scripts of store/redis/scripts.py (inside `reaching`)."""
        self._redis()
        return await self._script(name, keys, args)

    # -- keeping up ----------------------------------------------------------------

    async def sync(self) -> None:
        """Apply every change committed before this call, then fire what fell due (T3).

        Concurrent calls share the work, in rounds: a call waits for the next round to
        begin and end (one that began before the call may have missed a change), and all
        calls made meanwhile wait for that same round. A round that fails (Redis away or
        too slow: each command has a timeout) fails all of them, with a 503."""
        link = self.link()
        ahead = link.next_round
        if ahead is None:
            ahead = link.next_round = asyncio.get_running_loop().create_future()
        self._start_rounds(link)
        await ahead

    async def carry(self, queue: list[tuple[Any, asyncio.Future[Any]]], item: Any) -> Any:
        """Have the next round write `item`, a journal entry or a create, queued on
        `queue` (this loop's `Link.journal` or `Link.creates`); what the round's script
        answered for it. The round's failure is raised here too (a 503)."""
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        queue.append((item, done))
        self._start_rounds(self.link())
        return await done

    def _start_rounds(self, link: Link) -> None:
        if not link.running:
            link.running = True
            asyncio.get_running_loop().create_task(self._rounds(link))

    async def _rounds(self, link: Link) -> None:
        try:
            while link.next_round is not None or link.journal or link.creates:
                # The requests the last round answered go on to their next write (a
                # create, a journal entry) first, so that this round carries it too.
                await asyncio.sleep(0)
                now, link.next_round = link.next_round, None
                journal, link.journal = link.journal[:JOURNAL_BATCH], link.journal[JOURNAL_BATCH:]
                creates, link.creates = link.creates[:CREATE_BATCH], link.creates[CREATE_BATCH:]
                try:
                    async with self.reaching():
                        await self._round(journal, creates)
                except BaseException as exc:  # each waiting request gets it
                    waiting = [done for _, done in journal] + [done for _, done in creates]
                    for done in waiting if now is None else [now, *waiting]:
                        if not done.done():
                            done.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                else:
                    if now is not None and not now.done():
                        now.set_result(None)
        finally:
            link.running = False

    async def _round(
        self,
        journal: list[tuple[tuple[Any, ...], asyncio.Future[Any]]],
        creates: list[tuple[tuple[str, bytes, Own], asyncio.Future[Any]]],
    ) -> None:
        """One round trip, as a rule: read the changes since the last one applied and
        write the waiting journal entries and creates; then fire what is due (T3)."""
        r = self._redis()
        if not self._ready:
            await self._load(r)
        mock = self.mock
        args: list[Any] = [
            LOG_LENGTH,
            self._last_id,
            READ_BATCH,
            mock.journal.size,
            mock.journal.total_bytes,
            len(journal),
        ]
        for fields, _ in journal:
            args += [fields[-1], encode_entry(fields)]
        args.append(len(creates))
        for (reference, event, own), _ in creates:
            args += [own[0], reference, event]
        asked_at = self._seq
        seq, control_version, read, created = await self._script("ROUND", self.keys.round(), args)
        for _, done in journal:
            if not done.done():
                done.set_result(None)
        # The script read the changes before writing: they all come before this round's.
        more = await self._take(r, asked_at, seq, control_version, read)
        if not self.adopt_many(created, [own for (_, _, own), _ in creates]) or more:
            await self._catch_up(r)
        for (_, done), result in zip(creates, created, strict=True):
            if not done.done():
                done.set_result(result)
        self.fire_due()

    def fire_due(self) -> None:
        """Fire every move due by now on this process's copy, each at its own instant
        (T3), as the memory store does. Every process plays each timeline alike (its
        draws are a function of its key, store/redis/play.py) from the state and timeline
        of the downlink's last committed change, so none of these moves is committed:
        a cancel or M4 move commits the downlink as its timeline left it."""
        with self.mirror.lock:
            self.mock.clock.run_due()

    async def adopt_commit(self, result: Any, event: bytes, own: Own | None = None) -> None:
        """Apply this process's own committed change (`result`: the script's
        [seq, log id]; `event`: as sent; `own`: the objects it was made of, for a put):
        at once when it is the next change, else by reading the log up to it. (Changes
        are applied by sequence number, each once, so this may run beside a round: the
        one that comes second skips what is applied.)"""
        seq, entry_id = int(result[0]), result[1]
        if own is not None and self._apply_own(seq, entry_id, own):
            return
        if seq == self._seq + 1 and self._ready:
            fields = {b"e": event, b"s": b"%d" % seq}
            async with self.reaching():
                if await self._apply(self._redis(), [(entry_id, fields)]):
                    return
        await self.sync()

    async def catch_up(self) -> None:
        """Apply every change committed before this call, firing nothing (a reader of the
        journal or the faults must not make moves fall due)."""
        if not self._ready:
            await self.sync()
            return
        async with self.reaching():
            await self._catch_up(self._redis())

    async def _catch_up(self, r: aioredis.Redis) -> None:
        while True:
            # This process's own commits may be applied while the answer is on its way
            # (adopt_commit): the counter is compared with what was applied when asking.
            asked_at = self._seq
            seq, control_version, read = await self._script(
                "SYNC",
                [self.keys.seq, self.keys.control_version, self.keys.log],
                [self._last_id, READ_BATCH],
            )
            if not await self._take(r, asked_at, seq, control_version, read):
                return

    async def _take(
        self, r: aioredis.Redis, asked_at: int, seq: Any, control_version: Any, read: Any
    ) -> bool:
        """Apply what a `SYNC` (or `ROUND`) read: the log's counter, the control state's
        version and the changes after the last one applied when `asked_at` was. True when
        there may be more to read."""
        if int(seq or 0) < asked_at:
            await self._load(r)  # the store lost what it had (a Redis restarted empty)
            return True
        # As XREAD gives them: (id, {field: value}).
        entries = [(entry_id, dict(zip(f[::2], f[1::2], strict=True))) for entry_id, f in read]
        if entries and not await self._apply(r, entries):
            await self._load(r)  # a gap: changes were trimmed before this process read them
            return True
        if (control_version or None) != self._control_version:
            await self._load_control(r)
        return len(entries) >= READ_BATCH

    async def _apply(self, r: aioredis.Redis, entries: list[Any]) -> bool:
        events = [loads(fields[b"e"]) for _, fields in entries]
        for (_, fields), ev in zip(entries, events, strict=True):
            ev[1] = int(fields[b"s"])  # the sequence number, written beside the event
        wanted = {
            ev[5]["scenario"]
            for ev in events
            if ev[0] == "put" and ev[5] is not None and ev[5]["scenario"] not in self._scenarios
        }
        await self._fetch_scenarios(r, wanted)
        store = self.mirror
        with store.lock:  # loops on other threads (tests) apply the same log
            return self._apply_events(entries, events)

    def _apply_events(self, entries: list[Any], events: list[Any]) -> bool:
        store = self.mirror
        for (entry_id, _), ev in zip(entries, events, strict=True):
            kind, seq = ev[0], ev[1]
            if seq <= self._seq:
                continue
            if seq != self._seq + 1:
                return False
            if kind == "put":
                self._put(ev[2], ev[3], load_downlink(ev[4]), ev[5])
            elif kind == "seed":
                for data in ev[2]:
                    if data[0] not in self._revs:
                        self._revs[data[0]] = 1
                        store.put(load_downlink(data))
            elif kind == "devices":
                store.register_devices([(nid, tags) for nid, tags in ev[2]])
            elif kind == "reset":
                self._forget_all()
            self._seq = seq
            self._last_id = entry_id
        return True

    def _apply_own(self, seq: int, entry_id: Any, own: Own) -> bool:
        """Apply this process's own put from the objects it was made of (nothing to
        parse): only when it is the next change and its scenario is known here."""
        downlink_id, rev, dl, timeline = own
        if seq != self._seq + 1 or not self._ready:
            return False
        if timeline is not None and timeline["scenario"] not in self._scenarios:
            return False
        with self.mirror.lock:
            self._put(downlink_id, rev, dl, timeline)
            self._seq = seq
            self._last_id = entry_id
        return True

    def _put(self, downlink_id: str, rev: int, dl: Downlink, timeline: Any) -> None:
        if rev <= self._revs.get(downlink_id, 0):
            return  # this process has that revision or a later one already
        self._revs[downlink_id] = rev
        stored = self.mirror.put(dl)
        engine = self.mock.progressions
        if timeline is None:
            engine.forget(downlink_id)
            self._timeline_scenario.pop(downlink_id, None)
            return
        digest = timeline["scenario"]
        scenario = self._scenarios.get(digest)
        if scenario is None:
            engine.forget(downlink_id)  # never: its scenario is fetched before applying
            return
        self._timeline_scenario[downlink_id] = digest
        engine.adopt(stored, timeline, scenario)

    def _forget_all(self) -> None:
        mock = self.mock
        with mock.store.lock:
            mock.clock.reset()  # drops every timer; the control state sets the time again
            mock.store.reset()
            mock.progressions.reset()
            self._revs.clear()
            self._timeline_scenario.clear()
            self.scenario_digest = ""  # the control state names the scenario again

    async def _load(self, r: aioredis.Redis) -> None:
        """Everything from Redis, from scratch (at start, or after falling behind)."""
        keys = self.keys
        self._ready = False
        secret = os.urandom(32)
        await reply(r.set(keys.secret, secret, nx=True))
        self.mock.cursors = CursorCodec(await reply(r.get(keys.secret)))
        if await reply(r.set(keys.initialised, b"1", nx=True)):
            await self._initialise(r)
        # Everything is read first (the changes made meanwhile come after `seq` in the log,
        # and applying one twice does nothing), then put in place in one step: no request
        # ever sees the copy half loaded.
        pipe = r.pipeline(transaction=True)
        pipe.get(keys.seq)
        pipe.xrevrange(keys.log, count=1)
        seq, last = await pipe.execute()
        control = await self._read_control(r)
        devices = await reply(r.hgetall(keys.devices))
        digests: set[str] = set()
        rows: list[tuple[str, int, Downlink, Any]] = []
        async for key, raw in r.hscan_iter(keys.downlinks, count=1000):
            rev, dl, timeline = parse_stored(raw)
            rows.append((key.decode(), rev, dl, timeline))
            if timeline is not None:
                digests.add(timeline["scenario"])
            if len(rows) % 10_000 == 0:
                await asyncio.sleep(0)
        await self._fetch_scenarios(r, digests - set(self._scenarios))
        with self.mirror.lock:
            self._forget_all()
            self._seq = int(seq or 0)
            self._last_id = last[0][0] if last else b"0-0"
            self._adopt_control(control)
            self.mirror.register_devices(
                [(nid.decode(), loads(tags)) for nid, tags in devices.items()]
            )
            for downlink_id, rev, dl, timeline in rows:
                self._put(downlink_id, rev, dl, timeline)
            self._ready = True

    async def _initialise(self, r: aioredis.Redis) -> None:
        """The first process on an empty store sets the clock and scenario it was given
        and loads its fixtures."""
        self.scenario_digest = await self._share_scenario(r, self._configured)
        control = self.mock.clock.state()
        await self._script(
            "CONTROL",
            [self.keys.control, self.keys.control_version],
            ["", "clock", dumps(control), "scenario", self.scenario_digest, "faults", b"[]"],
        )
        await self._load_fixtures(r)

    async def _load_fixtures(self, r: aioredis.Redis) -> None:
        now = self.mock.clock.now()
        for fixture in self.mock.fixtures:
            devices, downlinks = fixture.prepare(now)
            if devices:
                await self._devices(r, devices)
            if downlinks:
                await self._seed(r, downlinks)

    async def _fetch_scenarios(self, r: aioredis.Redis, digests: set[str]) -> None:
        for digest in digests:
            raw = await reply(r.hget(self.keys.scenarios, digest))
            if raw is None:
                continue
            source, document = loads(raw)
            self._scenarios[digest] = parse_scenario(document, source)

    async def _share_scenario(self, r: aioredis.Redis, scenario: Scenario) -> str:
        digest = scenario_digest(scenario.source, scenario.document)
        shared = dumps([scenario.source, scenario.document])
        await reply(r.hset(self.keys.scenarios, digest, shared))  # type: ignore[arg-type]
        self._scenarios[digest] = scenario
        return digest

    async def _load_control(self, r: aioredis.Redis) -> None:
        self._adopt_control(await self._read_control(r))

    async def _read_control(self, r: aioredis.Redis) -> tuple[Any, dict[bytes, bytes], Any]:
        """The control state (its version, the clock, scenario and faults, the faults'
        counts), with the scenario it names fetched."""
        pipe = r.pipeline(transaction=True)
        pipe.get(self.keys.control_version)
        pipe.hgetall(self.keys.control)
        pipe.hgetall(self.keys.faults_applied)
        version, control, applied = await pipe.execute()
        digest = control.get(b"scenario", b"").decode()
        if digest:
            await self._fetch_scenarios(r, {digest} - set(self._scenarios))
        return version, control, applied

    def _adopt_control(self, read: tuple[Any, dict[bytes, bytes], Any]) -> None:
        version, control, applied = read
        mock = self.mock
        if b"clock" in control:
            mock.clock.adopt(loads(control[b"clock"]))
        digest = control.get(b"scenario", b"").decode()
        scenario = self._scenarios.get(digest)
        if digest != self.scenario_digest and scenario is not None:
            mock.progressions.use(scenario)
            self.scenario_digest = digest
        if b"faults" in control:
            counts = {k.decode(): int(v) for k, v in applied.items()}
            mock.faults.share(loads(control[b"faults"]), counts)
        self._control_version = version

    # -- due moves (T3) ----------------------------------------------------------------

    def adopt_many(self, results: Sequence[Any], owns: Sequence[Own]) -> bool:
        """Apply this process's commits of one script (`results`: what the script answered
        for each of `owns`, [seq, log id] when it was logged; the others were refused)
        without reading them back: False when another change came between (the log must
        be read up to them)."""
        mine = sorted(
            (
                (int(result[0]), result[1], own)
                for result, own in zip(results, owns, strict=True)
                if isinstance(result, list)
            ),
            key=lambda item: item[0],
        )
        return all(self._apply_own(seq, entry_id, own) for seq, entry_id, own in mine)

    async def _seed(self, r: aioredis.Redis, downlinks: list[Downlink]) -> None:
        args: list[Any] = [
            LOG_LENGTH,
            dumps(["seed", "@SEQ@", [dump_downlink(d) for d in downlinks]]),
        ]
        args.append(len(downlinks))
        for dl in downlinks:
            args += [
                dl.id,
                reference_key(dl.owner, dl.external_reference),
                stored_value(dl, None, 1),
            ]
        result = await self._script("SEED", self.keys.changes(), args)
        if result == -1:
            raise Conflict("a record's id is taken already; nothing changed")
        if result == -2:
            raise Conflict("a record's externalReference is taken already; nothing changed")

    async def _devices(self, r: aioredis.Redis, devices: list[tuple[str, dict[str, str]]]) -> None:
        keys = self.keys
        args: list[Any] = [LOG_LENGTH, dumps(["devices", "@SEQ@", devices]), len(devices)]
        for nid, tags in devices:
            args += [nid, dumps(tags)]
        await self._script("DEVICES", [keys.devices, "", "", "", keys.log, keys.seq], args)
