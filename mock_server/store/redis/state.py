"""The shared store: the `AsyncStore` (store/base.py) of processes sharing a Redis.

Each process answers reads from its copy (store/redis/replica.py). A change is worked out
on a private copy of the one downlink it touches (store/redis/play.py) and committed by a
Lua script only if the downlink's revision is still the one the copy was made from
(store/redis/scripts.py); the script appends the change to the log in the same step, and
the process reads it back before it answers, as every other process will.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from mock_server.config import MockConfig
from mock_server.control.faults import Fault, parse_fault
from mock_server.control.journal import Journal
from mock_server.domain.errors import NotFound, ReferenceTaken
from mock_server.domain.model import Downlink, NewDownlink, Status
from mock_server.store.memory import MemoryStore
from mock_server.store.redis import journal
from mock_server.store.redis.codec import dumps, loads
from mock_server.store.redis.play import play_cancel, play_move, play_start
from mock_server.store.redis.replica import (
    ATTEMPTS,
    LOG_LENGTH,
    Own,
    Replica,
    StoreUnavailable,
    log,
    put_event,
    reference_key,
    reply,
)
from mock_server.timeline.clock import Clock
from mock_server.timeline.scenarios import Scenario

if TYPE_CHECKING:
    from mock_server.mock import Mock

__all__ = ["RedisStore"]

T = TypeVar("T")


class RedisStore(Replica):
    """The shared state's changes, as the request path makes them."""

    shared = True

    def __init__(self, mock: Mock, config: MockConfig) -> None:
        super().__init__(mock, config)

    # -- changes from requests ------------------------------------------------------------

    async def _change(self, work: Callable[[], Awaitable[T]]) -> T:
        async with self.reaching():
            result = await work()
        await self.sync()
        return result

    async def _commit(self, args: list[Any], event: bytes, own: Own) -> Any:
        """Run the `COMMIT` script with `args` and `event` (the put of `own`); a logged
        change is applied to this process's copy before this returns. The script's
        answer."""
        async with self.reaching():
            result = await self._script("COMMIT", self.keys.commit(), [*args, event])
        if isinstance(result, list):
            await self.adopt_commit(result, event, own)
        return result

    async def create(self, owner: str, new: NewDownlink, now: int) -> Downlink:
        """C6, C7: store a new downlink; ReferenceTaken (409) when the client holds its
        externalReference already, whichever process stored that."""
        store = self.mirror
        store.reserve_check(owner, new.external_reference)
        dl = MemoryStore.build(owner, new, now)
        engine = self.mock.progressions

        scenario = engine.scenario
        ordinal = None
        if scenario.seed is not None:
            async with self.reaching() as r:
                ordinal = int(await reply(r.incr(self.keys.ordinal))) - 1
        timeline = play_start(dl, scenario, ordinal)
        if timeline is not None:
            timeline["scenario"] = self.scenario_digest
        event = put_event(dl, timeline, 1)
        reference = reference_key(owner, new.external_reference)
        own: Own = (dl.id, 1, dl, timeline)
        result = await self.carry(self.link().creates, (reference, event, own))
        if result == -1:
            await self.sync()
            store.reserve_check(owner, new.external_reference)  # the usual message
            raise ReferenceTaken(
                f"externalReference {new.external_reference!r} is already used by "
                "another downlink of this client"
            )
        return store.find(dl.id) or dl

    async def _rework(self, downlink_id: str, make: Callable[[Downlink], Downlink]) -> Downlink:
        """Commit `make(stored downlink)`, its timeline kept, working it out again while
        another process changes the downlink first, the clock is set, or the downlink's
        next timed move falls due (scripts.py `COMMIT`)."""
        mock = self.mock
        for _ in range(ATTEMPTS):
            self.fire_due()  # the downlink as its timeline has moved it by now (T3)
            dl = mock.store.find(downlink_id)
            if dl is None:
                raise NotFound(f"no downlink with id {downlink_id!r}")
            changed = make(dl)
            timeline = mock.progressions.export(downlink_id)
            next_due: int | str = ""
            if timeline is not None:
                timeline["scenario"] = self._timeline_scenario.get(downlink_id, "")
                timed = [at for at in (timeline["timer"], timeline["deadline"]) if at is not None]
                next_due = min(timed, default="")
            rev = self._revs.get(downlink_id, 0)
            event = put_event(changed, timeline, rev + 1)
            own = (downlink_id, rev + 1, changed, timeline)
            args = [LOG_LENGTH, downlink_id, rev, self._control_version or b"", next_due]
            done = await self._commit(args, event, own)
            if done:
                return mock.store.find(downlink_id) or changed
            await self.sync()  # another process changed it first: work it out again
        raise StoreUnavailable(
            f"downlink {downlink_id!r} changed {ATTEMPTS} times while this change was made; "
            "try again",
            headers={"Retry-After": "1"},
        )

    async def cancel(self, owner: str, downlink_id: str, forced: bool, at: int) -> Downlink:
        """X1-X4 on the shared state: NotFound, or NotCancellable (409)."""
        self.mock.store.get(owner, downlink_id)  # A5: NotFound for another client's
        return await self._rework(downlink_id, lambda dl: play_cancel(dl, forced, at))

    async def move(
        self, downlink_id: str, target: Status, at: int, error_code: str | None = None
    ) -> Downlink:
        """M4 on the shared state: NotFound, or IllegalMove (409)."""
        return await self._rework(downlink_id, lambda dl: play_move(dl, target, at, error_code))

    async def seed(self, downlinks: list[Downlink]) -> None:
        """M3 on the shared state, all or nothing: Conflict when an id or a reference of
        a record is taken already (by any process's change)."""
        await self._change(lambda: self._seed(self._redis(), downlinks))

    async def register_devices(self, devices: list[tuple[str, dict[str, str]]]) -> None:
        """M3: register (replace) device tags for every process."""
        await self._change(lambda: self._devices(self._redis(), devices))

    async def reset(self) -> None:
        """M2 for every process: everything emptied, the clock and the scenario back to
        how this process was started, its fixtures loaded again."""
        mock = self.mock

        async def work() -> None:
            r = self._redis()
            keys = self.keys
            digest = await self._share_scenario(r, self._configured)
            fresh = Clock(mock.config.clock_mode, mock.config.clock_start, mock.config.speed)
            await self._script(
                "RESET",
                [
                    keys.downlinks,
                    "",
                    "",
                    keys.references,
                    keys.log,
                    keys.seq,
                    keys.devices,
                    keys.ordinal,
                    keys.control,
                    keys.control_version,
                    keys.journal,
                    keys.journal_bytes,
                    keys.faults_applied,
                    keys.journal_costs,
                    keys.journal_cleared,
                    keys.journal_seq,
                ],
                [LOG_LENGTH, dumps(["reset", "@SEQ@"]), dumps(fresh.state()), digest],
            )
            await self._load_fixtures(r)

        await self._change(work)

    async def set_control(self, field: str, value: bytes) -> None:
        """Change one part of the control state (clock, scenario, faults) for every process."""

        async def work() -> None:
            await self._script(
                "CONTROL", [self.keys.control, self.keys.control_version], ["", field, value]
            )

        await self._change(work)

    async def change_clock(self, change: Callable[[Clock], object]) -> None:
        """M5 for every process: `change` is made to a copy of the shared clock (so its
        refusals are the clock's own), then that clock is shared and what fell due fires."""
        mock = self.mock
        for _ in range(ATTEMPTS):
            await self.sync()
            copy = Clock(mock.clock.mode, mock.clock.start, mock.clock.speed)
            copy.adopt(mock.clock.state())
            change(copy)
            async with self.reaching():
                done = await self._script(
                    "CONTROL",
                    [self.keys.control, self.keys.control_version],
                    [self._control_version or b"0", "clock", dumps(copy.state())],
                )
            if done:
                await self.sync()
                return
        raise StoreUnavailable("the clock changed under this change too often; try again")

    async def use_scenario(self, scenario: Scenario) -> None:
        """M6 for every process: new downlinks get `scenario`."""
        async with self.reaching() as r:
            digest = await self._share_scenario(r, scenario)
        await self.set_control("scenario", digest.encode())

    # -- faults (M8) ------------------------------------------------------------------

    async def _faults_changed(self, change: Callable[[list[list[Any]]], list[list[Any]]]) -> None:
        for _ in range(ATTEMPTS):
            async with self.reaching() as r:
                pipe = r.pipeline(transaction=True)
                pipe.get(self.keys.control_version)
                pipe.hget(self.keys.control, "faults")
                version, raw = await pipe.execute()
                defined = change(loads(raw or b"[]"))
                done = await self._script(
                    "CONTROL",
                    [self.keys.control, self.keys.control_version],
                    [version or b"0", "faults", dumps(defined)],
                )
            if done:
                await self.sync()
                return
        raise StoreUnavailable("the faults changed under this change too often; try again")

    async def add_fault(self, body: dict[str, Any]) -> Fault:
        """M8: arm a fault for every process; the fault as this process holds it."""
        parse_fault(body)  # a bad one is refused before anything is shared
        async with self.reaching() as r:
            fault_id = f"f{await reply(r.incr(self.keys.fault_ids))}"
        await self._faults_changed(lambda defined: [*defined, [fault_id, body]])
        return next(f for f in self.mock.faults.list() if f.id == fault_id)

    async def remove_faults(self, fault_id: str | None = None) -> None:
        """M8: remove every fault, or one (NotFound when no fault has that id)."""
        await self.sync()
        if fault_id is not None and all(f.id != fault_id for f in self.mock.faults.list()):
            raise NotFound(f"no fault with id {fault_id!r}")
        await self._faults_changed(
            lambda defined: [] if fault_id is None else [d for d in defined if d[0] != fault_id]
        )

    async def claim_fault(self, fault: Fault) -> bool:
        """Count one application of `fault` across processes: False once it has been
        applied its `times` already."""
        if fault.times is None:
            return True
        async with self.reaching() as r:
            applied = int(await reply(r.hincrby(self.keys.faults_applied, fault.id, 1)))
        fault.applied = max(fault.applied, applied)
        return fault.times is None or applied <= fault.times

    # -- the journal (M7) ---------------------------------------------------------------

    async def record(self, fields: tuple[Any, ...]) -> None:
        """Journal one exchange; a store that cannot be reached loses the entry, with a
        warning, rather than the answer."""
        if not self.mock.journal.size:
            return  # the journal is off
        try:
            await self.carry(self.link().journal, fields)
        except StoreUnavailable as exc:
            log.warning("an exchange was not journaled: %s", exc.detail)

    async def read_journal(self, newest: int | None = None) -> Journal:
        await journal.refresh(self, newest)
        return self.mock.journal

    async def clear_journal(self) -> None:
        await journal.clear(self)
