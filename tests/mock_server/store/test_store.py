"""The store's pages against a brute-force oracle: filters, sorts, keyset walks (L1-L6)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.domain.errors import Conflict, InvalidQuery, NotFound
from mock_server.domain.model import Downlink, LogEntry, NewDownlink, Status
from mock_server.store.memory import MemoryStore
from mock_server.store.query import SORTABLE, CursorCodec, ListQuery, build_query

OWNER = "client-a"


def _downlink(
    i: int, created: int, modified: int, *, nid: str, ref: str | None, status: Status
) -> Downlink:
    return Downlink(
        id=f"{i:08x}-0000-4000-8000-000000000000",
        owner=OWNER,
        network_id=nid,
        status=status,
        created_at=created,
        modified_at=modified,
        message=f'[{{"bn":"{nid}"}}]' if i % 3 else "[]",
        external_reference=ref,
        logs=[LogEntry(created, "DOWNLINK_ACCEPTED")],
    )


def _populate(rng: random.Random, n: int) -> tuple[MemoryStore, list[Downlink]]:
    store = MemoryStore()
    items = []
    for i in range(n):
        created = rng.randint(0, 6)
        dl = _downlink(
            i,
            created,
            created + rng.randint(0, 3),
            nid=f"urn:dev:DEVEUI:{rng.choice(['aa', 'ab', 'bb'])}{i % 4}:",
            ref=rng.choice([None, "r1", "r2", f"x{i}"]) if i % 5 else None,
            status=rng.choice(list(Status)),
        )
        items.append(dl)
    # externalReference must be unique per client (C6): keep the first of each.
    seen: set[str | None] = set()
    unique = []
    for dl in items:
        if dl.external_reference is not None and dl.external_reference in seen:
            dl.external_reference = None
        seen.add(dl.external_reference)
        unique.append(dl)
    store.seed(unique)
    store.register_devices(
        [("urn:dev:DEVEUI:aa0:", {"name": "Pump"}), ("urn:dev:DEVEUI:bb1:", {"name": "pump"})]
    )
    return store, unique


def _oracle(items: list[Downlink], query: ListQuery, store: MemoryStore) -> list[Downlink]:
    def ok(dl: Downlink) -> bool:
        if query.created_since is not None and dl.created_at < query.created_since:
            return False
        if query.created_before is not None and dl.created_at >= query.created_before:
            return False
        if query.modified_since is not None and dl.modified_at < query.modified_since:
            return False
        if query.modified_before is not None and dl.modified_at >= query.modified_before:
            return False
        if query.q is not None:
            tags = store.tags(dl.network_id).values()
            return query.q in tags or query.q in dl.network_id or query.q in dl.message
        return True

    def sort_value(dl: Downlink, field: str) -> Any:
        return {
            "createdAt": dl.created_at,
            "modifiedAt": dl.modified_at,
            "id": dl.id,
            "networkId": dl.network_id,
            "status": dl.status.value,
            "externalReference": (0, "")
            if dl.external_reference is None
            else (1, dl.external_reference),
        }[field]

    selected = [dl for dl in items if ok(dl)]
    for key in reversed(query.sort):  # stable sorts, least significant first
        selected.sort(key=lambda dl, k=key: sort_value(dl, k.field), reverse=key.desc)
    return selected


def _walk(
    store: MemoryStore, query: ListQuery, codec: CursorCodec
) -> tuple[list[list[Downlink]], list[list[Downlink]]]:
    """Walk next to the end, then prev back to the start."""
    pages = []
    page = store.page(OWNER, query)
    assert not page.has_prev, "L5: the first page has no prev"
    pages.append(page)
    while page.has_next:
        cursor = codec.encode(query, OWNER, query.raw_key(page.items[-1]), False)
        query = _with_cursor(query, cursor, codec)
        page = store.page(OWNER, query)
        assert page.has_prev, "L5: a later page has prev"
        pages.append(page)
        assert len(pages) < 1000
    back = [page]
    while page.has_prev:
        cursor = codec.encode(query, OWNER, query.raw_key(page.items[0]), True)
        query = _with_cursor(query, cursor, codec)
        page = store.page(OWNER, query)
        back.append(page)
        assert len(back) < 1000
    return [p.items for p in pages], [p.items for p in back]


def _with_cursor(query: ListQuery, cursor: str, codec: CursorCodec) -> ListQuery:
    params: dict[str, Any] = {"cursor": cursor, "limit": query.limit}
    raw = dict(query.raw)
    params.update({k: v for k, v in raw.items()})
    return build_query(params, raw, codec, OWNER)


def _query(rng: random.Random, codec: CursorCodec) -> ListQuery:
    raw: dict[str, str] = {}
    from mock_server.domain.timefmt import format_ms

    for name in ("createdSince", "createdBefore", "modifiedSince", "modifiedBefore"):
        if rng.random() < 0.25:
            raw[name] = format_ms(rng.randint(0, 8))
    if rng.random() < 0.3:
        raw["q"] = rng.choice(["aa", "Pump", "pump", "bb1", "DEVEUI", "zz"])
    fields = rng.sample(SORTABLE, rng.randint(0, 3))
    if fields:
        raw["sort"] = ",".join(("-" if rng.random() < 0.5 else "") + f for f in fields)
    params: dict[str, Any] = dict(raw)
    params["limit"] = rng.randint(1, 6)
    return build_query(params, raw, codec, OWNER)


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 10**9), n=st.integers(0, 40))
def test_l6_walks_match_the_oracle(seed: int, n: int) -> None:
    """L1-L6: every filter and sort, walked by next and back by prev, against brute force."""
    rng = random.Random(seed)
    store, items = _populate(rng, n)
    codec = CursorCodec()
    query = _query(rng, codec)
    expected = _oracle(items, query, store)
    forward, backward = _walk(store, query, codec)
    flat = [dl for page in forward for dl in page]
    assert [d.id for d in flat] == [d.id for d in expected], (
        "L6: next walk yields every match once, in order"
    )
    # L3: every page but the last is full; the last holds the rest (no empty trailing page).
    assert all(len(p) == query.limit for p in forward[:-1])
    if expected:
        assert forward[-1], "L5: no next on an exactly full last page"
    # L6: walking prev back yields the same pages in reverse.
    assert [[d.id for d in p] for p in backward] == [[d.id for d in p] for p in reversed(forward)]


def test_l6_keyset_walk_is_stable_while_items_are_created() -> None:
    """L6: items created during a walk never make it skip or repeat an item present throughout."""
    store = MemoryStore()
    codec = CursorCodec()
    base = [
        _downlink(i, i // 2, i // 2, nid="urn:dev:DEVEUI:aa:", ref=None, status=Status.PENDING)
        for i in range(30)
    ]
    store.seed(base)
    query = build_query({"limit": 4}, {}, codec, OWNER)
    seen = []
    page = store.page(OWNER, query)
    extra = 1000
    while True:
        seen.extend(dl.id for dl in page.items)
        # Someone creates downlinks at the same instant as items not yet walked.
        store.seed(
            [_downlink(extra, 5, 5, nid="urn:dev:DEVEUI:aa:", ref=None, status=Status.PENDING)]
        )
        extra += 1
        if not page.has_next:
            break
        cursor = codec.encode(query, OWNER, query.raw_key(page.items[-1]), False)
        query = _with_cursor(query, cursor, codec)
        page = store.page(OWNER, query)
    present = {dl.id for dl in base}
    walked = [i for i in seen if i in present]
    assert sorted(walked) == sorted(present)
    assert len(walked) == len(set(walked))


def test_a5_other_clients_downlinks_are_not_found() -> None:
    store = MemoryStore()
    new = NewDownlink("urn:dev:DEVEUI:aa:", "[]", None, None, 0, None, 1)
    dl = store.create("client-a", new, 1000)
    assert store.get("client-a", dl.id) is dl
    with pytest.raises(NotFound):
        store.get("client-b", dl.id)
    assert store.page("client-b", ListQuery()).items == []


def test_c6_external_reference_unique_per_client() -> None:
    store = MemoryStore()
    new = NewDownlink("urn:dev:DEVEUI:aa:", "[]", None, "ref-1", 0, None, 1)
    store.create("client-a", new, 1000)
    with pytest.raises(Conflict):
        store.create("client-a", new, 1001)
    store.create("client-b", new, 1001)  # another client may reuse it


def test_m3_seed_is_all_or_nothing() -> None:
    store = MemoryStore()
    a = _downlink(1, 5, 5, nid="n", ref=None, status=Status.PENDING)
    store.seed([a])
    b = _downlink(2, 5, 5, nid="n", ref=None, status=Status.PENDING)
    dup = _downlink(1, 5, 5, nid="n", ref=None, status=Status.PENDING)
    with pytest.raises(Conflict):
        store.seed([b, dup])
    assert len(store) == 1


def test_t2_transition_moves_modified_at_even_on_a_stopped_clock() -> None:
    store = MemoryStore()
    dl = store.create("c", NewDownlink("n", "[]", None, None, 0, None, 1), 1000)
    store.transition(dl, Status.CANCELLED, 1000)
    assert dl.modified_at == 1001 and dl.logs[-1].created_at == 1001
    assert dl.logs[-1].error_code == "CANCELLED"
    # the modifiedAt index follows the change
    query = build_query({"modifiedSince": "1970-01-01T00:00:01.001Z"}, {}, CursorCodec(), "c")
    assert store.page("c", query).items == [dl]


def test_s1_terminal_states_never_change() -> None:
    store = MemoryStore()
    dl = store.create("c", NewDownlink("n", "[]", None, None, 0, None, 1), 1000)
    store.transition(dl, Status.CANCELLED, 1000)
    for target in Status:
        with pytest.raises(Conflict):
            store.transition(dl, target, 2000)


def test_l7_cursor_is_bound_to_caller_filters_and_sort() -> None:
    codec = CursorCodec()
    query = build_query({"q": "x"}, {"q": "x"}, codec, OWNER)
    token = codec.encode(query, OWNER, ("1", "a"), False)
    assert codec.decode(token, query, OWNER).values == ("1", "a")
    other = build_query({"q": "y"}, {"q": "y"}, codec, OWNER)
    for bad_query, owner, bad_token in [
        (other, OWNER, token),  # other filters
        (query, "client-b", token),  # another caller
        (query, OWNER, token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]),  # tampered
        (query, OWNER, "garbage"),
        (query, OWNER, "é.é"),
    ]:
        with pytest.raises(InvalidQuery):
            codec.decode(bad_token, bad_query, owner)
    with pytest.raises(InvalidQuery):
        CursorCodec().decode(token, query, OWNER)  # another mock instance


def test_the_memory_store_is_a_store() -> None:
    """Handlers and `Mock` depend on the `Store` protocol; the memory store implements it."""
    from mock_server.mock import Mock
    from mock_server.store.base import Store

    assert isinstance(MemoryStore(), Store)
    assert isinstance(Mock().store, Store)


@pytest.mark.rule("X3")
def test_x3_cancel_judges_then_moves() -> None:
    from mock_server.domain.errors import NotCancellable

    store = MemoryStore()
    dl = store.create("c", NewDownlink("n", "[]", None, None, 0, None, 1), 1000)
    store.transition(dl, Status.EXECUTING, 1000)
    with pytest.raises(NotCancellable, match="without forced=true"):
        store.cancel("c", dl.id, False, 2000)
    assert dl.status is Status.EXECUTING and dl.modified_at == 1001  # unchanged by the 409
    with pytest.raises(NotFound):
        store.cancel("other", dl.id, True, 2000)  # A5
    assert store.cancel("c", dl.id, True, 2000).status is Status.CANCELLED
    assert store.page("c", ListQuery(modified_since=2000)).items == [dl]  # index in step


@pytest.mark.rule("M4")
def test_m4_move_by_id() -> None:
    store = MemoryStore()
    dl = store.create("c", NewDownlink("n", "[]", None, None, 0, None, 1), 1000)
    assert store.move(dl.id, Status.FAILED, 1500, error_code="E").status is Status.FAILED
    assert dl.logs[-1].error_code == "E"
    with pytest.raises(NotFound):
        store.move("nope", Status.FAILED, 1500)
