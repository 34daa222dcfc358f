"""Seat claims in the database: a node takes a seat with one conditional UPDATE (free, or
its lease lapsed), so two nodes sharing a database never ring or bridge one seat at once.

A node renews the leases of the seats it holds (``renew``, every ``lease_s / 3`` from a
supervised task); one that dies stops renewing, and its seats are free again when their
leases lapse. Time comes from the Clock port.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hotline.errors import StoreError
from hotline.ports import Clock
from hotline.store.database import Database
from hotline.store.models import SeatClaim

log = logging.getLogger(__name__)


class SeatClaims:
    def __init__(self, db: Database, node: str, clock: Clock, lease_s: float = 30.0) -> None:
        if not node:
            raise ValueError("seat claims need this node's name (HOTLINE_NODE)")
        self.db = db
        self.node = node
        self.clock = clock
        self.lease_s = lease_s
        self._known: set[str] = set()  # seats whose row exists

    async def _ensure_row(self, job_number: str) -> None:
        if job_number in self._known:
            return
        dialect = self.db.engine.dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        async with self.db.unit() as s:
            await s.execute(insert(SeatClaim).values(job_number=job_number)
                            .on_conflict_do_nothing(index_elements=["job_number"]))
        self._known.add(job_number)

    async def claim(self, job_number: str) -> bool:
        """Take the seat for this node; False if another claim (this node's included) holds
        it and has not lapsed."""
        await self._ensure_row(job_number)
        now = self.clock.now()
        async with self.db.unit() as s:
            done = await s.execute(
                update(SeatClaim)
                .where(SeatClaim.job_number == job_number,
                       or_(SeatClaim.claimed_by.is_(None), SeatClaim.lease_until < now))
                .values(claimed_by=self.node, claimed_at=now,
                        lease_until=now + timedelta(seconds=self.lease_s)))
        return bool(getattr(done, "rowcount", 0) == 1)

    async def release(self, job_number: str) -> None:
        async with self.db.unit() as s:
            await s.execute(
                update(SeatClaim)
                .where(SeatClaim.job_number == job_number, SeatClaim.claimed_by == self.node)
                .values(claimed_by=None, lease_until=None))

    async def renew(self, held: Iterable[str]) -> int:
        """Push the leases of the seats this node holds forward; how many were renewed."""
        jobs = sorted(set(held))
        if not jobs:
            return 0
        now = self.clock.now()
        async with self.db.unit() as s:
            done = await s.execute(
                update(SeatClaim)
                .where(SeatClaim.job_number.in_(jobs), SeatClaim.claimed_by == self.node)
                .values(lease_until=now + timedelta(seconds=self.lease_s)))
        return int(getattr(done, "rowcount", 0))

    async def release_all(self) -> None:
        """At start-up: this node holds no call yet, so no claim of its name stands."""
        async with self.db.unit() as s:
            await s.execute(update(SeatClaim).where(SeatClaim.claimed_by == self.node)
                            .values(claimed_by=None, lease_until=None))

    async def held_elsewhere(self) -> set[str]:
        """Seats another node holds now (their leases running)."""
        now = self.clock.now()
        async with self.db.unit() as s:
            rows = await s.scalars(select(SeatClaim.job_number).where(and_(
                SeatClaim.claimed_by.is_not(None), SeatClaim.claimed_by != self.node,
                SeatClaim.lease_until >= now)))
            return set(rows)

    async def talking(self) -> set[str]:
        """Every seat any node holds now (its lease running), in one query: who is talking
        across the nodes (the wallboard)."""
        now = self.clock.now()
        async with self.db.unit() as s:
            rows = await s.scalars(select(SeatClaim.job_number).where(
                SeatClaim.claimed_by.is_not(None), SeatClaim.lease_until >= now))
            return set(rows)


async def keep_leases(claims: SeatClaims, held: set[str], sleep: float | None = None) -> None:
    """The supervised task: renew this node's leases every third of the lease, for ever.
    A database error is logged and retried at the next turn (the lease still has two
    thirds to run)."""
    every = sleep if sleep is not None else claims.lease_s / 3
    while True:
        await asyncio.sleep(every)
        try:
            await claims.renew(held)
        except StoreError as exc:
            log.warning("cannot renew the seat leases: %s", exc)


def claims_for(db: Database, node: str, clock: Clock, lease_s: float) -> SeatClaims | None:
    """Claims where several nodes may share the database: PostgreSQL with a node name
    (HOTLINE_NODE). SQLite is one node's: its seats are known in memory alone."""
    if db.engine.dialect.name != "postgresql" or not node:
        return None
    return SeatClaims(db, node, clock, lease_s)
