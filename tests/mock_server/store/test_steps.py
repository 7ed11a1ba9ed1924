"""Pages built in steps while the store changes between them (L3-L6, the security issue).

The soak found two ways a page held the event loop for seconds with a million stored: a
stepped page started again whenever the store changed and was built in one go after three
restarts (a steady stream of creates forces that), and a `createdAt` range sorted by
`modifiedAt` walked the whole `modifiedAt` index. These tests reproduce both as bounds on
work (downlinks looked up per step, steps to finish), never as timings, and check that a
page that followed changes is exactly the page of the store as it is when it is answered.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.domain.errors import Conflict
from mock_server.domain.model import Downlink, LogEntry, NewDownlink, Status
from mock_server.domain.timefmt import format_ms
from mock_server.store import keyset
from mock_server.store.base import Page
from mock_server.store.memory import MemoryStore
from mock_server.store.query import SORTABLE, CursorCodec, ListQuery, build_query
from mock_server.store.shards import ShardedDict
from mock_server.store.steps import page_in_steps

OWNER = "client-a"
OTHER = "client-b"
CODEC = CursorCodec()
_DAY = 86_400_000


def _downlink(i: int, created: int, modified: int, nid: str, status: Status) -> Downlink:
    return Downlink(
        id=f"{i:08x}-0000-4000-8000-000000000000",
        owner=OWNER,
        network_id=nid,
        status=status,
        created_at=created,
        modified_at=modified,
        message=f'[{{"bn":"{nid}"}},{{"n":"v","v":{i % 5}}}]',
        external_reference=f"r{i}" if i % 3 == 0 else None,
        logs=[LogEntry(created, "DOWNLINK_ACCEPTED")],
    )


def _query(limit: int, raw: dict[str, str], cursor: str | None = None) -> ListQuery:
    params: dict[str, Any] = {**raw, "limit": limit}
    if cursor is not None:
        params["cursor"] = cursor
    return build_query(params, raw, CODEC, OWNER)


def _same(a: Page, b: Page) -> bool:
    return ([d.id for d in a.items], a.has_next, a.has_prev) == (
        [d.id for d in b.items],
        b.has_next,
        b.has_prev,
    )


def _drive(
    store: MemoryStore, query: ListQuery, between: Callable[[int], None]
) -> tuple[Page, int]:
    """Build a page step by step (under the lock, as store/steps.py does), calling
    `between(step)` after each step: (the page, how many steps)."""
    steps = store.page_steps(OWNER, query)
    n = 0
    while True:
        try:
            with store.lock:
                next(steps)
        except StopIteration as done:
            return done.value, n
        n += 1
        between(n)


class _Changes:
    """Random writes between the steps: creates (behind and ahead of a walk), moves and
    log entries (re-stamps), another client's creates, device registrations, resets."""

    def __init__(self, store: MemoryStore, rng: random.Random, span: int, resets: bool) -> None:
        self.store, self.rng, self.span, self.resets = store, rng, span, resets
        self.next_id = 10_000

    def __call__(self, step: int) -> None:
        rng, store = self.rng, self.store
        if step > 60:
            # With a step of one downlink, writes at every step could outrun the walk
            # (never so with `STEP` downlinks a step): let it finish.
            return
        for _ in range(rng.randint(0, 3)):
            kind = rng.random()
            at = rng.randint(0, self.span)
            if kind < 0.35:
                nid = f"urn:dev:DEVEUI:{rng.choice(['aa', 'ab', 'zz'])}{rng.randint(0, 3)}:"
                message = rng.choice(["[]", '[{"n":"pump","vs":"on"}]', f'[{{"bn":"{nid}"}}]'])
                store.create(OWNER, NewDownlink(nid, message, None, None, 0, None, 1), at)
            elif kind < 0.75:
                live = [dl for dl in store._by_id.values() if dl.owner == OWNER]
                if not live:
                    continue
                dl = rng.choice(live)
                target = rng.choice(list(Status))
                try:
                    if rng.random() < 0.5:
                        store.transition(dl, target, at)
                    else:
                        store.append_logs(dl, [LogEntry(at, "PART_DELIVERED")], at)
                except Conflict:
                    pass
            elif kind < 0.85:
                # Another client's downlink, or one of ours seeded as M3 allows (any
                # instants; here even modified before created, which the store must
                # still page exactly).
                self.next_id += 1
                seeded = _downlink(
                    self.next_id, at, at + rng.randint(-3, 3), "urn:dev:DEVEUI:aa0:", Status.PENDING
                )
                seeded.owner = rng.choice([OWNER, OTHER])
                store.seed([seeded])
            elif kind < 0.95:
                store.register_devices(
                    [
                        (
                            f"urn:dev:DEVEUI:ab{rng.randint(0, 3)}:",
                            {"name": rng.choice(["pump", "x"])},
                        )
                    ]
                )
            elif self.resets and rng.random() < 0.2:
                store.reset()


