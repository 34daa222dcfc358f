"""`hotline report --month YYYY-MM --xlsx FILE`: the monthly ledger (台账) of calls and tickets
with its statistics sheet, as an XLSX workbook (openpyxl). Callers' numbers appear in full:
the ledger is for the supervisors who own the records; the file is written 0600."""

from __future__ import annotations

import argparse
import asyncio
import functools
import multiprocessing
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from hotline.config import Settings
from hotline.domain.appraisal import AppraisalRules
from hotline.domain.loop.limits import Limits
from hotline.domain.tickets import DEFAULT_DAYS, TicketStatus, is_overdue
from hotline.domain.workdays import WorkCalendar
from hotline.duty.setup import appraisal_rules
from hotline.errors import HotlineError
from hotline.inspection import ledger_sheet
from hotline.inspection.repo import InspectionRepository
from hotline.reports.appraisal import MonthAppraisal, month_appraisal
from hotline.reports.appraisal_sheets import write_sheets
from hotline.reports.loop_sheets import LoopSheets
from hotline.reports.stats import PeriodStats
from hotline.reports.xlsx_rows import fast_sheet
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.loop_repo import LoopRepository
from hotline.store.tickets_repo import TicketRepository

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


# What a spreadsheet would take for the start of a formula (or of a DDE payload).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class LedgerBook:
    """The workbook in openpyxl's write-only mode: rows go to temporary files as they come, so
    a month of any size takes the same memory; plain rows are written fast (xlsx_rows.py).
    Sheets are written in order (calls, tickets, complaints, inspections, follow-ups, units,
    appraisal, attendance, statistics); every method does CPU work and is called off the
    event loop."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.wb = Workbook(write_only=True)
        # every sheet made up front, in the order they are read (a write-only workbook
        # takes rows for any of them in any order); the units' and the statistics at save
        self.calls = self._sheet("来电台账", CALL_COLUMNS)
        self.tickets = self._sheet("工单台账", TICKET_COLUMNS)
        self.loop = LoopSheets(self._sheet, self._row, tz)  # complaints, follow-ups, units
        self.loop.open_complaints()
        self.inspections = self._sheet(ledger_sheet.SHEET, ledger_sheet.COLUMNS)
        self.loop.add_follow_ups([])
        self.stats = PeriodStats()
        self.appraisal: MonthAppraisal | None = None  # its sheets after the units'

    def _sheet(self, title: str, header: tuple[str, ...]) -> Any:
        ws = fast_sheet(self.wb, title)
        ws.freeze_panes = "A2"
        bold = Font(bold=True)
        ws.append([_cell(ws, h, bold) for h in header])
        return ws

    def _row(self, ws: Any, values: tuple[Any, ...]) -> None:
        """One row; an empty string is an empty cell (not written at all)."""
        ws.append([(_cell(ws, v) if v.startswith(FORMULA_STARTS) else v or None)
                   if isinstance(v, str) else v for v in values])

    def add_calls(self, rows: list[Any], by_call: dict[int, list[int]]) -> None:
        tz = self.tz
        for c in rows:
            self._row(self.calls, (
                c.id, _local(c.arrived_at, tz), c.caller, c.called, _local(c.answered_at, tz),
                c.rings, c.answered_by, c.owner, _local(c.ended_at, tz), c.disposition,
                c.category, c.summary, c.caller_name, c.callback_number, c.satisfaction,
                ",".join(str(t) for t in by_call.get(c.id, []))))
            self.stats.add_call(c)

    def add_tickets(self, rows: list[Any], now: datetime) -> None:
        tz = self.tz
        for t in rows:
            self._row(self.tickets, (
                t.id, t.call_id, t.kind, t.status, t.summary, t.owner, t.assignee,
                t.department, t.caller_name, t.callback_number, _local(t.created_at, tz),
                _local(t.due_at, tz), _local(t.replied_at, tz), _local(t.closed_at, tz),
                t.extensions, t.satisfaction,
                "是" if is_overdue(TicketStatus(t.status), t.due_at, now) else ""))
            self.stats.add_ticket(t, now)
            self.loop.add_ticket(t)

    def add_inspections(self, rows: list[Any]) -> None:
        """The inspection ledger (巡查记录)."""
        for i in rows:
            self._row(self.inspections, ledger_sheet.row(i, self.tz))

    def save(self, month: str, out: str | Path | IO[bytes]) -> None:
        self.loop.finish()  # the follow-ups and the units' figures
        if self.appraisal is not None:
            write_sheets(self, self.appraisal)
        st = self._sheet("统计", (f"{month} 统计 statistics", ""))
        for row in self.stats.finish().rows():
            self._row(st, row)
        self.wb.save(out)


def _cell(ws: Any, value: Any, font: Font | None = None) -> WriteOnlyCell:
    """A cell written as it reads: a string stays a string (never a formula, whatever it
    begins with), marked quote-prefixed so that editing it in a spreadsheet keeps it text."""
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
        cell.quotePrefix = value.startswith(FORMULA_STARTS)
    if font is not None:
        cell.font = font
    return cell


async def write_ledger(calls: CallRepository, tickets: TicketRepository, month: str,
                       tz: ZoneInfo, out: str | Path | IO[bytes],
                       inspections: InspectionRepository | None = None,
                       loop: LoopRepository | None = None,
                       appraisal: AppraisalRules | None = None) -> tuple[int, int]:
    """The month's workbook written to ``out``, and how many calls and tickets it holds (the
    CLI and the console's /ledger). The records are read a chunk at a time while the chunk
    before is written (and counted) on a worker thread, so neither the month's size nor the
    writing holds up the event loop; at most two chunks wait in memory. HotlineError for a
    month that is not YYYY-MM."""
    start, end = month_bounds(month, tz)
    now = datetime.now(UTC)
    book = await asyncio.to_thread(LedgerBook, tz)
    ready: asyncio.Queue[Callable[[], None] | None] = asyncio.Queue(maxsize=2)

    async def read() -> None:
        async for rows in calls.chunks_between(start, end):
            by_call = await tickets.by_calls([c.id for c in rows])
            await ready.put(functools.partial(book.add_calls, rows, by_call))
        async for found in tickets.chunks_created(start, end):
            await ready.put(functools.partial(book.add_tickets, found, now))
        if inspections is not None:
            async for done in inspections.chunks_between(start, end):
                await ready.put(functools.partial(book.add_inspections, done))
        if loop is not None:  # the loop's sheets: follow-ups, then the units' figures
            async for visits in loop.follow_ups_between(start, end):
                await ready.put(functools.partial(book.loop.add_follow_ups, visits))
            book.loop.units = await loop.unit_stats(start, end)
        await ready.put(None)

    async def write() -> None:
        while (step := await ready.get()) is not None:
            await asyncio.to_thread(step)

    async def appraise(rules: AppraisalRules) -> None:
        book.appraisal = await month_appraisal(calls.db, start, end, tz, rules, now=now)

    async with asyncio.TaskGroup() as tg:
        tg.create_task(read())
        tg.create_task(write())
        if appraisal is not None:  # the appraisal and attendance sheets (004 篇5), counted
            tg.create_task(appraise(appraisal))  # meanwhile (mostly the database's work)
    await asyncio.to_thread(book.save, month, out)
    return book.stats.calls, book.stats.tickets


def export_ledger(db_url: str, month: str, timezone: str, path: Path,
                  appraisal: AppraisalRules | None = None) -> tuple[int, int]:
    """Write the month's ledger to ``path`` (created 0600: it holds callers' numbers) with a
    connection of its own: (calls, tickets). The CLI runs it as is; the console runs it in a
    process of its own (ledger_in_child), so that building the book competes with live
    calls for no lock of the console's interpreter."""
    zone = ZoneInfo(timezone)
    month_bounds(month, zone)  # a bad month before any file

    async def write() -> tuple[int, int]:
        db = Database(db_url)
        # only read here: the calendar and the deadlines do not matter
        tickets = TicketRepository(db, WorkCalendar(zone), dict(DEFAULT_DAYS))
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)  # an existing file too
            with os.fdopen(fd, "wb") as f:
                return await write_ledger(CallRepository(db), tickets, month, zone, f,
                                          InspectionRepository(db),
                                          LoopRepository(db, Limits(WorkCalendar(zone))),
                                          appraisal)
        finally:
            await db.close()

    return asyncio.run(write())


async def ledger_in_child(db_url: str, month: str, timezone: str,
                          appraisal: AppraisalRules | None = None) -> tuple[bytes, int, int]:
    """The console's /ledger: the workbook built by a fresh process (spawned, not forked
    from a process with threads), read back and removed: (xlsx, calls, tickets)."""
    month_bounds(month, ZoneInfo(timezone))  # the caller's error, before any process
    with tempfile.TemporaryDirectory(prefix="hotline-ledger-") as folder:
        path = Path(folder) / "ledger.xlsx"
        loop = asyncio.get_running_loop()
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        try:
            calls, tickets = await loop.run_in_executor(
                pool, export_ledger, db_url, month, timezone, path, appraisal)
        finally:  # waiting for the child to exit is a thread's wait, not the loop's
            await asyncio.to_thread(pool.shutdown)
        return await asyncio.to_thread(path.read_bytes), calls, tickets


def run(args: argparse.Namespace, settings: Settings) -> int:
    out = Path(args.xlsx)
    calls, tickets = export_ledger(settings.effective_db_url, args.month, settings.timezone,
                                   out, appraisal_rules(settings))
    print(f"{out}: {calls} calls, {tickets} tickets for {args.month}")
    return 0
