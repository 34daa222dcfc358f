"""The inspection records in the store: saving a scorecard, its rectification follow-through,
the month's records (the ledger, a chunk at a time), the month's calls that may be sampled,
and each operator's mean score."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, or_, select

from hotline.errors import NotFoundError
from hotline.inspection.sampling import Candidate
from hotline.store.chunks import chunks
from hotline.store.database import Database
from hotline.store.models import Call, Inspection, Ticket


@dataclass(frozen=True)
class Scorecard:
    """What the inspector saved for one call."""

    call_id: int
    operator: str
    inspector: str
    at: datetime
    checklist: str
    score: float
    results: dict[str, Any]
    findings: dict[str, Any]
    remarks: str = ""
    rectification: str = ""


@dataclass(frozen=True)
class OperatorScore:
    operator: str
    mean: float  # the mean inspection score (0-100) of the month's inspected calls
    inspections: int


class InspectionRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def save(self, card: Scorecard) -> int:
        """The call's inspection, written or replaced (one per call): its id. A replaced
        one keeps its rectification follow-through only if the rectification is unchanged."""
        async with self.db.unit() as s:
            call = await s.get(Call, card.call_id)
            if call is None:
                raise NotFoundError(f"no call {card.call_id}")
            row = (await s.scalars(select(Inspection).where(
                Inspection.call_id == card.call_id))).first()
            if row is None:
                row = Inspection(call_id=card.call_id, rectified_at=None, rectified_by=None,
                                 follow_up="")
                s.add(row)
            elif row.rectification != card.rectification:
                row.rectified_at, row.rectified_by, row.follow_up = None, None, ""
            row.call_at = call.arrived_at
            for name in ("operator", "inspector", "at", "checklist", "score", "results",
                         "findings", "remarks", "rectification"):
                setattr(row, name, getattr(card, name))
            await s.flush()
            return row.id

    async def rectified(self, inspection_id: int, by: str, follow_up: str, at: datetime
                        ) -> Inspection:
        """The rectification carried out (整改落实): who confirmed it, when, and how."""
        async with self.db.unit() as s:
            row = await s.get(Inspection, inspection_id)
            if row is None:
                raise NotFoundError(f"no inspection {inspection_id}")
            row.rectified_at, row.rectified_by, row.follow_up = at, by, follow_up
            await s.flush()
            return row

    async def get(self, inspection_id: int) -> Inspection:
        async with self.db.unit() as s:
            row = await s.get(Inspection, inspection_id)
        if row is None:
            raise NotFoundError(f"no inspection {inspection_id}")
        return row

    async def of_call(self, call_id: int) -> Inspection | None:
        async with self.db.unit() as s:
            return (await s.scalars(select(Inspection).where(
                Inspection.call_id == call_id))).first()

    async def of_calls(self, call_ids: list[int]) -> dict[int, Inspection]:
        if not call_ids:
            return {}
        found: dict[int, Inspection] = {}
        async with self.db.unit() as s:
            for i in range(0, len(call_ids), 1000):
                rows = await s.scalars(select(Inspection).where(
                    Inspection.call_id.in_(call_ids[i:i + 1000])))
                found.update({r.call_id: r for r in rows})
        return found

    def chunks_between(self, start: datetime, end: datetime, size: int | None = None
                       ) -> AsyncIterator[list[Row[Any]]]:
        """The inspections of the calls that arrived in [start, end), in call order, a chunk
        at a time (the ledger's sheet)."""
        query = select(*Inspection.__table__.columns).where(
            Inspection.call_at >= start, Inspection.call_at < end)
        return chunks(self.db, query, (Inspection.call_at, Inspection.id), size)

    async def month(self, start: datetime, end: datetime, limit: int = 1000
                    ) -> list[Inspection]:
        async with self.db.unit() as s:
            return list((await s.scalars(select(Inspection).where(
                Inspection.call_at >= start, Inspection.call_at < end).order_by(
                    Inspection.call_at, Inspection.id).limit(limit))).all())

    async def mean_scores(self, start: datetime, end: datetime) -> dict[str, OperatorScore]:
        query = select(Inspection.operator, func.avg(Inspection.score), func.count()).where(
            Inspection.call_at >= start, Inspection.call_at < end).group_by(
                Inspection.operator)
        async with self.db.unit() as s:
            rows = (await s.execute(query)).all()
        return {op: OperatorScore(op, round(float(mean), 1), int(n)) for op, mean, n in rows}

    async def candidates(self, start: datetime, end: datetime, exclude: set[str]
                         ) -> list[Candidate]:
        """The ended calls of [start, end) answered by an operator (not by the attendant's
        post, ``exclude``), each with its rating and whether it carries a complaint."""
        complaint = select(Ticket.call_id).where(Ticket.kind == "complaint",
                                                 Ticket.call_id == Call.id).exists()
        query = select(Call.id, Call.answered_by, Call.satisfaction,
                       or_(Call.disposition == "complaint", complaint)).where(
            Call.arrived_at >= start, Call.arrived_at < end, Call.answered_by.is_not(None),
            Call.ended_at.is_not(None))
        if exclude:
            query = query.where(Call.answered_by.not_in(sorted(exclude)))
        out: list[Candidate] = []
        keyed: Any = query.add_columns(Call.arrived_at)
        async for rows in chunks(self.db, keyed, (Call.arrived_at, Call.id)):
            for r in rows:
                cid, who, rating, complained = tuple(r)[:4]
                out.append(Candidate(cid, str(who), rating, bool(complained)))
        return out