def _random_store(rng: random.Random, n: int, span: int) -> MemoryStore:
    store = MemoryStore()
    batch = []
    for i in range(n):
        created = rng.randint(0, span)
        status = rng.choice(list(Status))
        nid = f"urn:dev:DEVEUI:{rng.choice(['aa', 'ab', 'bb'])}{i % 4}:"
        skew = -2 if rng.random() < 0.1 else 0  # a few modified before created (seeds)
        batch.append(_downlink(i, created, created + rng.randint(skew, 5), nid, status))
    store.seed(batch)
    store.register_devices([("urn:dev:DEVEUI:aa0:", {"name": "pump"})])
    return store


def _random_raw(rng: random.Random, span: int) -> dict[str, str]:
    raw: dict[str, str] = {}
    for name in ("createdSince", "createdBefore", "modifiedSince", "modifiedBefore"):
        if rng.random() < 0.3:
            raw[name] = format_ms(rng.randint(0, span))
    if rng.random() < 0.3:
        raw["q"] = rng.choice(["aa", "pump", "ab1", "DEVEUI", "zz", '"v":3'])
    fields = rng.sample(SORTABLE, rng.randint(0, 2))
    if fields:
        raw["sort"] = ",".join(("-" if rng.random() < 0.5 else "") + f for f in fields)
    return raw


@pytest.mark.rule("L6")
@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 10**9),
    n=st.integers(0, 60),
    step=st.integers(1, 7),
    select=st.booleans(),
)
def test_l6_a_page_that_followed_changes_is_the_page_of_the_store_as_answered(
    seed: int, n: int, step: int, select: bool
) -> None:
    """L3-L6: a page built across any writes between its steps has no duplicate, misses
    nothing and has `has_next`/`has_prev` right: it equals the page built in one go from
    the store as it is when the last step ran. With `select`, a page sorted by one time
    field and filtered by the other's range always selects from the range (as a large
    store makes it), so that both ways are checked."""
    rng = random.Random(seed)
    span = 20
    store = _random_store(rng, n, span)
    raw = _random_raw(rng, span)
    limit = rng.randint(1, 6)
    query = _query(limit, raw)
    # A cursor into the store as it was, forward or back (L5).
    first = store.page(OWNER, query)
    if first.items and rng.random() < 0.7:
        edge = rng.choice(first.items)
        backwards = rng.random() < 0.4
        cursor = CODEC.encode(query, OWNER, query.raw_key(edge), backwards)
        query = _query(limit, raw, cursor)
    original = keyset.STEP, keyset._index_page
    keyset.STEP = step  # a few downlinks a step: many steps, many changes between them
    if select:
        keyset._index_page = _select_at_once  # type: ignore[assignment]
    try:
        changes = _Changes(store, rng, span, resets=rng.random() < 0.2)
        page, _ = _drive(store, query, changes)
    finally:
        keyset.STEP, keyset._index_page = original
    expected = store.page(OWNER, query)
    assert _same(page, expected), (raw, query.cursor)
    assert len({d.id for d in page.items}) == len(page.items)


