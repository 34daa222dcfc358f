"""Console sessions in the database, so that every node on one database sees one set of them
(a restart keeps them; a logout or a revocation on one node holds on all). Rows are keyed by
the SHA-256 of the cookie's token; the token itself is never stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update

from hotline.store.database import Database
from hotline.store.models import ConsoleSession, User


@dataclass(frozen=True)
class SessionRecord:
    """A session with its user's role and state as they are now in the database."""

    token_hash: str
    user: str
    role: str
    disabled: bool
    created_at: datetime
    last_seen_at: datetime


class SessionRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, token_hash: str, user: str, now: datetime) -> None:
        async with self.db.unit() as s:
            s.add(ConsoleSession(token_hash=token_hash, user_id=user, created_at=now,
                                 last_seen_at=now))

    async def get(self, token_hash: str) -> SessionRecord | None:
        async with self.db.unit() as s:
            row = (await s.execute(
                select(ConsoleSession, User.role, User.disabled)
                .join(User, User.id == ConsoleSession.user_id)
                .where(ConsoleSession.token_hash == token_hash))).first()
        if row is None:
            return None
        cs, role, disabled = row
        return SessionRecord(cs.token_hash, cs.user_id, role, disabled, cs.created_at,
                             cs.last_seen_at)

    async def touch(self, token_hash: str, now: datetime) -> None:
        async with self.db.unit() as s:
            await s.execute(update(ConsoleSession).where(
                ConsoleSession.token_hash == token_hash).values(last_seen_at=now))

    async def drop(self, token_hash: str) -> None:
        async with self.db.unit() as s:
            await s.execute(delete(ConsoleSession).where(
                ConsoleSession.token_hash == token_hash))

    async def drop_user(self, user: str) -> int:
        async with self.db.unit() as s:
            done = await s.execute(delete(ConsoleSession).where(
                ConsoleSession.user_id == user))
        return int(done.rowcount or 0)  # type: ignore[attr-defined]

    async def purge(self, idle_before: datetime, created_before: datetime) -> int:
        """Delete the sessions that have expired either way."""
        async with self.db.unit() as s:
            done = await s.execute(delete(ConsoleSession).where(or_(
                ConsoleSession.last_seen_at < idle_before,
                ConsoleSession.created_at < created_before)))
        return int(done.rowcount or 0)  # type: ignore[attr-defined]

    async def live_by_user(self, idle_before: datetime,
                           created_before: datetime) -> dict[str, int]:
        """How many unexpired sessions each user has (the admins' users page)."""
        async with self.db.unit() as s:
            rows = await s.execute(select(ConsoleSession.user_id, func.count()).where(
                ConsoleSession.last_seen_at >= idle_before,
                ConsoleSession.created_at >= created_before).group_by(
                ConsoleSession.user_id))
        return {user: int(n) for user, n in rows.all()}
