"""Unit-test fixtures: the store on both databases (SQLite here, PostgreSQL from
scripts/test.sh)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from hotline.store.database import Database


async def fresh(url: str) -> Database:
    """The store at ``url``, empty, on the current schema (PostgreSQL's schema made again;
    a SQLite file is new for each test)."""
    database = Database(url)
    if url.startswith("postgresql"):
        async with database.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await database.upgrade()
    return database


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    else:
        url = os.environ.get("HOTLINE_TEST_PG_URL", "")
        assert url, "HOTLINE_TEST_PG_URL is not set: run the suite with scripts/test.sh"
    database = await fresh(url)
    yield database
    await database.close()


@pytest.fixture
async def pg() -> AsyncIterator[Database]:
    """The store on PostgreSQL alone: what only PostgreSQL refuses (a value too long)."""
    url = os.environ.get("HOTLINE_TEST_PG_URL", "")
    assert url, "HOTLINE_TEST_PG_URL is not set: run the suite with scripts/test.sh"
    database = await fresh(url)
    yield database
    await database.close()
