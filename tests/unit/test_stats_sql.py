"""The console's statistics as SQL aggregates (hotline/reports/stats_sql.py) equal, figure
for figure, the same period added a row at a time (ConsoleStats.add_call/add_ticket), on
both databases: unanswered, unrated and uncategorised calls, waits and handling times with
microseconds, calls across local midnight, tickets overdue, answered late and extended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from hotline.reports.stats import ConsoleStats
from hotline.reports.stats_sql import period_figures
from hotline.store.database import Database
from hotline.store.models import Call, Ticket

ZONE = ZoneInfo("Asia/Shanghai")
SINCE = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)  # 1 Nov, Shanghai
UNTIL = SINCE + timedelta(days=2)


def _call(i: int) -> dict[str, object]:
    at = SINCE - timedelta(hours=1) + timedelta(minutes=37 * i, microseconds=7919 * i)
    answered = i % 5 != 0
    return {
        "channel_id": f"s-{i}", "node": "", "channel": "phone", "caller": f"139{i % 7:08d}",
        "called": "12345", "arrived_at": at,
        "answered_at": at + timedelta(seconds=2 + i % 4, microseconds=123457 * (i % 3))
        if answered else None,
        "rings": i % 6, "answered_by": (None, "", "1001", "1002")[i % 4] if answered
        else None,
        "ended_at": at + timedelta(seconds=50 + i, microseconds=999999 * (i % 2))
        if i % 7 else None,
        "disposition": (None, "", "resolved", "referred", "abandoned", "silent")[i % 6],
        "state": "ended", "category": (None, "", "投诉", "求助")[i % 4], "summary": "",
        "caller_name": "", "caller_title": "", "callback_number": "", "owner": None,
        "satisfaction": (None, 1, 3, 5)[i % 4] if i % 3 else None, "recording": None}


def _ticket(n: int) -> dict[str, object]:
    at = SINCE - timedelta(hours=3) + timedelta(minutes=71 * n)
    due = at + timedelta(hours=5 + 20 * (n % 3))
    return {
        "call_id": None, "kind": ("callback", "message", "complaint", "referral")[n % 4],
        "status": ("open", "assigned", "in_progress", "replied", "follow_up", "closed")[n % 6],
        "summary": "", "owner": "1001", "assignee": None, "department": "",
        "caller_name": "", "callback_number": "", "fields": {}, "created_at": at,
        "due_at": due, "replied_at": due + timedelta(hours=n % 3 - 1) if n % 2 else None,
        "reply": "", "closed_at": None, "satisfaction": None, "extensions": n % 4 // 3}


async def test_the_sql_figures_equal_a_row_at_a_time(db: Database) -> None:
    async with db.unit() as s:
        await s.execute(insert(Call), [_call(i) for i in range(160)])
        await s.execute(insert(Ticket), [_ticket(n) for n in range(60)])
    expected = ConsoleStats(ZONE)
    async with db.unit() as s:
        for c in (await s.scalars(select(Call).where(
                Call.arrived_at >= SINCE, Call.arrived_at < UNTIL).order_by(
                Call.arrived_at, Call.id))).all():
            expected.add_call(c)
        for t in (await s.scalars(select(Ticket).where(
                Ticket.created_at >= SINCE, Ticket.created_at < UNTIL).order_by(
                Ticket.id))).all():
            expected.period.add_ticket(t, UNTIL)
    want = expected.figures()
    got = (await period_figures(db, SINCE, UNTIL, ZONE)).figures()
    assert 0 < want["calls"] < 160 and 0 < want["tickets"] < 60
    p = expected.period
    assert p.overdue and p.answered_late and p.extended and len(want["per_day"]) == 2
    assert got == want
    assert list(got["dispositions"]) == list(want["dispositions"])
    assert list(got["categories"]) == list(want["categories"])
