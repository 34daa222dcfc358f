"""The call-record repository: the CallStore port over SQLAlchemy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, String, case, func, insert, select, union, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from hotline.domain.calls import NewCall, caller_forms, caller_number
from hotline.errors import NotFoundError
from hotline.store.chunks import chunks
from hotline.store.database import Database
from hotline.store.models import Call, CallEvent

_UPDATABLE = {c.name for c in Call.__table__.columns if c.name not in ("id", "channel_id")}
# What a query is trimmed of at both ends: ASCII whitespace, no-break and ideographic spaces.
_BLANKS = " \t\n\r\f\v\u00a0\u3000"


class _Trim(FunctionElement[str]):
    """trim(text, characters): SQLite's trim; btrim on PostgreSQL (any version)."""

    type = String()
    inherit_cache = True


@compiles(_Trim, "postgresql")
def _trim_pg(element: _Trim, compiler: SQLCompiler, **kw: Any) -> str:
    return f"btrim({compiler.process(element.clauses, **kw)})"


@compiles(_Trim)
def _trim_default(element: _Trim, compiler: SQLCompiler, **kw: Any) -> str:
    return f"trim({compiler.process(element.clauses, **kw)})"


@dataclass(frozen=True)
class UnmatchedQuery:
    """A query the directory had nothing registered for, and how often it was asked."""

    query: str
    count: int
    first_at: datetime
    last_at: datetime


class CallRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def ping(self) -> None:
        await self.db.ping()

    async def open_call(self, call: NewCall) -> int:
        """Insert the record (and its arrival event) in one round trip; an adopted call
        after a restart keeps the record it already has."""
        try:
            async with self.db.unit() as s:
                call_id = await s.scalar(insert(Call).values(
                    channel_id=call.channel_id, caller=call.caller, called=call.called,
                    arrived_at=call.arrived_at, node=call.node, channel=call.channel, rings=0,
                    state="arrived",
                    summary="", caller_name="", caller_title="", callback_number="",
                ).returning(Call.id))
                s.add(CallEvent(call_id=call_id, at=call.arrived_at, kind="arrived",
                                data={"channel": call.channel_id}))
                return int(call_id or 0)
        except IntegrityError:
            async with self.db.unit() as s:
                existing = await s.scalar(select(Call.id).where(
                    Call.channel_id == call.channel_id))
            if existing is None:
                raise
            return existing

    async def update_call(self, call_id: int, **fields: Any) -> None:
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"unknown call fields: {sorted(unknown)}")
        async with self.db.unit() as s:
            await s.execute(update(Call).where(Call.id == call_id).values(**fields))

    async def annotate(self, call_id: int, by: str, fields: dict[str, str]) -> None:
        """The operator's first-question fields, and who wrote them (an ``annotated`` event).
        NotFoundError if there is no such call."""
        await self.get(call_id)
        await self.update_call(call_id, **fields)
        await self.add_event(call_id, "annotated", {"by": by, "fields": sorted(fields)})

    async def add_event(self, call_id: int, kind: str, data: dict[str, Any],
                        at: datetime | None = None, *, key: str | None = None) -> None:
        """One event; with a ``key`` (the journal's), written once however often it is
        written: the same key again is ignored."""
        values = {"call_id": call_id, "at": at or datetime.now(UTC), "kind": kind,
                  "data": data}
        async with self.db.unit() as s:
            if key is None:
                s.add(CallEvent(**values))
                return
            dialect_insert = pg_insert if self.db.engine.dialect.name == "postgresql" \
                else sqlite_insert
            await s.execute(dialect_insert(CallEvent).values(**values, key=key)
                            .on_conflict_do_nothing(index_elements=["key"]))

    async def get(self, call_id: int) -> Call:
        async with self.db.unit() as s:
            row = await s.get(Call, call_id)
            if row is None:
                raise NotFoundError(f"no call {call_id}")
            await s.refresh(row, ["events"])
            return row

    async def recent(self, limit: int = 50, since: datetime | None = None) -> list[Call]:
        query = select(Call).order_by(Call.arrived_at.desc(), Call.id.desc()).limit(limit)
        if since is not None:
            query = query.where(Call.arrived_at >= since)
        async with self.db.unit() as s:
            return list((await s.scalars(query)).all())

    async def find(self, *, since: datetime | None = None, until: datetime | None = None,
                   operator: str = "", disposition: str = "", category: str = "",
                   caller: str = "", limit: int = 200) -> list[Call]:
        """The call log with the supervisor's filters, newest first. ``operator`` matches
        who answered or who owns the record."""
        query = select(Call).order_by(Call.arrived_at.desc(), Call.id.desc()).limit(limit)
        if since is not None:
            query = query.where(Call.arrived_at >= since)
        if until is not None:
            query = query.where(Call.arrived_at < until)
        if operator:
            query = query.where((Call.answered_by == operator) | (Call.owner == operator))
        if disposition:
            query = query.where(Call.disposition == disposition)
        if category:
            query = query.where(Call.category == category)
        if caller:
            query = query.where(Call.caller.contains(caller, autoescape=True))
        async with self.db.unit() as s:
            return list((await s.scalars(query)).all())

    async def by_caller(self, number: str, limit: int = 20) -> list[Call]:
        """The calls from one caller, newest first: an exact match on the normalised number
        (domain.calls.caller_number), in each form it may be stored in; nothing for an
        anonymous or malformed one."""
        normal = caller_number(number)
        if normal is None:
            return []
        query = select(Call).where(Call.caller.in_(caller_forms(normal))) \
            .order_by(Call.arrived_at.desc(), Call.id.desc()).limit(limit)
        async with self.db.unit() as s:
            return list((await s.scalars(query)).all())

    def chunks_between(self, start: datetime, end: datetime, *columns: Any,
                       size: int | None = None) -> AsyncIterator[list[Row[Any]]]:
        """The calls that arrived in [start, end), oldest first, a chunk of rows at a time
        (the ledger, the statistics): ``columns`` of the record (default all), with
        ``arrived_at`` and ``id`` always among them."""
        wanted = list(columns or Call.__table__.columns)
        for key in (Call.arrived_at, Call.id):
            if not any(c.key == key.key for c in wanted):
                wanted.append(key)
        query = select(*wanted).where(Call.arrived_at >= start, Call.arrived_at < end)
        return chunks(self.db, query, (Call.arrived_at, Call.id), size)

    async def answer_counts(self, start: datetime, end: datetime) -> tuple[int, int, int]:
        """(calls, answered, answered within three rings) arrived in [start, end), counted
        in SQL: the wallboard asks every 2 s."""
        answered = Call.answered_at.is_not(None)
        query = select(func.count(), func.count(Call.answered_at), func.coalesce(func.sum(
            case((answered & Call.rings.between(1, 3), 1), else_=0)), 0)).where(
                Call.arrived_at >= start, Call.arrived_at < end)
        async with self.db.unit() as s:
            calls, taken, within = (await s.execute(query)).one()
        return int(calls), int(taken), int(within)

    async def holders(self, call_ids: list[int]) -> dict[int, str]:
        """Who holds each call now, where a transfer to a colleague moved it: the seat of
        its latest `transferred` event (the others are held by whoever answered)."""
        if not call_ids:
            return {}
        query = select(CallEvent.call_id, CallEvent.data).where(
            CallEvent.kind == "transferred", CallEvent.call_id.in_(call_ids)) \
            .order_by(CallEvent.id)
        async with self.db.unit() as s:
            rows = (await s.execute(query)).all()
        return {call_id: str(data["seat"]) for call_id, data in rows if data.get("seat")}

    async def emergencies(self, since: datetime) -> list[tuple[int, str, datetime, dict[str, Any]]]:
        """The latest ``emergency`` event of each call since a time: (call, caller, at,
        data with the line and the outcome), the newest first (the wallboard's list)."""
        query = select(CallEvent.call_id, Call.caller, CallEvent.at, CallEvent.data) \
            .join(Call, Call.id == CallEvent.call_id) \
            .where(CallEvent.kind == "emergency", CallEvent.at >= since) \
            .order_by(CallEvent.id)
        async with self.db.unit() as s:
            rows = (await s.execute(query)).all()
        latest: dict[int, tuple[int, str, datetime, dict[str, Any]]] = {}
        for call_id, caller, at, data in rows:
            latest[call_id] = (call_id, caller, at, dict(data))
        return sorted(latest.values(), key=lambda r: r[2], reverse=True)

    async def unmatched_queries(self, since: datetime, limit: int = 100
                                ) -> list[UnmatchedQuery]:
        """The ``unmatched_query`` events since a time, grouped by the query (trimmed of
        whitespace at both ends), with how often and when first and last asked, the most
        recently asked first; counted in SQL, on SQLite and PostgreSQL alike."""
        text = _Trim(CallEvent.data["query"].as_string(), _BLANKS)
        asked = select(text.label("query"), CallEvent.at.label("at")).where(
            CallEvent.kind == "unmatched_query", CallEvent.at >= since).subquery()
        last = func.max(asked.c.at)
        query = select(asked.c.query, func.count(), func.min(asked.c.at), last) \
            .where(asked.c.query.is_not(None), asked.c.query != "") \
            .group_by(asked.c.query).order_by(last.desc(), asked.c.query).limit(limit)
        async with self.db.unit() as s:
            rows = (await s.execute(query)).all()
        return [UnmatchedQuery(q, int(n), first, latest) for q, n, first, latest in rows]

    async def asked_entries(self, since: datetime | None = None, limit: int = 100
                            ) -> list[tuple[str, int]]:
        """The directory entries callers asked for, as (entry id, calls), the most asked
        first: a call counts once for an entry that was the confident top hit of one of its
        ``lookup`` events or that the caller confirmed (``lookup_confirmed``, also after a
        district was asked). Counted in SQL, on SQLite and PostgreSQL alike."""
        top = select(CallEvent.call_id, CallEvent.data[("results", 0, "id")].as_string()
                     .label("entry")).where(CallEvent.kind == "lookup",
                                            CallEvent.data["confident"].as_boolean())
        confirmed = select(CallEvent.call_id, CallEvent.data["id"].as_string().label("entry")) \
            .where(CallEvent.kind == "lookup_confirmed")
        if since is not None:
            top = top.where(CallEvent.at >= since)
            confirmed = confirmed.where(CallEvent.at >= since)
        asked = union(top, confirmed).subquery()  # union: one (call, entry) pair once
        calls = func.count()
        query = select(asked.c.entry, calls).where(asked.c.entry.is_not(None)) \
            .group_by(asked.c.entry).order_by(calls.desc(), asked.c.entry).limit(limit)
        async with self.db.unit() as s:
            rows = (await s.execute(query)).all()
        return [(str(entry), int(n)) for entry, n in rows]

    def operator_transcripts(self, start: datetime, end: datetime, size: int | None = None
                             ) -> AsyncIterator[list[Row[Any]]]:
        """What operators said on the calls that arrived in [start, end), in chunks: rows of
        (id, call_id, at, data, answered_by) of the ``transcript`` events whose speaker is
        the operator (the inspection list)."""
        query = select(CallEvent.id, CallEvent.call_id, CallEvent.at, CallEvent.data,
                       Call.answered_by).join(Call, Call.id == CallEvent.call_id).where(
            CallEvent.kind == "transcript",
            CallEvent.data["speaker"].as_string() == "operator",
            Call.arrived_at >= start, Call.arrived_at < end)
        return chunks(self.db, query, (CallEvent.id,), size)

    async def open_calls(self, node: str | None = None,
                         before: datetime | None = None) -> list[Call]:
        """Records not closed yet (of one node, arrived before a time, if given)."""
        query = select(Call).where(Call.ended_at.is_(None))
        if node is not None:
            query = query.where(Call.node == node)
        if before is not None:
            query = query.where(Call.arrived_at < before)
        async with self.db.unit() as s:
            return list((await s.scalars(query)).all())

    async def close_stale(self, call_id: int, reason: str) -> None:
        """Close a record whose call ended unseen (the controller was down): it ended no
        earlier than the last thing the record knows, which becomes its end."""
        async with self.db.unit() as s:
            row = await s.get(Call, call_id)
            if row is None or row.ended_at is not None:
                return
            last = await s.scalar(select(func.max(CallEvent.at))
                                  .where(CallEvent.call_id == call_id))
            row.ended_at = max(x for x in (last, row.answered_at, row.arrived_at) if x)
            row.state = "ended"
            row.disposition = "failed"
            s.add(CallEvent(call_id=call_id, at=datetime.now(UTC), kind="reconciled",
                            data={"reason": reason}))

    async def record_unattended(self, call: NewCall) -> int | None:
        """A call the dialplan answered with the apology while no controller was connected;
        None if it has its record already."""
        try:
            async with self.db.unit() as s:
                call_id = await s.scalar(insert(Call).values(
                    channel_id=call.channel_id, caller=call.caller, called=call.called,
                    arrived_at=call.arrived_at, answered_at=call.arrived_at,
                    ended_at=call.arrived_at, node=call.node, rings=0, state="ended",
                    disposition="unattended", summary="", caller_name="", caller_title="",
                    callback_number="").returning(Call.id))
                s.add(CallEvent(call_id=call_id, at=call.arrived_at, kind="unattended",
                                data={"channel": call.channel_id}))
                return int(call_id or 0)
        except IntegrityError:
            return None
