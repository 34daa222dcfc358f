"""`hotline report --month YYYY-MM --xlsx FILE`: the monthly ledger (台账) of calls and tickets
with its statistics sheet, as an XLSX workbook (openpyxl). Callers' numbers appear in full:
the ledger is for the supervisors who own the records; the file is written 0600."""

from __future__ import annotations

import argparse
import asyncio
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font

from hotline.config import Settings
from hotline.domain.tickets import TicketStatus, is_overdue
from hotline.errors import HotlineError
from hotline.reports.stats import period_stats
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.tickets_repo import TicketRepository
from hotline.tickets.setup import ticket_repository

CALL_COLUMNS = (
    "编号 id", "来电时间 arrived", "来电号码 caller", "被叫 called",
    "接听时间 answered", "响铃 rings", "接听工号 answered by",
    "首问责任人 owner", "结束 ended", "结果 disposition", "类别 category",
    "摘要 summary", "来电人 caller name", "回复电话 callback", "满意度 rating",
    "工单 tickets")
TICKET_COLUMNS = ("编号 id", "来电 call", "类型 kind", "状态 status", "摘要 summary",
                  "首问责任人 owner", "承办 assignee", "转办部门 department", "来电人 caller",
                  "回复电话 callback", "受理 created", "时限 due", "答复 replied",
                  "办结 closed", "延期 extensions", "满意度 rating", "超期 overdue")


def register(sub: Any) -> None:
    p = sub.add_parser("report", help="the monthly ledger (台账) as XLSX")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--xlsx", required=True, help="the file to write")
    p.set_defaults(handler=run)


def month_bounds(month: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    try:
        year, mon = (int(x) for x in month.split("-"))
        start = date(year, mon, 1)
    except ValueError:
        raise HotlineError(f"--month {month!r}: expected YYYY-MM") from None
    end = date(year + (mon == 12), mon % 12 + 1, 1)
    return (datetime.combine(start, datetime.min.time(), tz),
            datetime.combine(end, datetime.min.time(), tz))


def _local(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    return value.astimezone(tz).replace(tzinfo=None) if value is not None else None


def build_workbook(month: str, calls: list[Any], tickets: list[Any],
                   by_call: dict[int, list[int]], tz: ZoneInfo, now: datetime) -> Workbook:
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.title = "来电台账"
    sheet.append(CALL_COLUMNS)
    for c in sorted(calls, key=lambda c: (c.arrived_at, c.id)):
        sheet.append((c.id, _local(c.arrived_at, tz), c.caller, c.called,
                      _local(c.answered_at, tz), c.rings, c.answered_by, c.owner,
                      _local(c.ended_at, tz), c.disposition, c.category, c.summary,
                      c.caller_name, c.callback_number, c.satisfaction,
                      ",".join(str(t) for t in by_call.get(c.id, []))))
    ts = wb.create_sheet("工单台账")
    ts.append(TICKET_COLUMNS)
    stats = period_stats(calls, tickets, now)
    for t in tickets:
        ts.append((t.id, t.call_id, t.kind, t.status, t.summary, t.owner, t.assignee,
                   t.department, t.caller_name, t.callback_number, _local(t.created_at, tz),
                   _local(t.due_at, tz), _local(t.replied_at, tz), _local(t.closed_at, tz),
                   t.extensions, t.satisfaction,
                   "是" if is_overdue(TicketStatus(t.status), t.due_at, now) else ""))
    st = wb.create_sheet("统计")
    st.append((f"{month} 统计 statistics", ""))
    for row in stats.rows():
        st.append(row)
    for ws in wb.worksheets:
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
    return wb


async def month_ledger(calls: CallRepository, tickets: TicketRepository, month: str,
                       tz: ZoneInfo) -> tuple[Workbook, int, int]:
    """The month's workbook, and how many calls and tickets it holds (the CLI and the
    console's /ledger). HotlineError for a month that is not YYYY-MM."""
    start, end = month_bounds(month, tz)
    rows = await calls.between(start, end)
    found = await tickets.find(since=start, until=end, limit=1_000_000)
    by_call = await tickets.by_calls([c.id for c in rows])
    return (build_workbook(month, rows, found, by_call, tz, datetime.now(UTC)), len(rows),
            len(found))


def run(args: argparse.Namespace, settings: Settings) -> int:
    async def load() -> tuple[Workbook, int, int]:
        db = Database(settings.effective_db_url)
        try:
            return await month_ledger(CallRepository(db), ticket_repository(db, settings),
                                      args.month, ZoneInfo(settings.timezone))
        finally:
            await db.close()

    wb, calls, tickets = asyncio.run(load())
    out = Path(args.xlsx)
    wb.save(out)
    os.chmod(out, 0o600)
    print(f"{out}: {calls} calls, {tickets} tickets for {args.month}")
    return 0
