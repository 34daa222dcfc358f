"""An empty database of the current schema for a bench run (PostgreSQL's schema dropped
and made again; a SQLite file is expected to be new)."""

from __future__ import annotations

from sqlalchemy import text

from hotline.store.database import Database


async def fresh_database(url: str) -> Database:
    db = Database(url)
    if url.startswith("postgresql"):
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await db.upgrade()
    return db
