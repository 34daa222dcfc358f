"""Callers' personal data in the records, for the retention sweep and a person's request
(PIPL 第四十五、四十七条): finding it, exporting it, and removing it: recordings forgotten
once their audio is deleted, transcripts deleted, the caller's details blanked. The matter
and the figures of a record stay (times, rings, who answered, disposition, category,
summary, rating) so that the statistics still add up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from hotline.domain.calls import caller_forms, caller_number
from hotline.domain.tickets import COMPLAINT_FIELDS, TicketStatus
from hotline.store.database import Database
from hotline.store.models import Call, CallbackAttempt, CallEvent, Ticket, TicketEvent

BATCH = 500
# The complaint form's fields about the complainant (the rest is the matter).
PERSONAL_FIELDS = tuple(f for f in COMPLAINT_FIELDS if f.startswith("complainant_"))
_CLOSED = TicketStatus.CLOSED.value


@dataclass(frozen=True)
class Scope:
    """Which records: calls and tickets by a condition on each."""

    calls: ColumnElement[bool]
    tickets: ColumnElement[bool]


def closed_before(cutoff: datetime) -> Scope:
    """Records closed before ``cutoff``: the call ended then and none of its tickets is still
    open (an open ticket still needs the caller's number and words); tickets closed then."""
    open_ticket = exists().where(Ticket.call_id == Call.id, Ticket.status != _CLOSED)
    return Scope(and_(Call.ended_at.is_not(None), Call.ended_at < cutoff, ~open_ticket),
                 and_(Ticket.status == _CLOSED, Ticket.closed_at < cutoff))


def of_caller(number: str) -> Scope | None:
    """Every record of one caller (exact, normalised number); None for an anonymous one."""
    normal = caller_number(number)
    if normal is None:
        return None
    forms = caller_forms(normal)
    calls = Call.caller.in_(forms)
    return Scope(calls, or_(Ticket.callback_number.in_(forms),
                            Ticket.call_id.in_(select(Call.id).where(calls))))


@dataclass(frozen=True)
class Recording:
    kind: str  # "call" or "ticket" (a message taken down for a callback)
    id: int
    name: str


class PersonalData:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def recordings(self, scope: Scope, limit: int = BATCH) -> list[Recording]:
        """Recordings still on the records in scope (at most ``limit``)."""
        has_ticket_rec = Ticket.fields["recording"].as_string() != ""
        async with self.db.unit() as s:
            calls = (await s.execute(select(Call.id, Call.recording).where(
                scope.calls, Call.recording.is_not(None), Call.recording != "")
                .order_by(Call.id).limit(limit))).all()
            tickets = (await s.execute(select(Ticket.id, Ticket.fields).where(
                scope.tickets, has_ticket_rec).order_by(Ticket.id).limit(limit))).all()
        return ([Recording("call", i, str(name)) for i, name in calls]
                + [Recording("ticket", i, str(f["recording"])) for i, f in tickets])

    async def forget_recording(self, rec: Recording, at: datetime, why: str) -> None:
        """The recording's audio is gone: the record no longer names it."""
        async with self.db.unit() as s:
            if rec.kind == "call":
                await s.execute(update(Call).where(Call.id == rec.id).values(recording=None))
                s.add(CallEvent(call_id=rec.id, at=at, kind="recording_deleted",
                                data={"why": why}))
                return
            ticket = await s.get(Ticket, rec.id)
            if ticket is not None:
                ticket.fields = {**ticket.fields, "recording": "", "recording_deleted": why}

    async def drop_transcripts(self, scope: Scope) -> int:
        """Delete what was said on the calls in scope, and blank the caller's words taken
        down for a callback or a message (on the ticket, its summary and the call's
        ``callback_taken`` event): how many."""
        in_scope = CallEvent.call_id.in_(select(Call.id).where(scope.calls))
        async with self.db.unit() as s:
            dropped = await s.execute(delete(CallEvent).where(
                CallEvent.kind == "transcript", in_scope)
                .execution_options(synchronize_session=False))
            taken = (await s.scalars(select(CallEvent).where(
                CallEvent.kind == "callback_taken", in_scope,
                CallEvent.data["transcript"].as_string() != ""))).all()
            for e in taken:
                e.data = {**e.data, "transcript": ""}
            tickets = (await s.scalars(select(Ticket).where(scope.tickets, or_(
                Ticket.fields["text"].as_string() != "",
                Ticket.fields["transcript"].as_string() != "")))).all()
            for t in tickets:
                words = str(t.fields.get("transcript") or "")
                if words and t.summary == f"回电：{words}":  # the callback's own summary
                    t.summary = "回电"
                t.fields = {**t.fields, **{k: "" for k in ("text", "transcript")
                                            if k in t.fields}}
        return int(dropped.rowcount or 0) + len(taken) + len(tickets)  # type: ignore[attr-defined]

    async def anonymise(self, scope: Scope, now: datetime, why: str) -> tuple[int, int]:
        """Blank the caller's details on the calls and tickets in scope: (calls, tickets).
        Each ticket changed gets a ``personal_data_erased`` event (``why``: retention or
        erasure), so that whoever takes the tickets changed since a time (the API's and the
        export's ``since``) is told to blank their copy too."""
        async with self.db.unit() as s:
            # the tickets first: a caller's scope finds them through the calls' numbers
            tickets = (await s.scalars(select(Ticket).where(scope.tickets))).all()
            changed = 0
            for t in tickets:
                fields = {k: v for k, v in t.fields.items() if k not in PERSONAL_FIELDS}
                if t.caller_name or t.callback_number or fields != t.fields:
                    t.caller_name, t.callback_number, t.fields = "", "", fields
                    s.add(TicketEvent(ticket_id=t.id, at=now, by="system",
                                      kind="personal_data_erased", from_status=None,
                                      to_status=None, data={"why": why}))
                    changed += 1
            await s.flush()
            # the numbers the operators called back (hotline/callbacks), before the calls'
            # own numbers that a caller's scope finds them by
            await s.execute(update(CallbackAttempt).where(CallbackAttempt.number != "", or_(
                CallbackAttempt.missed_call_id.in_(select(Call.id).where(scope.calls)),
                CallbackAttempt.ticket_id.in_(select(Ticket.id).where(scope.tickets))))
                .values(number="").execution_options(synchronize_session=False))
            calls = await s.execute(update(Call).where(scope.calls, or_(
                Call.caller != "", Call.caller_name != "", Call.caller_title != "",
                Call.callback_number != "")).values(
                    caller="", caller_name="", caller_title="", callback_number="")
                .execution_options(synchronize_session=False))
        return int(calls.rowcount or 0), changed  # type: ignore[attr-defined]

    async def export(self, scope: Scope) -> dict[str, Any]:
        """Everything the records in scope hold about the person, as plain data."""
        async with self.db.unit() as s:
            calls = (await s.scalars(select(Call).where(scope.calls)
                                     .order_by(Call.arrived_at, Call.id))).all()
            said = (await s.scalars(select(CallEvent).where(
                CallEvent.kind == "transcript",
                CallEvent.call_id.in_([c.id for c in calls] or [-1]))
                .order_by(CallEvent.id))).all()
            tickets = (await s.scalars(select(Ticket).where(scope.tickets)
                                       .order_by(Ticket.id))).all()
        by_call: dict[int, list[dict[str, Any]]] = {}
        for e in said:
            by_call.setdefault(e.call_id, []).append(
                {"at": e.at.isoformat(), "speaker": e.data.get("speaker", ""),
                 "text": e.data.get("text", "")})
        return {
            "calls": [_call(c, by_call.get(c.id, [])) for c in calls],
            "tickets": [_ticket(t) for t in tickets],
            "recordings": [c.recording for c in calls if c.recording]
            + [str(t.fields["recording"]) for t in tickets if t.fields.get("recording")],
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _call(c: Call, transcript: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": c.id, "caller": c.caller, "called": c.called, "channel": c.channel,
            "arrived_at": _iso(c.arrived_at), "answered_at": _iso(c.answered_at),
            "ended_at": _iso(c.ended_at), "answered_by": c.answered_by,
            "disposition": c.disposition, "category": c.category, "summary": c.summary,
            "caller_name": c.caller_name, "caller_title": c.caller_title,
            "callback_number": c.callback_number, "satisfaction": c.satisfaction,
            "recording": c.recording, "transcript": transcript}


def _ticket(t: Ticket) -> dict[str, Any]:
    return {"id": t.id, "call": t.call_id, "kind": t.kind, "status": t.status,
            "summary": t.summary, "caller_name": t.caller_name,
            "callback_number": t.callback_number, "fields": t.fields,
            "created_at": _iso(t.created_at), "due_at": _iso(t.due_at),
            "replied_at": _iso(t.replied_at), "reply": t.reply,
            "closed_at": _iso(t.closed_at), "satisfaction": t.satisfaction}
