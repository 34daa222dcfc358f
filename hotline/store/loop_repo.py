"""The loop's repository: handling units, the dispatch catalogue, and each event of the loop
(hotline/domain/loop/machine.py) applied to a ticket under its row lock, with its event, its
reminder or follow-up row, in one unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Row,
    String,
    case,
    cast,
    delete,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from hotline.domain.loop.catalogue import Rule, suggest
from hotline.domain.loop.limits import Limits, MatterKind, Urgency, matter_of
from hotline.domain.loop.machine import Actor, LoopEvent, LoopMachine, LoopState, Stage
from hotline.domain.tickets import TicketError, TicketKind, TicketStatus
from hotline.errors import NotFoundError
from hotline.reports.unit_stats import EVENT_KINDS, UnitStats
from hotline.store.chunks import chunks
from hotline.store.database import Database
from hotline.store.loop_models import CatalogueRule, FollowUp, HandlingUnit, Reminder
from hotline.store.models import Ticket, TicketEvent, User
from hotline.store.tickets_repo import of_unit

Event = Callable[[LoopMachine], LoopEvent]
ORDINALS: list[Any] = [literal_column(str(i)) for i in range(1, 5)]  # GROUP BY 1, 2…


def state_of(t: Ticket) -> LoopState:
    return LoopState(
        id=t.id, owner=t.owner, status=TicketStatus(t.status), stage=Stage(t.stage or ""),
        matter=MatterKind(t.matter) if t.matter else matter_of(TicketKind(t.kind)),
        unit=t.unit or "", assisting=list(t.assisting or []),
        urgency=Urgency(t.urgency or ""), round=t.loop_round, sign_due_at=t.sign_due_at,
        due_at=t.due_at, follow_up_due_at=t.follow_up_due_at,
        extension=t.extension_request, extensions=t.extensions, merged_into=t.merged_into,
        satisfaction=t.satisfaction, reply=t.reply)


def _write(t: Ticket, s: LoopState, e: LoopEvent) -> TicketEvent:
    t.stage, t.status, t.matter = s.stage.value, s.status.value, s.matter.value
    t.unit, t.assisting, t.urgency = s.unit, list(s.assisting), s.urgency.value
    t.loop_round = s.round
    t.assignee = s.unit or t.assignee
    t.sign_due_at, t.follow_up_due_at = s.sign_due_at, s.follow_up_due_at
    t.due_at = s.due_at or t.due_at
    t.extension_request, t.extensions, t.merged_into = s.extension, s.extensions, s.merged_into
    t.satisfaction = s.satisfaction
    if e.kind == "replied":
        t.reply, t.replied_at = s.reply, e.at
    if s.stage is Stage.CLOSED and t.closed_at is None:
        t.closed_at = e.at
    if e.kind == "sent_back":
        t.closed_at = None
    return TicketEvent(ticket_id=t.id, at=e.at, by=e.by, kind=e.kind,
                       from_status=e.from_status, to_status=e.to_status, data=e.data)


class LoopRepository:
    def __init__(self, db: Database, limits: Limits) -> None:
        self.db = db
        self.limits = limits

    # -- units and unit users -------------------------------------------------------------------
    async def add_unit(self, name: str, now: datetime, parent: str = "",
                       contact: str = "") -> None:
        name, parent = name.strip(), parent.strip()
        if not name:
            raise TicketError("a unit needs its name")
        async with self.db.unit() as s:
            if parent and await s.scalar(select(HandlingUnit.id).where(
                    HandlingUnit.name == parent)) is None:
                raise TicketError(f"the parent unit {parent!r} is not registered")
            s.add(HandlingUnit(name=name, parent=parent, contact=contact.strip(),
                               created_at=now))
            try:
                await s.flush()
            except IntegrityError:
                raise TicketError(f"the unit {name!r} already exists") from None

    async def units(self) -> list[HandlingUnit]:
        async with self.db.unit() as s:
            return list((await s.scalars(select(HandlingUnit).order_by(HandlingUnit.id))).all())

    async def unit_names(self) -> set[str]:
        async with self.db.unit() as s:
            return set((await s.scalars(select(HandlingUnit.name))).all())

    async def bind_user(self, user_id: str, unit: str) -> None:
        """Make a console user a unit user of ``unit``."""
        async with self.db.unit() as s:
            user = await s.get(User, user_id)
            if user is None:
                raise NotFoundError(f"no user {user_id}")
            if await s.scalar(select(HandlingUnit.id).where(HandlingUnit.name == unit)) is None:
                raise TicketError(f"the unit {unit!r} is not registered (hotline units add)")
            user.unit = unit

    async def actor(self, user_id: str) -> Actor:
        async with self.db.unit() as s:
            user = await s.get(User, user_id)
        if user is None or user.disabled:
            raise TicketError(f"--by {user_id}: no such console user (hotline users add)")
        return Actor(user.id, user.role, user.unit or "")

    # -- the catalogue ----------------------------------------------------------------------------
    async def replace_catalogue(self, rules: Sequence[Rule]) -> int:
        async with self.db.unit() as s:
            await s.execute(delete(CatalogueRule))
            s.add_all(CatalogueRule(category=r.category, keywords="|".join(r.keywords),
                                    unit=r.unit) for r in rules)
        return len(rules)

    async def catalogue(self) -> list[Rule]:
        async with self.db.unit() as s:
            rows = (await s.scalars(select(CatalogueRule).order_by(CatalogueRule.id))).all()
        return [Rule(r.category, tuple(r.keywords.split("|")), r.unit) for r in rows]

    async def suggest(self, ticket: Ticket, category: str = "") -> Rule | None:
        text = " ".join([ticket.summary, *(str(v) for v in ticket.fields.values())])
        return suggest(await self.catalogue(), category, text)

    # -- the events -------------------------------------------------------------------------------
    async def _locked(self, s: AsyncSession, ticket_id: int) -> Ticket:
        t = await s.scalar(select(Ticket).where(Ticket.id == ticket_id).with_for_update())
        if t is None:
            raise NotFoundError(f"no ticket {ticket_id}")
        return t

    async def _apply(self, ticket_id: int, event: Event) -> tuple[Ticket, LoopEvent]:
        async with self.db.unit() as s:
            t = await self._locked(s, ticket_id)
            state = state_of(t)
            e = event(LoopMachine(state, self.limits))
            s.add(_write(t, state, e))
            return t, e

    async def _known_units(self, *names: str) -> None:
        known = await self.unit_names()
        missing = [n for n in names if n.strip() and n.strip() not in known]
        if missing:
            raise TicketError(f"not a registered unit: {', '.join(missing)} (hotline units add)")

    async def dispatch(self, ticket_id: int, actor: Actor, now: datetime, unit: str,
                       assisting: Sequence[str] = (), instructions: str = "",
                       urgency: Urgency = Urgency.NONE,
                       matter: MatterKind | None = None) -> LoopEvent:
        await self._known_units(unit, *assisting)
        return (await self._apply(ticket_id, lambda m: m.dispatch(
            actor, now, unit, list(assisting), instructions, urgency, matter)))[1]

    async def sign(self, ticket_id: int, actor: Actor, now: datetime) -> LoopEvent:
        return (await self._apply(ticket_id, lambda m: m.sign(actor, now)))[1]

    async def return_(self, ticket_id: int, actor: Actor, now: datetime,
                      reason: str) -> LoopEvent:
        return (await self._apply(ticket_id, lambda m: m.return_(actor, now, reason)))[1]

    async def redispatch(self, ticket_id: int, actor: Actor, now: datetime, unit: str,
                         assisting: Sequence[str] = (), instructions: str = "") -> LoopEvent:
        await self._known_units(unit, *assisting)
        return (await self._apply(ticket_id, lambda m: m.redispatch(
            actor, now, unit, list(assisting), instructions)))[1]

    async def insist(self, ticket_id: int, actor: Actor, now: datetime, note: str) -> LoopEvent:
        return (await self._apply(ticket_id, lambda m: m.insist(actor, now, note)))[1]

    async def request_extension(self, ticket_id: int, actor: Actor, now: datetime, days: int,
                                reason: str) -> LoopEvent:
        return (await self._apply(ticket_id, lambda m: m.request_extension(
            actor, now, days, reason)))[1]

    async def decide_extension(self, ticket_id: int, actor: Actor, now: datetime,
                               approve: bool, informed: bool, note: str = "") -> LoopEvent:
        return (await self._apply(ticket_id, lambda m: m.decide_extension(
            actor, now, approve, informed, note)))[1]

    async def reply(self, ticket_id: int, actor: Actor, now: datetime, text: str) -> LoopEvent:
        """答复; the tickets merged into this one take the reply and go to their owners'
        follow-up queues."""
        async with self.db.unit() as s:
            t = await self._locked(s, ticket_id)
            state = state_of(t)
            e = LoopMachine(state, self.limits).reply(
                actor, now, text, self.limits.sampled(t.id, state.matter))
            s.add(_write(t, state, e))
            merged = (await s.scalars(select(Ticket).where(
                Ticket.merged_into == t.id, Ticket.stage == Stage.MERGED.value)
                .with_for_update())).all()
            for other in merged:
                st = state_of(other)
                ev = LoopMachine(st, self.limits).follow_main(
                    actor, now, state, self.limits.sampled(other.id, st.matter))
                s.add(_write(other, st, ev))
            return e

    async def follow_up(self, ticket_id: int, actor: Actor, now: datetime, method: str,
                        reached: bool, grade: str, opinion: str) -> LoopEvent:
        async with self.db.unit() as s:
            t = await self._locked(s, ticket_id)
            state = state_of(t)
            e = LoopMachine(state, self.limits).follow_up(actor, now, method, reached,
                                                          grade, opinion)
            s.add(_write(t, state, e))
            s.add(FollowUp(ticket_id=t.id, at=now, by=actor.id, owner=t.owner, unit=t.unit,
                           method=method, reached=reached, grade=grade if reached else "",
                           satisfaction=e.data.get("satisfaction"),
                           opinion=opinion.strip()))
            return e

    async def send_back(self, ticket_id: int, actor: Actor, now: datetime,
                        reason: str) -> LoopEvent:
        return (await self._apply(ticket_id, lambda m: m.send_back(actor, now, reason)))[1]

    async def close(self, ticket_id: int, actor: Actor, now: datetime, note: str) -> LoopEvent:
        return (await self._apply(ticket_id, lambda m: m.close(actor, now, note)))[1]

    async def merge(self, main_id: int, others: Sequence[int], actor: Actor,
                    now: datetime) -> list[LoopEvent]:
        """并单: ``others`` follow ``main_id``; the main ticket's history names them."""
        if not others:
            raise TicketError("name the tickets to merge into the main one")
        async with self.db.unit() as s:
            main = await self._locked(s, main_id)
            main_state = state_of(main)
            out = []
            for other_id in others:
                t = await self._locked(s, other_id)
                state = state_of(t)
                e = LoopMachine(state, self.limits).merge_into(actor, now, main_state)
                s.add(_write(t, state, e))
                out.append(e)
            s.add(TicketEvent(ticket_id=main.id, at=now, by=actor.id, kind="merged_in",
                              from_status=main.status, to_status=main.status,
                              data={"tickets": list(others)}))
            return out

    # -- 督办/催办 -------------------------------------------------------------------------------
    async def remind(self, now: datetime, by: str, ticket_id: int | None = None
                     ) -> list[Reminder]:
        """One reminder per overdue step not yet reminded of (all tickets, or one); the
        ticket's history records it."""
        rnd = cast(Ticket.loop_round, String)
        reminded = case((Ticket.stage == Stage.DISPATCHED.value, literal("sign:") + rnd),
                        else_=literal("reply:") + rnd)  # the step overdue, in SQL
        query = select(Ticket).where(or_(
            (Ticket.stage == Stage.DISPATCHED.value) & (Ticket.sign_due_at < now),
            (Ticket.stage == Stage.SIGNED.value) & (Ticket.due_at < now)),
            ~exists().where(Reminder.ticket_id == Ticket.id, Reminder.step == reminded))
        if ticket_id is not None:
            query = query.where(Ticket.id == ticket_id)
        made: list[Reminder] = []
        async with self.db.unit() as s:
            for t in (await s.scalars(query.order_by(Ticket.id))).all():
                state = state_of(t)
                step = LoopMachine(state, self.limits).overdue_step(now)
                if step is None or await s.scalar(select(Reminder.id).where(
                        Reminder.ticket_id == t.id, Reminder.step == step)) is not None:
                    continue
                due = t.sign_due_at if step.startswith("sign") else t.due_at
                assert due is not None
                r = Reminder(ticket_id=t.id, step=step, unit=t.unit, owner=t.owner,
                             due_at=due, at=now, by=by)
                s.add(r)
                s.add(TicketEvent(ticket_id=t.id, at=now, by=by, kind="reminded",
                                  from_status=t.status, to_status=t.status,
                                  data={"step": step, "unit": t.unit,
                                        "due": due.isoformat()}))
                made.append(r)
        return made

    async def reminders(self, *, unit: str | None = None, owner: str | None = None,
                        open_only: bool = True, limit: int = 500) -> list[Reminder]:
        """The reminders, newest first; ``open_only``: those whose step is still not done
        (the ticket still waits to be signed for, or replied to, in that round)."""
        query = (select(Reminder, Ticket.stage, Ticket.loop_round)
                 .join(Ticket, Ticket.id == Reminder.ticket_id)
                 .order_by(Reminder.at.desc(), Reminder.id.desc()).limit(limit))
        if unit is not None:
            query = query.where(Reminder.unit == unit)
        if owner is not None:
            query = query.where(Reminder.owner == owner)
        if open_only:
            query = query.where(Ticket.stage.in_([Stage.DISPATCHED.value, Stage.SIGNED.value]))
        waiting = {Stage.DISPATCHED.value: "sign", Stage.SIGNED.value: "reply"}
        async with self.db.unit() as s:
            rows = (await s.execute(query)).all()
        return [r for r, stage, rnd in rows
                if not open_only or r.step == f"{waiting[stage]}:{rnd}"]

    # -- the lists --------------------------------------------------------------------------------
    async def tickets(self, *, unit: str | None = None, stages: Sequence[Stage] = (),
                      owner: str | None = None, follow_up: bool = False,
                      limit: int = 500) -> list[Ticket]:
        query = select(Ticket).order_by(Ticket.due_at, Ticket.id).limit(limit)
        if unit is not None:
            query = query.where(Ticket.unit == unit)
        if stages:
            query = query.where(Ticket.stage.in_([st.value for st in stages]))
        if owner is not None:
            query = query.where(Ticket.owner == owner)
        if follow_up:  # replied by a unit, or by the centre itself
            query = query.where(or_(
                Ticket.stage == Stage.REPLIED.value,
                (Ticket.stage == Stage.NEW.value)
                & (Ticket.status == TicketStatus.REPLIED.value))).order_by(
                None).order_by(Ticket.follow_up_due_at, Ticket.id)
        async with self.db.unit() as s:
            return list((await s.scalars(query)).all())

    async def unit_stats(self, since: datetime, until: datetime) -> UnitStats:
        """The per-unit figures of [since, until) (hotline/reports/unit_stats.py), counted
        in SQL: the events by kind, unit, lateness and whether they copy a main ticket's
        reply; the follow-ups by unit, reach and satisfaction. The JSON values are read as
        text (PostgreSQL cannot group json: 'true'/'false' there, 1/0 on SQLite) and
        grouped by ordinals (the paths are bound parameters, which would not match)."""
        stats = UnitStats()
        data = TicketEvent.data
        async with self.db.unit() as s:
            copied = data["main"].as_string().is_not(None)  # (JSON null: not there)
            for kind, unit, late, main, n in await s.execute(select(
                    TicketEvent.kind, data["unit"].as_string(), data["late"].as_string(),
                    copied, func.count())
                    .where(TicketEvent.at >= since, TicketEvent.at < until,
                           TicketEvent.kind.in_(EVENT_KINDS))
                    .group_by(*ORDINALS[:4])):
                fields = {"unit": unit, "late": str(late).lower() in ("1", "true")}
                stats.add_event(kind, fields | ({"main": True} if main else {}), int(n))
            for unit, reached, satisfaction, n in await s.execute(select(
                    FollowUp.unit, FollowUp.reached, FollowUp.satisfaction, func.count())
                    .where(FollowUp.at >= since, FollowUp.at < until)
                    .group_by(*ORDINALS[:3])):
                stats.add_follow_up(unit, bool(reached), satisfaction, int(n))
        return stats

    def follow_ups_between(self, since: datetime, until: datetime
                           ) -> AsyncIterator[list[Row[Any]]]:
        """The follow-up visits made in [since, until), a chunk at a time."""
        query = select(*FollowUp.__table__.columns).where(
            FollowUp.at >= since, FollowUp.at < until)
        return chunks(self.db, query, (FollowUp.id,))

    async def page(self, *, offset: int, limit: int, unit: str | None = None,
                   people: str | None = None, since: datetime | None = None
                   ) -> tuple[int, list[Ticket]]:
        """A page of tickets in id order, each with its history (the API and the export): a
        unit's (lead or assisting, as the ticket page), one person's (owner or assignee),
        or all; ``since``: those changed since then (an event at or after it: raised,
        moved, dispatched, reminded…); with the total."""
        where: list[Any] = []
        if unit is not None:
            where.append(of_unit(self.db.engine.dialect.name, unit))
        if people is not None:
            where.append(or_(Ticket.owner == people, Ticket.assignee == people))
        if since is not None:  # the last change: the ticket's latest event
            where.append(Ticket.id.in_(select(TicketEvent.ticket_id).where(
                TicketEvent.at >= since)))
        async with self.db.unit() as s:
            total = await s.scalar(select(func.count()).select_from(Ticket).where(*where))
            rows = (await s.scalars(select(Ticket).where(*where).order_by(Ticket.id)
                                    .options(selectinload(Ticket.events))
                                    .offset(offset).limit(limit))).all()
            return int(total or 0), list(rows)
