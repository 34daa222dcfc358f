"""A month's appraisal and attendance over the stores (hotline/domain/appraisal.py scores
them): the calls and tickets of the month are counted in SQL, the operators' transcripts
read a chunk at a time, the duty log as it is. The console's /appraisal, `hotline duty
appraisal` and the ledger share it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal_column, select

from hotline.domain.appraisal import (
    Appraisal,
    AppraisalRules,
    OperatorMonth,
    appraise,
)
from hotline.domain.duty import Attendance, attendance
from hotline.domain.etiquette import flag
from hotline.duty.store import DutyLog
from hotline.inspection.repo import InspectionRepository
from hotline.reports.appraisal_calls import call_figures
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.models import Operator, Ticket

ORDINAL: Any = literal_column("1")  # GROUP BY 1: the JSON path is a bound parameter


@dataclass(frozen=True)
class MonthAppraisal:
    appraisals: list[Appraisal]
    attendance: Attendance


def _count_flags(rows: list[Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in rows:
        who = row.data.get("job_number") or row.answered_by
        n = len(flag(str(row.data.get("text", ""))))
        if n and who:
            out[who] = out.get(who, 0) + n
    return out


async def month_appraisal(db: Database, since: datetime, until: datetime, zone: ZoneInfo,
                          rules: AppraisalRules,
                          inspection: Mapping[str, float] | None = None, *,
                          now: datetime | None = None) -> MonthAppraisal:
    """Every operator seat's appraisal for [since, until). The inspection part is each
    operator's mean scorecard of the month (hotline/inspection); ``inspection`` gives scores
    (0-100) per job number from elsewhere instead, for the operators it names.
    Attendance runs to ``now`` at most (a month not over yet counts no time to come)."""
    calls = CallRepository(db)
    log = DutyLog(db)
    async with db.unit() as s:
        seats = list((await s.execute(select(Operator.job_number, Operator.name)
                                      .order_by(Operator.job_number))).all())
    months = {job: OperatorMonth(job, name) for job, name in seats}
    names = {name: job for job, name in seats if name}
    await call_figures(db, months, since, until, rules.fcr_window)
    async with db.unit() as s:
        # the follow-up satisfaction of the tickets closed in the month, by their owner
        for owner, rating, n in await s.execute(select(
                Ticket.owner, Ticket.satisfaction, func.count()).where(
                Ticket.closed_at >= since, Ticket.closed_at < until,
                Ticket.satisfaction.is_not(None)).group_by(Ticket.owner, Ticket.satisfaction)):
            if owner in months and rating is not None:
                months[owner].ticket_ratings += [int(rating)] * int(n)
        # the complaints against an operator raised in the month (被投诉人: job or name)
        respondent = Ticket.fields["respondent_name"].as_string()
        for who, n in await s.execute(select(respondent, func.count()).where(
                Ticket.kind == "complaint", Ticket.created_at >= since,
                Ticket.created_at < until, respondent.is_not(None)).group_by(ORDINAL)):
            name = str(who).strip()
            job = name if name in months else names.get(name)
            if job:
                months[job].complaints_against += int(n)
    async for chunk in calls.operator_transcripts(since, until):
        for job, n in (await asyncio.to_thread(_count_flags, chunk)).items():
            if job in months:
                months[job].phrases_flagged += n
    upto = min(until, now) if now is not None else until
    present = attendance(await log.between(since, upto), since, upto, zone,
                         await log.state_at(since))
    for job, totals in present.by_operator().items():
        if job in months:
            months[job].duty_s = totals["on_duty_s"]
    # the month's quality inspection (质检) mean per operator, unless given here instead
    stored = {job: score.mean for job, score in
              (await InspectionRepository(db).mean_scores(since, until)).items()}
    for job, score in (stored | dict(inspection or {})).items():
        if job in months:
            months[job].inspection = float(score)
    return MonthAppraisal([appraise(m, rules) for m in months.values()], present)


def parse_inspection(text: str) -> dict[str, float]:
    """``JOB,SCORE`` a line (a CSV with no header, or with ``job_number,score``): the
    optional inspection scores. ValueError naming the line for a bad one."""
    out: dict[str, float] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.strip().lower().startswith("job_number"):
            continue
        job, sep, score = line.partition(",")
        try:
            value = float(score)
        except ValueError:
            value = -1.0
        if not sep or not job.strip() or not 0 <= value <= 100:
            raise ValueError(f"line {n}: {line!r}: expected JOB,SCORE with SCORE 0-100")
        out[job.strip()] = value
    return out
