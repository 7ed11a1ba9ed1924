"""`q` served by the per-client device index, and long scans built in steps (L1, L4, L6).

Speed is measured in bench/; these tests check the mechanism: how many downlinks a page
examines (`Page.examined`), and that a long scan yields between bounded steps.
"""

from __future__ import annotations

import asyncio

import pytest

from mock_server.domain.model import Downlink, LogEntry, NewDownlink, Status
from mock_server.store import keyset
from mock_server.store.base import Page
from mock_server.store.memory import MemoryStore
from mock_server.store.query import CursorCodec, ListQuery, build_query
from mock_server.store.steps import page_in_steps

OWNER = "client-a"
CODEC = CursorCodec()


def _nid(d: int) -> str:
    return f"urn:dev:DEVEUI:dev-{d}:"


def _store(devices: int, per_device: int, *, extra: list[Downlink] = ()) -> MemoryStore:  # type: ignore[assignment]
    store = MemoryStore()
    batch = []
    i = 0
    for k in range(per_device):
        for d in range(devices):
            nid = _nid(d)
            batch.append(
                Downlink(
                    id=f"{i:08x}-0000-4000-8000-000000000000",
                    owner=OWNER,
                    network_id=nid,
                    status=Status.PENDING,
                    created_at=1000 + i,
                    modified_at=1000 + i + k % 7,
                    message=f'[{{"bn":"{nid}"}},{{"n":"dim","v":{k % 5}}}]',
                    logs=[LogEntry(1000 + i, "DOWNLINK_ACCEPTED")],
                )
            )
            i += 1
    store.seed([*batch, *extra])
    store.register_devices([(_nid(d), {"name": f"lamp-{d}"}) for d in range(devices)])
    return store


def _query(limit: int = 50, **raw: str) -> ListQuery:
    return build_query({**raw, "limit": limit}, raw, CODEC, OWNER)


def _oracle(store: MemoryStore, query: ListQuery) -> list[Downlink]:
    """Every match of `query` by brute force, in its order (L1, L4)."""
    q = query.q
    assert q is not None
    found = [
        dl
        for dl in store._by_id.values()
        if q in store.tags(dl.network_id).values() or q in dl.network_id or q in dl.message
    ]
    return sorted(found, key=query.key())


@pytest.mark.rule("L1")
@pytest.mark.parametrize("q", [_nid(3), "lamp-3"])
def test_l1_q_naming_one_device_examines_a_page_not_the_store(q: str) -> None:
    """The performance issue: `q` equal to a networkId or a tag value examines what the
    page needs, the same at 20,000 stored as at 200."""
    examined = []
    for per_device in (10, 500):
        store = _store(20, per_device)
        page = store.page(OWNER, _query(q=q, limit=5))
        assert len(page.items) == 5 and page.has_next
        assert all(dl.network_id == _nid(3) for dl in page.items)
        examined.append(page.examined)
    assert examined[0] == examined[1] <= 6  # limit + 1


@pytest.mark.rule("L1")
def test_l1_q_with_a_descending_sort_and_cursors_stays_bounded() -> None:
    store = _store(20, 300)
    query = _query(q=_nid(3), sort="-createdAt", limit=5)
    page = store.page(OWNER, query)
    assert page.examined <= 6
    cursor = CODEC.encode(query, OWNER, query.raw_key(page.items[-1]), False)
    raw = {"q": _nid(3), "sort": "-createdAt"}
    second = store.page(
        OWNER, build_query({**raw, "limit": 5, "cursor": cursor}, raw, CODEC, OWNER)
    )
    assert second.has_prev and second.has_next
    assert second.examined <= 7  # limit + 1, and one for `prev`
    assert [dl.created_at for dl in second.items] == sorted(
        (dl.created_at for dl in second.items), reverse=True
    )


