"""The back office at scale (issue 18): 300k calls over three months (100k in the month
measured), 100k tickets, 20 operators with a month of duty changes, 40 handling units with
the loop's data (bench/backoffice_loop.py: dispatches, signings, returns, replies, follow-up
visits, reminders of what is overdue) and a unit user, on SQLite and on PostgreSQL.
Measures, on the production console (real HTTP, real stores):
- the ticket board (/tickets: a supervisor's, an operator's, a unit user's), the unit's
  dashboard (/unit) and the duty page (/duty, an operator with the handover's and the
  stand-in's ticket reads): p50 and p95 over --pages requests (goal p95 <= 200 ms);
- a month's statistics (/stats' figures), appraisal and per-unit statistics: median and p95
  over --runs runs (goal <= 2 s);
- the month's XLSX ledger with all its sheets (calls, tickets, complaint register,
  inspections, follow-ups, units, appraisal, attendance, statistics), by `hotline report` in
  a process of its own: wall time over --ledger-runs runs and peak RSS (goal <= 30 s,
  <= 500 MB).
The baseline, measured in the same run on the same data: the same pages and figures without
the indexes migrations 0013 (tickets by owner and by assignee) and 0020 (a unit's tickets by
stage and due time, reminders by unit and by owner, a caller's calls in order) add.

    .venv/bin/python -m bench.backoffice [--calls 300000] [--tickets 100000] [--pages 40]
                                         [--runs 3] [--ledger-runs 1]
                                         [--db sqlite] [--db postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

from bench.backoffice_loop import UNIT_PASSWORD, UNIT_USER, UNITS, LoopRows, add_units, inspections
from bench.fresh_db import fresh_database
from hotline.domain.appraisal import AppraisalRules
from hotline.reports.appraisal import month_appraisal
from hotline.reports.review import console_stats
from hotline.store.database import Database
from hotline.store.models import Call, CallEvent, DutyLogEntry, Inspection, Operator, Ticket
from hotline.store.operators_repo import OperatorRepository
from tests.console import add_users, client, console, console_services, login

ZONE = ZoneInfo("Asia/Shanghai")
MONTH = "2026-11"
START = datetime(2026, 9, 30, 16, 0, tzinfo=UTC)  # 1 Oct, Shanghai: Oct, Nov, Dec
SINCE, UNTIL = datetime(2026, 10, 31, 16, 0, tzinfo=UTC), datetime(2026, 11, 30, 16, 0,
                                                                   tzinfo=UTC)
OPERATORS = [f"{1001 + i}" for i in range(20)]
BATCH = 5000
TREE = Path(__file__).resolve().parent.parent
INDEXES = (("ix_tickets_owner", "tickets", "owner"),  # migration 0013
           ("ix_tickets_assignee", "tickets", "assignee"),
           ("ix_tickets_unit_stage_due", "tickets", "unit, stage, due_at"),  # 0020
           ("ix_ticket_reminders_unit_at", "ticket_reminders", "unit, at"),
           ("ix_ticket_reminders_owner_at", "ticket_reminders", "owner, at"),
           ("ix_calls_caller_arrived_at", "calls", "caller, arrived_at"))


async def fill(db: Database, calls: int, tickets: int) -> None:
    async with db.unit() as s:
        for n, job in enumerate(OPERATORS):
            s.add(Operator(job_number=job, name=f"话务员{n}", backup_of=None if n % 2 == 0
                           else OPERATORS[n - 1], position=n % 2, duty="off", sip_digest="x",
                           contact="", phone="sip", created_at=START))
    step = timedelta(days=91) / calls
    every = max(1, calls // tickets)
    for first in range(0, calls, BATCH):
        rows = []
        for i in range(first, min(calls, first + BATCH)):
            at = START + step * i
            job = OPERATORS[i % len(OPERATORS)]
            rows.append({
                "channel_id": f"bo-{i}", "node": "", "channel": "phone",
                "caller": f"139{i % 50000:08d}", "called": "12345", "arrived_at": at,
                "answered_at": at + timedelta(seconds=3 + i % 9), "rings": 1 + i % 5,
                "answered_by": job, "ended_at": at + timedelta(seconds=60 + i % 400),
                "disposition": "resolved", "state": "ended",
                "category": ("查询", "求助", "投诉")[i % 3], "summary": f"事项{i}",
                "caller_name": "", "caller_title": "", "callback_number": "", "owner": job,
                "satisfaction": 1 + i % 5 if i % 4 else None, "recording": None})
        async with db.unit() as s:
            await s.execute(insert(Call), rows)
            await s.execute(insert(Inspection), inspections(1 + first, rows))
    statuses = ("open", "assigned", "in_progress", "replied", "follow_up", "closed")
    await add_units(db, START)
    now = datetime.now(UTC)
    for first in range(0, tickets, BATCH):
        rows, loop = [], LoopRows()
        for n in range(first, min(tickets, first + BATCH)):
            at = START + step * n * every
            job = OPERATORS[n % len(OPERATORS)]
            status = statuses[n % len(statuses)]
            rows.append({
                "call_id": 1 + n * every, "kind": ("callback", "message", "complaint",
                                                   "referral")[n % 4],
                "status": status, "summary": "回电", "owner": job,
                "assignee": OPERATORS[(n + 3) % len(OPERATORS)] if n % 3 == 0 else None,
                "department": "", "caller_name": "", "callback_number": "",
                "fields": {"respondent_name": job} if n % 40 == 2 else {}, "created_at": at,
                "due_at": at + timedelta(days=2), "reply": "", "extensions": 0,
                "replied_at": None, "follow_up_due_at": None,
                "closed_at": at + timedelta(days=1) if status == "closed" else None,
                "satisfaction": 4 if status == "closed" else None, "stage": "", "unit": "",
                "assisting": [], "matter": "", "urgency": "", "loop_round": 0,
                "sign_due_at": None, "merged_into": None, "extension_request": None})
            loop.ticket(n, rows[-1], now)
        async with db.unit() as s:
            await s.execute(insert(Ticket), rows)
        await loop.write(db)
    async with db.unit() as s:  # a month of duty: on 08:30-12:00, a break, on 13:30-17:30
        log = []
        for day in range(91):
            base = START + timedelta(days=day)
            for job in OPERATORS:
                for hours, before, after in ((0.5, "off", "on_duty"), (4, "on_duty", "break"),
                                             (5.5, "break", "on_duty"), (9.5, "on_duty", "off")):
                    log.append({"job_number": job, "at": base + timedelta(hours=hours),
                                "before": before, "after": after, "by": job, "note": "",
                                "guard": ""})
        await s.execute(insert(DutyLogEntry), log)
        await s.execute(insert(CallEvent), [
            {"call_id": 1 + i, "at": START + step * i, "kind": "transcript",
             "data": {"speaker": "operator", "text": "这个不归我管" if i % 7 == 0 else "您好",
                      "job_number": OPERATORS[i % len(OPERATORS)]}}
            for i in range(0, calls, 100)])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def pages(db: Database, n: int) -> dict[str, tuple[float, float]]:
    services = console_services(db, operators=OperatorRepository(db), attendant_post="9000")
    out = {}
    async with (console(services) as (base, _), client() as sup, client() as op,
                client() as unit):
        assert await login(sup, base, "8001") == 302
        assert await login(op, base, "1001") == 302
        assert await login(unit, base, UNIT_USER, UNIT_PASSWORD) == 302
        gc.freeze()  # as `hotline serve` does once the console is made
        for name, http, path in (("/tickets", sup, "/tickets"), ("/duty", op, "/duty"),
                                 ("/duty/handover", op, "/duty/handover"),
                                 ("/unit", unit, "/unit"), ("/tickets (unit)", unit, "/tickets"),
                                 ("/tickets (operator)", op, "/tickets")):
            times = []
            for _ in range(3):  # warm: the first requests compile templates and plans
                async with http.get(base + path) as r:
                    await r.read()
            for _ in range(n):
                started = time.perf_counter()
                async with http.get(base + path) as r:
                    await r.read()
                    assert r.status == 200, (path, r.status)
                times.append((time.perf_counter() - started) * 1000)
            out[name] = (statistics.median(times), pct(times, 0.95))
    return out


async def month_figures(db: Database, runs: int) -> dict[str, tuple[float, float]]:
    """Each month figure's (median, p95) seconds over ``runs`` runs."""
    services = console_services(db)
    figures: dict[str, Callable[[], Awaitable[Any]]] = {
        "statistics": lambda: console_stats(services.calls, SINCE, UNTIL, ZONE),
        "appraisal": lambda: month_appraisal(db, SINCE, UNTIL, ZONE, AppraisalRules(),
                                             now=UNTIL),
        "unit statistics": lambda: services.loop.unit_stats(SINCE, UNTIL)}
    out = {}
    for name, make in figures.items():
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            await make()
            times.append(time.perf_counter() - started)
        out[name] = (statistics.median(times), pct(times, 0.95))
    return out


