"""The call side of the appraisal, as SQL aggregates per operator: the answered calls, the
three-ring answers, the handling time, the ratings, and first-contact resolution (each
answered call from a known number with no repeat about the same matter and no ticket within
the window; hotline/domain/appraisal.py defines it)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Interval, and_, case, exists, func, literal, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hotline.domain.appraisal import WITHHELD, OperatorMonth
from hotline.store.database import Database
from hotline.store.models import Call, Ticket


async def no_jit(s: AsyncSession, dialect: str) -> None:
    """PostgreSQL compiles a month's aggregate (its cost is over jit_above_cost) for longer
    than it then runs (0.7 s of 1.1 s for first contact at 100k calls): not in this
    transaction."""
    if dialect == "postgresql":
        await s.execute(text("SET LOCAL jit = off"))


def _seconds(dialect: str, start: Any, end: Any) -> Any:
    if dialect == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


async def call_figures(db: Database, months: Mapping[str, OperatorMonth], since: datetime,
                       until: datetime, window: timedelta) -> None:
    """Fill each OperatorMonth's call figures and first-contact counts for [since, until)."""
    jobs = list(months)
    answered = (Call.arrived_at >= since, Call.arrived_at < until,
                Call.answered_at.is_not(None), Call.answered_by.in_(jobs))
    handle = _seconds(db.engine.dialect.name, Call.answered_at, Call.ended_at)
    known = Call.caller.not_in(list(WITHHELD))
    async with db.unit() as s:
        await no_jit(s, db.engine.dialect.name)
        for job, n, within, ended, handle_s, counted in await s.execute(select(
                Call.answered_by, func.count(),
                func.sum(case((Call.rings.between(1, 3), 1), else_=0)),
                func.count(Call.ended_at), func.sum(handle),
                func.sum(case((known, 1), else_=0))).where(*answered)
                .group_by(Call.answered_by)):
            m = months[str(job)]
            m.answered, m.within_three_rings, m.handled = int(n), int(within or 0), int(ended)
            m.handle_s = round(float(handle_s or 0), 3)
            m.fcr_counted = int(counted or 0)
        for job, rating, n in await s.execute(select(
                Call.answered_by, Call.satisfaction, func.count()).where(
                *answered, Call.satisfaction.is_not(None)).group_by(
                Call.answered_by, Call.satisfaction)):
            months[str(job)].call_ratings += [int(rating or 0)] * int(n)
        resolved = ~exists(repeat_of(db.engine.dialect.name, window)) & ~exists(
            select(Ticket.id).where(Ticket.call_id == Call.id, _within(
                db.engine.dialect.name, Ticket.created_at, Call.arrived_at, window)))
        for job, n in await s.execute(select(
                Call.answered_by, func.sum(case((resolved, 1), else_=0))).where(
                *answered, known).group_by(Call.answered_by)):
            months[str(job)].fcr_resolved = int(n or 0)


def _within(dialect: str, later: Any, earlier: Any, window: timedelta) -> Any:
    """``later`` at most ``window`` after ``earlier``."""
    if dialect == "sqlite":  # stored as text: compare Julian days
        return func.julianday(later) <= func.julianday(earlier) + window / timedelta(days=1)
    return later <= earlier + literal(window, Interval())


def repeat_of(dialect: str, window: timedelta) -> Any:
    """The same number calling again about the same matter (the same category, or either
    uncategorised) within the window after the call (the later of two at one instant)."""
    again = aliased(Call)
    uncategorised = or_(Call.category.is_(None), Call.category == "")
    return select(again.id).where(
        again.caller == Call.caller, again.id != Call.id,
        again.arrived_at >= Call.arrived_at,  # (implied below: the index's range)
        or_(again.arrived_at > Call.arrived_at,
            and_(again.arrived_at == Call.arrived_at, again.id > Call.id)),
        _within(dialect, again.arrived_at, Call.arrived_at, window),
        or_(uncategorised, again.category.is_(None), again.category == "",
            again.category == Call.category))
