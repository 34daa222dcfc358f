"""The callback list's store: the closed calls of a window (with where each caller hung up),
the attempts, and the ticket events of a call made from a ticket."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.domain.callbacks import GREETING_PHRASES, Attempt, ClosedCall, Outcome
from hotline.domain.calls import Disposition, caller_forms, caller_number
from hotline.errors import NotFoundError
from hotline.store.database import Database
from hotline.store.models import Call, CallbackAttempt, CallEvent, Ticket, TicketEvent

MISSED = (Disposition.ABANDONED, Disposition.UNATTENDED)  # what a missed call may be
_IN_BATCH = 300  # numbers per query (three forms each: within any database's parameters)


def _attempt(row: CallbackAttempt) -> Attempt:
    return Attempt(row.id, row.number, row.started_at, row.outcome, row.by,
                   row.missed_call_id, row.ended_at)


class CallbackStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def closed_calls(self, since: datetime) -> list[ClosedCall]:
        """The closed phone calls since a time of every caller who missed one then (the
        others can make no entry), oldest first: the missed calls first, then their callers'
        calls by the caller index, in each form a number may be stored in."""
        window = (Call.arrived_at >= since, Call.ended_at.is_not(None), Call.channel == "phone")
        missed = select(Call.caller).where(*window, Call.disposition.in_(MISSED)).distinct()
        columns = (Call.id, Call.caller, Call.arrived_at, Call.disposition, Call.answered_at)
        async with self.db.unit() as s:
            forms = sorted({form for caller in (await s.scalars(missed)).all()
                            if (number := caller_number(caller)) is not None
                            for form in caller_forms(number)})
            rows: list[tuple[int, str, datetime, str | None, datetime | None]] = []
            for first in range(0, len(forms), _IN_BATCH):
                rows += [(i, c, at, d, a) for i, c, at, d, a in (await s.execute(select(
                    *columns).where(*window, Call.caller.in_(forms[first:first + _IN_BATCH]))
                )).all()]
            told = await self._told(s, since)
        states, beyond = told
        rows.sort(key=lambda r: (r[2], r[0]))
        return [ClosedCall(i, caller, at, disposition, answered is not None,
                           states.get(i, ""), i in beyond)
                for i, caller, at, disposition, answered in rows]

    @staticmethod
    async def _told(s: AsyncSession, since: datetime) -> tuple[dict[int, str], set[int]]:
        """Of the answered abandoned calls since a time: where the caller left, and which
        had something but the greeting said to them."""
        query = select(CallEvent.call_id, CallEvent.kind, CallEvent.data).join(
            Call, Call.id == CallEvent.call_id).where(
            CallEvent.kind.in_(("caller_left", "said")), Call.arrived_at >= since,
            Call.disposition == Disposition.ABANDONED, Call.answered_at.is_not(None))
        states: dict[int, str] = {}
        beyond: set[int] = set()
        for call_id, kind, data in (await s.execute(query)).all():
            if kind == "caller_left":
                states[call_id] = str(data.get("state", ""))
            elif data.get("phrase") not in GREETING_PHRASES:
                beyond.add(call_id)
        return states, beyond

    async def attempts_since(self, since: datetime) -> list[Attempt]:
        query = select(CallbackAttempt).where(CallbackAttempt.started_at >= since) \
            .order_by(CallbackAttempt.started_at, CallbackAttempt.id)
        async with self.db.unit() as s:
            return [_attempt(r) for r in (await s.scalars(query)).all()]

    async def attempt(self, attempt_id: int) -> Attempt:
        async with self.db.unit() as s:
            row = await s.get(CallbackAttempt, attempt_id)
            if row is None:
                raise NotFoundError(f"no outbound call {attempt_id}")
            return _attempt(row)

    async def ticket_number(self, ticket_id: int) -> str:
        """The number a ticket's person is called on. NotFoundError without the ticket."""
        async with self.db.unit() as s:
            ticket = await s.get(Ticket, ticket_id)
            if ticket is None:
                raise NotFoundError(f"no ticket {ticket_id}")
            return ticket.callback_number

    async def missed_call(self, call_id: int) -> Call:
        async with self.db.unit() as s:
            row = await s.get(Call, call_id)
            if row is None:
                raise NotFoundError(f"no call {call_id}")
            return row

    async def start(self, number: str, by: str, at: datetime, *, missed_id: int | None,
                    ticket_id: int | None) -> int:
        async with self.db.unit() as s:
            row = CallbackAttempt(number=number, by=by, started_at=at, outcome=Outcome.PENDING,
                                  missed_call_id=missed_id, ticket_id=ticket_id)
            s.add(row)
            await s.flush()
            if ticket_id is not None:
                s.add(TicketEvent(ticket_id=ticket_id, at=at, by=by, kind="outbound_call",
                                  data={"attempt": row.id, "outcome": Outcome.PENDING}))
            return row.id

    async def finish(self, attempt_id: int, outcome: Outcome, at: datetime,
                     talk_s: int | None = None) -> None:
        """The attempt's outcome; on a ticket, an event with who, when and the outcome."""
        async with self.db.unit() as s:
            row = await s.get(CallbackAttempt, attempt_id)
            if row is None:
                raise NotFoundError(f"no outbound call {attempt_id}")
            await s.execute(update(CallbackAttempt).where(CallbackAttempt.id == attempt_id)
                            .values(outcome=outcome, ended_at=at, talk_s=talk_s))
            if row.ticket_id is not None:
                data: dict[str, Any] = {"attempt": attempt_id, "outcome": outcome}
                if talk_s is not None:
                    data["talk_s"] = talk_s
                s.add(TicketEvent(ticket_id=row.ticket_id, at=at, by=row.by,
                                  kind="outbound_call", data=data))