def ledger(url: str, work: Path) -> tuple[float, float, str]:
    env = dict(os.environ, HOTLINE_DB_URL=url, PYTHONPATH=str(TREE),
               HOTLINE_TIMEZONE="Asia/Shanghai", HOTLINE_HOME=str(work))
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "hotline", "report", "--month", MONTH,
                             "--xlsx", str(work / "ledger.xlsx")], env=env, cwd=TREE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    tail = output.strip().splitlines()[-1] if output.strip() else ""
    ok = os.waitstatus_to_exitcode(status) == 0
    return wall, usage.ru_maxrss / 1024, tail if ok else f"FAILED: {tail}"


async def indexes(db: Database, present: bool) -> None:
    async with db.engine.begin() as conn:
        for name, table, columns in INDEXES:
            await conn.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})"
                                    if present else f"DROP INDEX IF EXISTS {name}"))
        await conn.execute(text("ANALYZE"))


def show(label: str, p: dict[str, tuple[float, float]],
         figures: dict[str, tuple[float, float]]) -> None:
    for name, (p50, p95) in p.items():
        print(f"  {label:<9} {name:<20} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  (goal p95 <= 200)")
    for name, (p50, p95) in figures.items():
        print(f"  {label:<9} month {name:<14} p50 {p50:6.2f} s   p95 {p95:6.2f} s   "
              "(goal <= 2 s)")


