"""The console's statistics of a period as SQL aggregates: a handful of GROUP BY queries fill
ConsoleStats (hotline/reports/stats.py) with exactly what adding the period's calls and
tickets a row at a time would, without the rows crossing to Python. Times are counted in
whole microseconds (exact on SQLite and PostgreSQL alike); the calls per local hour and day
are counted per quarter of an hour in UTC, which every zone's offset keeps whole."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, and_, case, cast, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.domain.tickets import UNANSWERED
from hotline.reports.stats import ConsoleStats
from hotline.store.database import Database
from hotline.store.models import Call, Ticket

QUARTER_S = 900
# constants inline, not bound: PostgreSQL groups by an expression only if it is the same text
MILLION: Any = literal_column("1000000")
ORDINALS: list[Any] = [literal_column(str(i)) for i in range(1, 10)]  # GROUP BY 1, 2…: the same


def micros(dialect: str, start: Any, end: Any) -> Any:
    """``end - start`` in whole microseconds, in SQL. SQLite keeps a time as the text
    'YYYY-MM-DD HH:MM:SS.ffffff': whole seconds by strftime, the six digits as they are."""
    if dialect == "sqlite":
        whole = cast(func.strftime("%s", end), Integer) - cast(func.strftime("%s", start),
                                                                Integer)
        return whole * MILLION + (cast(func.substr(end, 21, 6), Integer)
                                  - cast(func.substr(start, 21, 6), Integer))
    return cast(func.round(func.extract("epoch", end - start) * MILLION), BigInteger)


def quarter(dialect: str, at: Any) -> Any:
    """The quarter of an hour (UTC) ``at`` falls in, counted from the epoch."""
    if dialect == "sqlite":
        return cast(func.strftime("%s", at), Integer).op("/")(literal_column(str(QUARTER_S)))
    return cast(func.floor(func.extract("epoch", at) / literal_column(str(QUARTER_S))),
                BigInteger)


async def period_figures(db: Database, since: datetime, until: datetime,
                         zone: ZoneInfo) -> ConsoleStats:
    """ConsoleStats of the calls that arrived, and the tickets raised, in [since, until);
    a ticket is overdue as of ``until``."""
    acc = ConsoleStats(zone)
    async with db.unit() as s:
        await _calls(s, db.engine.dialect.name, acc, since, until)
        await _tickets(s, acc, since, until)
    return acc


async def _calls(s: AsyncSession, dialect: str, acc: ConsoleStats, since: datetime,
                 until: datetime) -> None:
    """Three passes over the period's calls: every combination of the counted columns (a
    few thousand groups at most), the waits, the quarters of an hour."""
    p = acc.period
    period = (Call.arrived_at >= since, Call.arrived_at < until)
    answered = Call.answered_at.is_not(None)
    within = and_(answered, Call.rings.between(1, 3))
    handled = and_(answered, Call.ended_at.is_not(None))
    facets = (Call.disposition, Call.category, Call.satisfaction, Call.answered_by,
              case((answered, 1), else_=0), case((within, 1), else_=0),
              case((handled, 1), else_=0))
    handle_total_us = 0
    for (disposition, category, rating, job, is_answered, is_within, is_handled, n,
         handle_us) in await s.execute(select(
            *facets, func.count(), func.sum(case((handled, micros(
                dialect, Call.answered_at, Call.ended_at)), else_=0))).where(*period)
            .group_by(*ORDINALS[:len(facets)])
            .order_by(func.min(Call.arrived_at), func.min(Call.id))):
        n = int(n)
        p.calls += n
        p.dispositions[disposition or "in progress"] += n
        p.categories[category or "未分类"] += n
        if rating is not None:
            p.rated += n
            p.satisfaction[int(rating)] += n
            if job:
                acc.rating_sums[job] += int(rating) * n
                acc.rating_counts[job] += n
        if is_answered:
            p.answered += n
            p.within_three_rings += n if is_within else 0
            p.by_operator[job or "-"] += n
        if is_handled:
            acc.handled += n
            handle_total_us += int(handle_us)
    acc.handle_s = handle_total_us / 10**6
    acc.resolved_first = p.dispositions["resolved"] + p.dispositions["referred"]
    wait = micros(dialect, Call.arrived_at, Call.answered_at)
    for us, n in await s.execute(select(wait, func.count()).where(*period, answered)
                                 .group_by(ORDINALS[0])):
        p.waits += [int(us) / 10**6] * int(n)
    at = quarter(dialect, Call.arrived_at)
    for q, n in await s.execute(select(at, func.count()).where(*period)
                                .group_by(ORDINALS[0]).order_by(ORDINALS[0])):
        local = datetime.fromtimestamp(int(q) * QUARTER_S, UTC).astimezone(acc.zone)
        acc.per_hour[local.hour] += int(n)
        acc.per_day[local.date().isoformat()] += int(n)


async def _tickets(s: AsyncSession, acc: ConsoleStats, since: datetime,
                   until: datetime) -> None:
    p = acc.period
    overdue = and_(Ticket.status.in_([st.value for st in UNANSWERED]), Ticket.due_at < until)
    late = and_(Ticket.replied_at.is_not(None), Ticket.replied_at > Ticket.due_at)
    for kind, status, n, due, answered_late, extended in await s.execute(select(
            Ticket.kind, Ticket.status, func.count(),
            func.sum(case((overdue, 1), else_=0)), func.sum(case((late, 1), else_=0)),
            func.sum(case((Ticket.extensions > 0, 1), else_=0))).where(
            Ticket.created_at >= since, Ticket.created_at < until)
            .group_by(Ticket.kind, Ticket.status).order_by(func.min(Ticket.id))):
        p.tickets += int(n)
        p.tickets_by_kind[kind] += int(n)
        p.tickets_by_status[status] += int(n)
        p.overdue += int(due or 0)
        p.answered_late += int(answered_late or 0)
        p.extended += int(extended or 0)