@pytest.mark.rule("L1")
def test_l1_q_also_matches_longer_network_ids_and_messages_of_other_devices() -> None:
    """`q` equal to dev-1's networkId prefix also matches dev-10..dev-19 (partial), and a
    message of another device that names it: the index narrows, it never loses a match."""
    mention = Downlink(
        id="ffffffff-0000-4000-8000-000000000000",
        owner=OWNER,
        network_id="urn:dev:IMEI:350000000000001:",
        status=Status.PENDING,
        created_at=5,
        modified_at=5,
        message='[{"bn":"urn:dev:IMEI:350000000000001:"},{"n":"peer","vs":"dev-1"}]',
    )
    store = _store(20, 3, extra=[mention])
    for q in ("dev-1", "dev-1:", "lamp-1", '"v":4', "zzzz"):
        query = _query(q=q, limit=1000)
        got = store.page(OWNER, query).items
        assert got == _oracle(store, query), q
    assert mention in store.page(OWNER, _query(q="dev-1", limit=1000)).items


@pytest.mark.rule("L1")
def test_l1_q_matching_nothing_examines_no_downlink() -> None:
    store = _store(20, 100)
    page = store.page(OWNER, _query(q="zzzz"))
    assert page.items == [] and page.examined == 0


@pytest.mark.rule("L6")
def test_l6_a_device_index_grows_from_a_list_into_a_sorted_list_and_keeps_order() -> None:
    store = _store(2, 700)  # 700 a device: past the small-list size
    tenant = store._tenants[OWNER]
    posting = tenant.devices[_nid(1)]
    assert len(posting.created) == 700 and not isinstance(posting.created, list)
    dl = store.page(OWNER, _query(q=_nid(1), limit=1)).items[0]
    store.transition(dl, Status.EXECUTING, 10**9)  # re-indexed by modifiedAt
    page = store.page(OWNER, _query(q=_nid(1), sort="-modifiedAt", limit=1))
    assert page.items == [dl] and page.examined <= 2


def _steps(store: MemoryStore, query: ListQuery) -> tuple[int, int]:
    """Drive a page's steps: (how many yields, downlinks examined)."""
    steps = store.page_steps(OWNER, query)
    yields = 0
    while True:
        try:
            next(steps)
            yields += 1
        except StopIteration as done:
            return yields, done.value.examined


@pytest.mark.rule("L4")
@pytest.mark.parametrize("sort", ["-networkId", "status", "externalReference", "id"])
def test_l4_a_sort_the_indexes_do_not_serve_is_built_in_bounded_steps(
    sort: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The security issue: a long scan yields every `STEP` downlinks, never holding the
    event loop for the whole store."""
    monkeypatch.setattr(keyset, "STEP", 256)
    store = _store(10, 300)
    yields, examined = _steps(store, _query(sort=sort))
    assert examined == 3000
    assert yields >= examined // keyset.STEP - 1


@pytest.mark.rule("L1")
def test_l1_a_q_many_devices_match_is_built_in_bounded_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(keyset, "STEP", 256)
    store = _store(100, 30)  # every networkId holds "dev-": over the merge limit
    yields, examined = _steps(store, _query(q="dev-", createdSince="1970-01-01T00:00:00.000Z"))
    assert examined <= 51  # dense: the walk ends at a page plus one
    yields, examined = _steps(store, _query(q="dev-", sort="networkId"))
    assert examined == 3000 and yields >= examined // keyset.STEP - 1


@pytest.mark.rule("L6")
def test_l6_a_page_built_in_steps_takes_in_a_create_made_between_its_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Other tasks run between the steps; a create among them is judged where it lies
    (here behind the walk) and the page is that of the version it returns."""
    monkeypatch.setattr(keyset, "STEP", 256)
    store = _store(10, 300)
    ticks = 0
    created: list[Downlink] = []

    async def other() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            if ticks == 2:
                new = NewDownlink(_nid(99), "[]", None, None, 0, None, 1)
                created.append(store.create(OWNER, new, 0))
            await asyncio.sleep(0)

    async def run() -> tuple[Page, int]:
        task = asyncio.create_task(other())
        try:
            return await page_in_steps(store, OWNER, _query(sort="networkId", limit=1000))
        finally:
            task.cancel()

    page, version = asyncio.run(run())
    assert ticks > 5  # the loop ran other work while the page was built
    assert version == store.version
    assert page.examined == 3001  # the whole store, and the create once
    assert created and page.has_next
    assert [d.id for d in page.items] == [
        d.id for d in store.page(OWNER, _query(sort="networkId", limit=1000)).items
    ]
