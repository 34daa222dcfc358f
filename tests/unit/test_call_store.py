"""The call-record store on both databases: SQLite here, PostgreSQL from scripts/test.sh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.domain.calls import NewCall
from hotline.errors import StoreError
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database


async def test_record_lifecycle(db: Database) -> None:
    repo = CallRepository(db)
    t0 = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
    cid = await repo.open_call(NewCall("chan-1", "13900000001", "12345", t0))
    assert await repo.open_call(NewCall("chan-1", "13900000001", "12345", t0)) == cid
    await repo.update_call(cid, answered_at=t0 + timedelta(seconds=1), rings=1,
                           answered_by="9000")
    await repo.add_event(cid, "said", {"phrase": "opening"})
    await repo.update_call(cid, ended_at=t0 + timedelta(seconds=30), disposition="resolved",
                           satisfaction=5)
    row = await repo.get(cid)
    assert row.answered_at == t0 + timedelta(seconds=1)
    assert row.arrived_at.tzinfo is not None
    assert (row.disposition, row.satisfaction, row.rings) == ("resolved", 5, 1)
    assert [e.kind for e in row.events] == ["arrived", "said"]
    assert [r.id for r in await repo.recent(10)] == [cid]
    assert await repo.open_calls() == []


async def test_unknown_field_is_refused(db: Database) -> None:
    repo = CallRepository(db)
    cid = await repo.open_call(NewCall("c", "1", "12345", datetime.now(UTC)))
    with pytest.raises(ValueError, match="unknown call fields"):
        await repo.update_call(cid, colour="red")


async def test_database_down_is_a_store_error(tmp_path: Path) -> None:
    database = Database("postgresql+asyncpg://nobody:x@127.0.0.1:9/none")
    with pytest.raises(StoreError, match="unreachable"):
        await database.ping()
    await database.close()