def _select_at_once(ctx: Any, budget: int | None) -> Any:
    """In place of `keyset._index_page`: select from the other range when there is one."""
    if budget is not None:
        return keyset._Outcome.SELECT
    return (yield from _index_page(ctx, budget))


_index_page = keyset._index_page


def _lookups(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the downlinks a page looks up (every downlink it examines is looked up)."""
    counted = [0]
    values_of = ShardedDict.values_of

    def counting(self: ShardedDict[str, Downlink], keys: Iterable[str]) -> list[Downlink]:
        found = values_of(self, keys)
        counted[0] += len(found)
        return found

    monkeypatch.setattr(ShardedDict, "values_of", counting)
    return counted


def _dataset(n: int, days: int, seed: int = 0) -> MemoryStore:
    """`n` downlinks created over `days`, each modified within two minutes of it, as the
    soak's store is filled (bench/dataset.py)."""
    rng = random.Random(seed)
    created = sorted(rng.randrange(days * _DAY) for _ in range(n))
    store = MemoryStore()
    store.seed(
        [
            _downlink(
                i, t, t + rng.randrange(120_000), f"urn:dev:DEVEUI:d{i % 50}:", Status.DELIVERED
            )
            for i, t in enumerate(created)
        ]
    )
    return store


@pytest.mark.rule("L2")
@pytest.mark.parametrize("sort", ["-modifiedAt", "modifiedAt"])
def test_l2_a_created_range_sorted_by_modified_at_examines_about_the_range(
    sort: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The soak's first stall: two days 20 days back sorted by `-modifiedAt` walked every
    downlink modified since (1.6 s at a million). Now the page costs at most about twice
    what the range holds (selecting from it), in steps of at most `STEP` lookups."""
    monkeypatch.setattr(keyset, "STEP", 256)
    store = _dataset(30_000, 30)
    raw = {
        "createdSince": format_ms(8 * _DAY),
        "createdBefore": format_ms(10 * _DAY),
        "sort": sort,
    }
    in_range = sum(1 for dl in store._by_id.values() if 8 * _DAY <= dl.created_at < 10 * _DAY)
    counted = _lookups(monkeypatch)
    per_step: list[int] = []
    before = [0]

    def between(step: int) -> None:
        per_step.append(counted[0] - before[0])
        before[0] = counted[0]

    query = _query(50, raw)
    page, _ = _drive(store, query, between)
    between(0)  # the last step's
    assert len(page.items) == 50 and page.has_next and not page.has_prev
    assert page.examined <= in_range + 51
    if sort == "modifiedAt":
        # Oldest modified first: the walk starts where the range's downlinks can have
        # been modified (not before created, T2) and soon has its page.
        assert page.examined <= 2 * 51
    assert max(per_step) <= 256
    monkeypatch.undo()
    assert _same(page, store.page(OWNER, query))


@pytest.mark.rule("L6")
def test_l6_a_page_finishes_across_a_create_at_every_step_without_starting_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The soak's second stall: a stepped page started again at every change, and after
    three it was built in one go. Now a page that changes at every step finishes in about
    as many steps as on a quiet store, each step within `STEP` lookups plus the changes,
    and is exact."""
    monkeypatch.setattr(keyset, "STEP", 256)
    store = _dataset(20_000, 30)
    raw = {"createdSince": format_ms(2 * _DAY), "sort": "networkId"}
    query = _query(100, raw)
    quiet, quiet_steps = _drive(store, query, lambda step: None)
    counted = _lookups(monkeypatch)
    per_step: list[int] = []
    now = [40 * _DAY]

    def between(step: int) -> None:
        per_step.append(counted[0])
        counted[0] = 0
        # Two creates and a move between every two steps, behind and ahead of the walk.
        for t in (now[0], 3 * _DAY + step):
            store.create(OWNER, NewDownlink("urn:dev:DEVEUI:d1:", "[]", None, None, 0, None, 1), t)
        victim = store.find(f"{step * 7:08x}-0000-4000-8000-000000000000")
        if victim is not None and not victim.status.terminal:
            store.transition(victim, Status.CANCELLED, now[0])
        now[0] += 1

    page, steps = _drive(store, query, between)
    assert steps <= quiet_steps + 2
    assert max(per_step) <= 256 + 3
    monkeypatch.undo()
    assert _same(page, store.page(OWNER, query))
    assert page.items != quiet.items or page.has_next  # the creates were seen


@pytest.mark.rule("L6")
def test_l6_page_in_steps_never_builds_in_one_go_under_a_stream_of_creates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another task creates at every turn of the loop; the page is built in steps to the
    end (the one-go `page` is never called) and is the page of the version it returns."""
    monkeypatch.setattr(keyset, "STEP", 128)
    store = _dataset(5_000, 30)
    raw = {"createdSince": format_ms(0), "createdBefore": format_ms(20 * _DAY)}
    raw["sort"] = "-modifiedAt"
    query = _query(50, raw)
    turns = 0

    async def writer() -> None:
        nonlocal turns
        while True:
            turns += 1
            new = NewDownlink("urn:dev:DEVEUI:d2:", "[]", None, None, 0, None, 1)
            store.create(OWNER, new, turns * 1000)
            await asyncio.sleep(0)

    def one_go(owner: str, q: ListQuery) -> Page:
        raise AssertionError("built in one go")

    async def run() -> tuple[Page, int, Page]:
        task = asyncio.create_task(writer())
        await asyncio.sleep(0)
        try:
            with monkeypatch.context() as m:
                m.setattr(store, "page", one_go)
                page, version = await page_in_steps(store, OWNER, query)
            assert version == store.version
            return page, version, store.page(OWNER, query)  # no await in between
        finally:
            task.cancel()

    page, _, expected = asyncio.run(run())
    assert turns > 5
    assert _same(page, expected)
    assert store._tenants[OWNER].watchers == []  # no page left being fed


@pytest.mark.rule("L6")
def test_l6_an_abandoned_page_stops_being_fed_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyset, "STEP", 256)
    store = _dataset(2_000, 30)
    steps = store.page_steps(OWNER, _query(10, {"sort": "status"}))
    next(steps)
    assert len(store._tenants[OWNER].watchers) == 1
    steps.close()
    assert store._tenants[OWNER].watchers == []


@pytest.mark.rule("L4")
def test_l4_long_pages_built_at_once_take_turns_one_step_a_turn_of_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Five long pages at once: with each running a step every turn of the loop, a turn
    would run five steps (the soak's CPU-bound lag grew with the pages in flight). They
    take turns: between two turns of a ticking task, at most two steps run (the one after
    the tick and the one before the next)."""
    monkeypatch.setattr(keyset, "STEP", 128)
    store = _dataset(3_000, 30)
    query = _query(20, {"sort": "status"})
    tick = 0
    steps_at: list[int] = []
    page_steps = store.page_steps

    def watched(owner: str, q: ListQuery) -> keyset.Steps:
        inner = page_steps(owner, q)
        while True:
            steps_at.append(tick)
            try:
                next(inner)
            except StopIteration as done:
                page: Page = done.value
                return page
            yield

    monkeypatch.setattr(store, "page_steps", watched)

    async def ticker() -> None:
        nonlocal tick
        while True:
            tick += 1
            await asyncio.sleep(0)

    async def run() -> list[tuple[Page, int]]:
        task = asyncio.create_task(ticker())
        try:
            return await asyncio.gather(*(page_in_steps(store, OWNER, query) for _ in range(5)))
        finally:
            task.cancel()

    pages = asyncio.run(run())
    per_tick: dict[int, int] = {}
    for t in steps_at:
        per_tick[t] = per_tick.get(t, 0) + 1
    assert len(steps_at) >= 5 * (3_000 // 128)  # long pages: many steps each
    assert max(per_tick.values()) <= 2 + 5 * (min(steps_at) in per_tick)  # first steps
    assert max(c for t, c in per_tick.items() if t > min(steps_at)) <= 2
    monkeypatch.undo()
    expected = store.page(OWNER, query)
    assert all(_same(page, expected) for page, _ in pages)
