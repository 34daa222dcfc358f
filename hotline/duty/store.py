"""The duty log and the handovers in the database, and the ticket reads they need."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from hotline.domain.duty import DutyChange, DutyError
from hotline.domain.seats import DutyState
from hotline.domain.tickets import TicketStatus
from hotline.errors import NotFoundError
from hotline.store.database import Database
from hotline.store.models import DutyLogEntry, Handover, Ticket, TicketEvent


def to_change(row: DutyLogEntry) -> DutyChange:
    return DutyChange(row.job_number, row.at, DutyState(row.after), DutyState(row.before),
                      row.by, row.note, row.guard)


class DutyLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def history(self, *, job_number: str | None = None, since: datetime | None = None,
                      until: datetime | None = None, limit: int = 500) -> list[DutyChange]:
        """The changes in time order (the latest ``limit`` of them)."""
        query = select(DutyLogEntry).order_by(DutyLogEntry.at.desc(),
                                              DutyLogEntry.id.desc()).limit(limit)
        if job_number is not None:
            query = query.where(DutyLogEntry.job_number == job_number)
        if since is not None:
            query = query.where(DutyLogEntry.at >= since)
        if until is not None:
            query = query.where(DutyLogEntry.at < until)
        async with self.db.unit() as s:
            rows = list((await s.scalars(query)).all())
        return [to_change(r) for r in reversed(rows)]

    async def state_at(self, at: datetime) -> dict[str, DutyState]:
        """Each operator's state at ``at``: the last change before it."""
        last = (select(DutyLogEntry.job_number, func.max(DutyLogEntry.id).label("id"))
                .where(DutyLogEntry.at < at).group_by(DutyLogEntry.job_number).subquery())
        async with self.db.unit() as s:
            rows = (await s.execute(select(DutyLogEntry.job_number, DutyLogEntry.after)
                                    .join(last, DutyLogEntry.id == last.c.id))).all()
        return {job: DutyState(after) for job, after in rows}

    async def between(self, since: datetime, until: datetime) -> list[DutyChange]:
        async with self.db.unit() as s:
            rows = (await s.scalars(select(DutyLogEntry).where(
                DutyLogEntry.at >= since, DutyLogEntry.at < until).order_by(
                DutyLogEntry.at, DutyLogEntry.id))).all()
        return [to_change(r) for r in rows]

    # -- tickets, read for the handover and the stand-in ----------------------------------
    async def open_tickets(self, job_numbers: list[str], limit: int = 500) -> list[Ticket]:
        """The tickets not closed that these operators own or work on (assignee)."""
        async with self.db.unit() as s:
            return list((await s.scalars(select(Ticket).where(
                or_(Ticket.owner.in_(job_numbers), Ticket.assignee.in_(job_numbers)),
                Ticket.status != TicketStatus.CLOSED.value).order_by(
                Ticket.due_at, Ticket.id).limit(limit))).all())

    async def done_by_others(self, job_number: str, since: datetime, until: datetime
                             ) -> list[tuple[TicketEvent, Ticket]]:
        """What others did on this operator's tickets in [since, until) (while away)."""
        async with self.db.unit() as s:
            rows = (await s.execute(select(TicketEvent, Ticket).join(
                Ticket, TicketEvent.ticket_id == Ticket.id).where(
                or_(Ticket.owner == job_number, Ticket.assignee == job_number),
                TicketEvent.at >= since, TicketEvent.at < until,
                TicketEvent.by != job_number).order_by(TicketEvent.at, TicketEvent.id))).all()
        return [(e, t) for e, t in rows]

    # -- handovers ---------------------------------------------------------------------------
    async def add_handover(self, by: str, at: datetime, to: str, items: dict[str, Any],
                           note: str) -> int:
        async with self.db.unit() as s:
            row = Handover(by=by, at=at, to=to, items=items, note=note, ack_note="")
            s.add(row)
            await s.flush()
            return row.id

    async def handover(self, handover_id: int) -> Handover:
        async with self.db.unit() as s:
            row = await s.get(Handover, handover_id)
        if row is None:
            raise NotFoundError(f"no handover {handover_id}")
        return row

    async def acknowledge(self, handover_id: int, by: str, at: datetime, note: str
                          ) -> Handover:
        async with self.db.unit() as s:
            row = await s.scalar(select(Handover).where(Handover.id == handover_id)
                                 .with_for_update())
            if row is None:
                raise NotFoundError(f"no handover {handover_id}")
            if row.acknowledged_by:
                raise DutyError(f"handover {handover_id} was acknowledged by "
                                f"{row.acknowledged_by} already")
            if row.by == by:
                raise DutyError("the next operator acknowledges a handover, not its author")
            if row.to and row.to != by:
                raise DutyError(f"handover {handover_id} is for {row.to}")
            row.acknowledged_by, row.acknowledged_at, row.ack_note = by, at, note
            return row

    async def handovers(self, *, pending_for: str | None = None, by: str | None = None,
                        limit: int = 50) -> list[Handover]:
        """The latest handovers; ``pending_for``: those not yet acknowledged that this
        operator may take (for them, or for whoever comes next; not their own)."""
        query = select(Handover).order_by(Handover.at.desc(), Handover.id.desc()).limit(limit)
        if pending_for is not None:
            query = query.where(Handover.acknowledged_by.is_(None),
                                Handover.by != pending_for,
                                or_(Handover.to == "", Handover.to == pending_for))
        if by is not None:
            query = query.where(Handover.by == by)
        async with self.db.unit() as s:
            return list((await s.scalars(query)).all())
