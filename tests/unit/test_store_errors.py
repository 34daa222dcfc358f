"""What the database raises is told apart: an outage (journaled) from a bad write (a bug)."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from hotline.domain.calls import NewCall
from hotline.errors import StoreDataError, StoreUnavailable
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.journal import JournalingCallStore
from tests.unit.test_journal_poison import LONG


def call(channel: str, caller: str = "13900000000") -> NewCall:
    return NewCall(channel, caller, "12345", datetime.now(UTC))


async def test_an_exhausted_pool_is_an_outage_and_is_journaled(pg: Database,
                                                               tmp_path: Path) -> None:
    url = os.environ["HOTLINE_TEST_PG_URL"]
    small = Database(url)
    await small.engine.dispose()
    small.engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    small.sessions = async_sessionmaker(small.engine, expire_on_commit=False)
    repo = CallRepository(small)
    record = await repo.open_call(call("pool-0"))
    held = await small.engine.connect()  # every connection of the pool in use
    await held.exec_driver_sql("SELECT 1")
    try:
        with pytest.raises(StoreUnavailable, match="QueuePool limit"):
            await repo.add_event(record, "said", {})
        journal = JournalingCallStore(repo, tmp_path / "calls.jsonl")
        await journal.add_event(record, "said", {"phrase": "opening"})  # no crash
        assert journal.pending == 1
    finally:
        await held.close()
    assert await journal.replay() == 1
    assert [e.kind for e in (await repo.get(record)).events] == ["arrived", "said"]
    await small.close()


async def test_a_refused_connection_is_an_outage() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = Database(f"postgresql+asyncpg://x:y@127.0.0.1:{port}/none")
    with pytest.raises(StoreUnavailable):
        await CallRepository(db).open_call(call("refused-0"))
    with pytest.raises(StoreUnavailable):
        await db.ping()
    await db.close()


async def test_a_value_too_long_is_a_data_error_not_an_outage(pg: Database) -> None:
    with pytest.raises(StoreDataError, match="value too long"):
        await CallRepository(pg).open_call(call("long-0", LONG))
