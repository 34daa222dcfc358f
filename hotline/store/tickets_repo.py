"""The ticket repository: raising tickets from call records and moving them through their
lifecycle, each change and its event in one unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, case, exists, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.domain.tickets import (
    UNANSWERED,
    Move,
    NewTicket,
    TicketError,
    TicketKind,
    TicketStatus,
    check_complaint,
    check_extension,
    check_move,
)
from hotline.domain.workdays import WorkCalendar
from hotline.errors import NotFoundError
from hotline.store.chunks import chunks
from hotline.store.database import Database
from hotline.store.models import Call, CallEvent, Ticket, TicketEvent


def in_the_loop(t: Ticket) -> None:
    """A ticket dispatched to a unit, or followed up, moves by the loop's events only
    (hotline/store/loop_repo.py), never by a bare status change."""
    if t.stage:
        unit = f", {t.unit}" if t.unit else ""
        raise TicketError(f"ticket {t.id} is in the loop ({t.stage}{unit}): use tickets "
                          "sign, reply, extend-request, follow-up…")


def of_unit(dialect: str, unit: str) -> ColumnElement[bool]:
    """The tickets a unit leads (主办) or assists on (协办), in SQL: the ticket page's rule
    (hotline/web/loop_views.py may_see). No unit: no ticket."""
    if not unit:
        return false()
    elements = func.json_each if dialect == "sqlite" else func.json_array_elements_text
    assisting = elements(Ticket.assisting).table_valued("value")
    return or_(Ticket.unit == unit,
               exists(select(1).select_from(assisting).where(assisting.c.value == unit)))


class TicketRepository:
    def __init__(self, db: Database, calendar: WorkCalendar,
                 days: dict[TicketKind, int]) -> None:
        self.db = db
        self.calendar = calendar
        self.days = days

    def due(self, kind: TicketKind, now: datetime) -> datetime:
        """When a ticket of this kind raised now is due (the work calendar's limit)."""
        return self.calendar.due_at(now, self.days[kind])

    async def open(self, new: NewTicket, now: datetime) -> int:
        if not new.by:
            raise TicketError("a ticket needs who raised it (job number)")
        if new.kind is TicketKind.COMPLAINT:
            check_complaint({k: str(v) for k, v in new.fields.items()})
        if new.kind is TicketKind.REFERRAL and not new.department.strip():
            raise TicketError("a referral (转办) needs the department it goes to")
        if new.kind is TicketKind.MESSAGE and not str(new.fields.get("text", "")).strip():
            raise TicketError("a message (留言) needs its text, as read back to the caller")
        async with self.db.unit() as s:
            owner, name, number = new.by, new.caller_name, new.callback_number
            if new.call_id is not None:
                call = await s.get(Call, new.call_id)
                if call is None:
                    raise NotFoundError(f"no call {new.call_id}")
                owner = call.owner or new.by  # 首问: the first-question owner stays on it
                name = name or call.caller_name
                number = number or call.callback_number or call.caller
            ticket = Ticket(
                call_id=new.call_id, kind=new.kind.value, status=TicketStatus.OPEN.value,
                summary=new.summary, owner=owner, department=new.department,
                caller_name=name, callback_number=number, fields=dict(new.fields),
                created_at=now, due_at=self.due(new.kind, now),
                reply="", extensions=0)
            s.add(ticket)
            await s.flush()
            s.add(TicketEvent(ticket_id=ticket.id, at=now, by=new.by, kind="created",
                              to_status=TicketStatus.OPEN.value,
                              data={"due_at": ticket.due_at.isoformat()}))
            return ticket.id

    async def _locked(self, s: AsyncSession, ticket_id: int) -> Ticket:
        ticket = await s.scalar(select(Ticket).where(Ticket.id == ticket_id)
                                .with_for_update())
        if ticket is None:
            raise NotFoundError(f"no ticket {ticket_id}")
        return ticket

    async def move(self, ticket_id: int, move: Move, now: datetime, *,
                   assignee: str | None = None, reply: str = "",
                   satisfaction: int | None = None) -> None:
        async with self.db.unit() as s:
            t = await self._locked(s, ticket_id)
            in_the_loop(t)
            current = TicketStatus(t.status)
            if move.to is TicketStatus.CLOSED and satisfaction is None:
                satisfaction = t.satisfaction  # recorded at the follow-up visit
            check_move(TicketKind(t.kind), current, move, assignee=assignee,
                       satisfaction=satisfaction, reply=reply)
            data: dict[str, Any] = {"note": move.note} if move.note else {}
            if move.to is TicketStatus.ASSIGNED:
                t.assignee = assignee
                data["assignee"] = assignee
            if move.to is TicketStatus.REPLIED:
                t.replied_at, t.reply = now, reply
                t.follow_up_due_at = self.calendar.due_at(now, 1)  # the owner's 回访 queue
                data["reply"] = reply
                data["late"] = now > t.due_at
            if satisfaction is not None and satisfaction != t.satisfaction:
                t.satisfaction = satisfaction
                data["satisfaction"] = satisfaction
            if move.to is TicketStatus.CLOSED:
                t.closed_at = now
            t.status = move.to.value
            s.add(TicketEvent(ticket_id=t.id, at=now, by=move.by, kind="moved",
                              from_status=current.value, to_status=move.to.value, data=data))

    async def extend(self, ticket_id: int, working_days: int, reason: str, approver: str,
                     by: str, informed: bool, now: datetime) -> datetime:
        """延期: push the due time by N working days; needs a reason, an approver other than
        the asker, and the caller told."""
        if working_days < 1:
            raise TicketError("an extension is at least one working day")
        check_extension(reason, approver, by, informed)
        async with self.db.unit() as s:
            t = await self._locked(s, ticket_id)
            in_the_loop(t)
            if TicketStatus(t.status) in (TicketStatus.REPLIED, TicketStatus.FOLLOW_UP,
                                          TicketStatus.CLOSED):
                raise TicketError(f"a {t.status} ticket has been answered; nothing to extend")
            before = t.due_at
            local = before.astimezone(self.calendar.timezone).date()
            day = self.calendar.nth_workday_after(local, working_days)
            t.due_at = before + timedelta(days=(day - local).days)
            t.extensions += 1
            s.add(TicketEvent(ticket_id=t.id, at=now, by=by, kind="extended",
                              from_status=t.status, to_status=t.status, data={
                                  "reason": reason, "approver": approver,
                                  "caller_informed": informed, "days": working_days,
                                  "due_before": before.isoformat(),
                                  "due_after": t.due_at.isoformat()}))
            return t.due_at

    async def take_over(self, ticket_id: int, by: str, reason: str, post: str,
                        now: datetime) -> int | None:
        """接手: an operator takes a ticket the attendant's post (``post``, 9000) raised.
        The ticket's owner and its call's first-question owner become ``by``, with the
        reason, on both histories (003: 移交指定人员). Tickets owned by a person move only
        by a supervisor's reassignment. Returns the ticket's call (None: raised without one)."""
        reason = reason.strip()
        if not by or not reason:
            raise TicketError("a take-over needs who takes it and why")
        async with self.db.unit() as s:
            t = await self._locked(s, ticket_id)
            if t.owner != post:
                raise TicketError(f"ticket {t.id} is {t.owner}'s, not the attendant post "
                                  f"{post}'s: only a supervisor may move it")
            if TicketStatus(t.status) is TicketStatus.CLOSED:
                raise TicketError(f"ticket {t.id} is closed")
            t.owner = by
            data = {"from": post, "to": by, "reason": reason}
            s.add(TicketEvent(ticket_id=t.id, at=now, by=by, kind="taken_over",
                              from_status=t.status, to_status=t.status, data=data))
            if t.call_id is not None:
                call = await s.get(Call, t.call_id)
                if call is not None and call.owner == post:
                    call.owner = by
                    s.add(CallEvent(call_id=call.id, at=now, kind="owner_changed",
                                    data={**data, "ticket": t.id}))
            return t.call_id  # the call it came from, if any

    async def get(self, ticket_id: int) -> Ticket:
        async with self.db.unit() as s:
            t = await s.get(Ticket, ticket_id)
            if t is None:
                raise NotFoundError(f"no ticket {ticket_id}")
            await s.refresh(t, ["events"])
            return t

    async def find(self, *, overdue_at: datetime | None = None, call_id: int | None = None,
                   call_ids: Sequence[int] | None = None,
                   since: datetime | None = None, until: datetime | None = None,
                   owner: str | None = None, unclosed: bool = False,
                   limit: int = 500) -> list[Ticket]:
        query = select(Ticket).order_by(Ticket.due_at, Ticket.id).limit(limit)
        if owner is not None:
            query = query.where(Ticket.owner == owner)
        if unclosed:
            query = query.where(Ticket.status != TicketStatus.CLOSED.value)
        if call_id is not None:
            query = query.where(Ticket.call_id == call_id)
        if call_ids is not None:
            query = query.where(Ticket.call_id.in_(list(call_ids)))
        if since is not None:
            query = query.where(Ticket.created_at >= since)
        if until is not None:
            query = query.where(Ticket.created_at < until)
        if overdue_at is not None:  # is_overdue, in SQL
            query = query.where(Ticket.due_at < overdue_at,
                                Ticket.status.in_([s.value for s in UNANSWERED]))
        async with self.db.unit() as s:
            return list((await s.scalars(query)).all())

    async def board(self, now: datetime, *, people: str | None = None,
                    unit: str | None = None, status: TicketStatus | None = None,
                    closed: bool = False, offset: int = 0, limit: int = 50
                    ) -> tuple[list[Ticket], bool]:
        """A page of the ticket board: the overdue first, then by due time. ``people``: the
        tickets one operator owns or works on (assignee); ``unit``: a unit's, lead or
        assisting; ``status``: that status only; otherwise the tickets not closed, unless
        ``closed``. Returns the page and whether more follow."""
        unanswered = [s.value for s in UNANSWERED]
        overdue = case((and_(Ticket.due_at < now, Ticket.status.in_(unanswered)), 0), else_=1)
        query = select(Ticket).order_by(overdue, Ticket.due_at, Ticket.id)
        if people is not None:
            query = query.where(or_(Ticket.owner == people, Ticket.assignee == people))
        if unit is not None:
            query = query.where(of_unit(self.db.engine.dialect.name, unit))
        if status is not None:
            query = query.where(Ticket.status == status.value)
        elif not closed:
            query = query.where(Ticket.status != TicketStatus.CLOSED.value)
        async with self.db.unit() as s:
            rows = list((await s.scalars(query.offset(offset).limit(limit + 1))).all())
        return rows[:limit], len(rows) > limit

    def chunks_created(self, since: datetime, until: datetime, size: int | None = None
                       ) -> AsyncIterator[list[Row[Any]]]:
        """The tickets raised in [since, until), in the order they were raised, a chunk of
        rows (every column) at a time."""
        query = select(*Ticket.__table__.columns).where(
            Ticket.created_at >= since, Ticket.created_at < until)
        return chunks(self.db, query, (Ticket.id,), size)

    async def counts(self, now: datetime) -> tuple[int, int]:
        """(tickets not closed, unanswered tickets past due) for the metrics."""
        unanswered = [s.value for s in UNANSWERED]
        async with self.db.unit() as s:
            open_ = await s.scalar(select(func.count()).select_from(Ticket).where(
                Ticket.status != TicketStatus.CLOSED.value))
            overdue = await s.scalar(select(func.count()).select_from(Ticket).where(
                Ticket.due_at < now, Ticket.status.in_(unanswered)))
        return int(open_ or 0), int(overdue or 0)

    async def by_calls(self, call_ids: list[int]) -> dict[int, list[int]]:
        if not call_ids:
            return {}
        async with self.db.unit() as s:
            rows = (await s.execute(select(Ticket.call_id, Ticket.id).where(
                Ticket.call_id.in_(call_ids)).order_by(Ticket.id))).all()
        out: dict[int, list[int]] = {}
        for call_id, ticket_id in rows:
            if call_id is not None:
                out.setdefault(int(call_id), []).append(int(ticket_id))
        return out