async def bench_one(url: str, args: argparse.Namespace, work: Path) -> None:
    db = await fresh_database(url)
    started = time.perf_counter()
    await add_users(db)
    await fill(db, args.calls, args.tickets)
    print(f"{url.split(':')[0]}: {args.calls} calls, {args.tickets} tickets, "
          f"{len(OPERATORS)} operators, {len(UNITS)} units filled in "
          f"{time.perf_counter() - started:.0f} s")
    await indexes(db, present=False)
    base_pages = await pages(db, args.pages)
    base_figures = await month_figures(db, args.runs)
    await indexes(db, present=True)
    new_pages, new_figures = await pages(db, args.pages), await month_figures(db, args.runs)
    await db.close()
    show("baseline", base_pages, base_figures)
    show("now", new_pages, new_figures)
    for name in new_pages:
        print(f"  ratio {name:<20} p95 baseline/now "
              f"{base_pages[name][1] / new_pages[name][1]:.2f}")
    for name in new_figures:
        print(f"  ratio month {name:<14} median baseline/now "
              f"{base_figures[name][0] / new_figures[name][0]:.2f}")
    runs = [ledger(url, work) for _ in range(args.ledger_runs)]
    walls = [wall for wall, _, _ in runs]
    print(f"  ledger {MONTH} (calls, tickets, complaints, inspections, follow-ups, units, "
          f"appraisal, attendance, statistics): median {statistics.median(walls):.1f} s, "
          f"p95 {pct(walls, 0.95):.1f} s over {len(runs)}, peak RSS "
          f"{max(rss for _, rss, _ in runs):.0f} MB (goal <= 30 s, <= 500 MB): {runs[-1][2]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300_000)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3, help="of each month figure")
    parser.add_argument("--ledger-runs", type=int, default=1)
    parser.add_argument("--db", action="append", default=None,
                        help="sqlite, or a postgresql+asyncpg:// URL (repeatable)")
    args = parser.parse_args()
    for target in args.db or ["sqlite"]:
        with tempfile.TemporaryDirectory(prefix="hotline-backoffice-") as folder:
            work = Path(folder)
            url = (f"sqlite+aiosqlite:///{work / 'bench.db'}" if target == "sqlite"
                   else target)
            asyncio.run(bench_one(url, args, work))


if __name__ == "__main__":
    main()
