"""The contract every UnitOfWork implementation keeps for snapshots. Part of the same contract
suite as `test_repository_contract.py` (fixture `uow_factory`)."""

from dataclasses import replace

import pytest

from adapters.persistence import snapshots as snapshots_module
from adapters.persistence.engine import make_engine, make_session_factory
from adapters.persistence.migrate import upgrade_database
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from domain.model.ids import AgentId, PlatformChatId, UserId
from domain.model.snapshot import Snapshot
from ports.unit_of_work import UnitOfWorkFactory

ALICE, BOB = UserId("@alice:example.org"), UserId("@bob:example.org")
# Big enough to overflow any VARCHAR limit or page-sized buffer.
LARGE_PAYLOAD = '{"messages": ["' + "ünïcode « » " * 100_000 + '"]}'


def a_snapshot(label: str = "draft", owner: UserId = ALICE, payload: str = LARGE_PAYLOAD) -> Snapshot:
    return Snapshot(
        owner=owner,
        label=label,
        agent_id=AgentId("echo"),
        source_chat_id=PlatformChatId("pc-1"),
        payload=payload,
        message_count=12,
        created_at_ms=1_700_000_000_123,
    )


async def test_snapshot_round_trips_every_field(uow_factory: UnitOfWorkFactory) -> None:
    snapshot = a_snapshot()
    async with uow_factory() as uow:
        await uow.snapshots.save(snapshot)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.snapshots.get(ALICE, "draft") == snapshot
        assert await uow.snapshots.get(ALICE, "other") is None


async def test_saving_an_existing_label_replaces_it(uow_factory: UnitOfWorkFactory) -> None:
    first = a_snapshot(payload="first")
    second = replace(first, agent_id=AgentId("other"), payload="second", message_count=3, created_at_ms=5)
    async with uow_factory() as uow:
        await uow.snapshots.save(first)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.snapshots.get(ALICE, "draft") == first
        await uow.snapshots.save(second)
        # Read back in the same transaction, after the old version was already read in it.
        assert await uow.snapshots.get(ALICE, "draft") == second
        assert await uow.snapshots.for_owner(ALICE) == [second]
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.snapshots.for_owner(ALICE) == [second]


async def test_labels_are_per_owner(uow_factory: UnitOfWorkFactory) -> None:
    alices, bobs = a_snapshot("x", payload="alice's"), a_snapshot("x", owner=BOB, payload="bob's")
    async with uow_factory() as uow:
        await uow.snapshots.save(alices)
        await uow.snapshots.save(bobs)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.snapshots.get(ALICE, "x") == alices
        assert await uow.snapshots.get(BOB, "x") == bobs
        assert await uow.snapshots.for_owner(BOB) == [bobs]


async def test_for_owner_orders_by_label(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        for label in ["beta", "Zeta", "alpha", "a-1", "a_1"]:
            await uow.snapshots.save(a_snapshot(label, payload=label))
        await uow.snapshots.save(a_snapshot("bob's", owner=BOB))
        await uow.commit()
    async with uow_factory() as uow:
        labels = [snapshot.label for snapshot in await uow.snapshots.for_owner(ALICE)]
        assert labels == ["Zeta", "a-1", "a_1", "alpha", "beta"]
        assert await uow.snapshots.for_owner(UserId("@nobody:example.org")) == []


async def test_snapshot_is_not_kept_without_commit(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.snapshots.save(a_snapshot("kept", payload="v1"))
        await uow.commit()
        await uow.snapshots.save(a_snapshot("rolled-back"))
        await uow.rollback()
        await uow.snapshots.save(a_snapshot("kept", payload="v2, never committed"))
    async with uow_factory() as uow:
        assert [snapshot.payload for snapshot in await uow.snapshots.for_owner(ALICE)] == ["v1"]


async def test_snapshot_changed_without_save_is_not_kept(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.snapshots.save(a_snapshot(payload="saved"))
        await uow.commit()
    async with uow_factory() as uow:
        snapshot = await uow.snapshots.get(ALICE, "draft")
        assert snapshot is not None
        snapshot.payload = "changed in memory only"
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.snapshots.get(ALICE, "draft") == a_snapshot(payload="saved")


async def test_replace_without_upsert_support_falls_back_to_merge(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Dialects without ON CONFLICT take the merge path; hide it on the backends we have.
    monkeypatch.setattr(snapshots_module, "upsert", lambda dialect, table, values, key: None)
    await upgrade_database(database_url)
    engine = make_engine(database_url)
    try:
        uow_factory = SqlAlchemyUnitOfWorkFactory(make_session_factory(engine))
        await test_saving_an_existing_label_replaces_it(uow_factory)
    finally:
        await engine.dispose()
