"""The operators' monthly appraisal (004 篇5), checked exactly on a fixture month on both
databases: satisfaction from call ratings and follow-ups, the daily-work parts, duty hours
from the duty log, complaints against, forbidden phrases, first-contact resolution from what
really followed each call; and the ledger's appraisal and attendance sheets."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from hotline.config import Settings
from hotline.domain.appraisal import AppraisalRules, OperatorMonth, appraise, parse_daily_weights
from hotline.domain.calls import NewCall
from hotline.domain.seats import DutyState
from hotline.domain.tickets import NewTicket, TicketKind
from hotline.reports.appraisal import month_appraisal, parse_inspection
from hotline.reports.ledger import month_bounds, write_ledger
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.models import Inspection, Ticket
from hotline.store.operators_repo import OperatorRepository
from hotline.store.tickets_repo import TicketRepository
from hotline.tickets.setup import ticket_repository

ZONE = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


async def call(calls: CallRepository, n: int, caller: str, arrived: datetime, *,
               by: str | None, rings: int = 1, handle_s: int = 0,
               category: str | None = None, rating: int | None = None) -> int:
    cid = await calls.open_call(NewCall(f"fix-{n}", caller, "12345", arrived))
    fields: dict[str, object] = {"rings": rings, "category": category,
                                 "satisfaction": rating, "ended_at": arrived
                                 + timedelta(seconds=6 + handle_s), "state": "ended"}
    if by:
        fields |= {"answered_at": arrived + timedelta(seconds=6), "answered_by": by,
                   "owner": by}
    await calls.update_call(cid, **fields)
    return cid


async def fixture_month(db: Database) -> TicketRepository:
    ops = OperatorRepository(db)
    await ops.add("1001", "张三", "x")
    await ops.add("1002", "李四", "x", backup_of="1001")
    calls = CallRepository(db)
    tickets = ticket_repository(db, Settings())
    c1 = await call(calls, 1, "13900000001", at(1, 10), by="1001", rings=2, handle_s=240,
                    category="查询", rating=5)
    c2 = await call(calls, 2, "13900000002", at(2, 10), by="1001", rings=4, handle_s=420,
                    category="投诉", rating=3)
    c3 = await call(calls, 3, "13900000001", at(3, 9), by="1002", rings=1, handle_s=300,
                    category="查询")  # within 72 h of c1, same matter: c1 not resolved
    await call(calls, 4, "anonymous", at(5, 12), by="1002", rings=3, handle_s=200,
               rating=4)  # withheld: not counted for first contact
    await call(calls, 5, "13900000003", at(31, 23), by="1002", rings=1, handle_s=100,
               category="求助")
    await call(calls, 6, "13900000003", at(1, 1, month=1, year=2026), by="1001",
               category="求助")  # next month: c5's repeat, not appraised itself
    await call(calls, 7, "13900000004", at(6, 8), by=None)  # unanswered
    await calls.add_event(c1, "transcript", {"speaker": "operator", "text": "这个不归我管",
                                             "job_number": "1001"}, at(1, 10, 1))
    # c2 needed a ticket: a complaint against 张三 (by name), not resolved at first contact
    await tickets.open(NewTicket(TicketKind.COMPLAINT, "1001", call_id=c2, summary="投诉",
                                 fields={"complainant_name": "王", "complainant_phone": "1",
                                         "respondent_unit": "热线", "respondent_name": "张三",
                                         "request": "态度"}), at(2, 10, 10))
    async with db.unit() as s:  # 1002's call inspected: a scorecard of 90 (hotline/inspection)
        s.add(Inspection(call_id=c3, call_at=at(3, 9), operator="1002", inspector="8001",
                         at=at(4, 9), checklist="default", score=90.0))
    # a ticket 1001 owns, followed up in December as 4
    done = await tickets.open(NewTicket(TicketKind.CALLBACK, "1001", summary="回电"),
                              at(10, 9))
    async with db.unit() as s:
        t = await s.get(Ticket, done)
        assert t is not None
        t.status, t.closed_at, t.satisfaction = "closed", at(11, 9), 4
    # 1001 on duty: 8 h on the 1st; 22:00-02:00 across midnight (2 h + 2 h); 1002 never
    for when, state in ((at(1, 9), DutyState.ON_DUTY), (at(1, 17), DutyState.OFF),
                        (at(2, 22), DutyState.ON_DUTY), (at(3, 2), DutyState.OFF)):
        await ops.set_duty("1001", state, by="1001", at=when)
    return tickets


async def test_the_fixture_month_exactly(db: Database) -> None:
    tickets = await fixture_month(db)
    since, until = month_bounds("2025-12", ZONE)
    result = await month_appraisal(db, since, until, ZONE, AppraisalRules(),
                                   {"1001": 80}, now=until)
    zs, ls = {a.job_number: a for a in result.appraisals}.values()
    assert (zs.job_number, ls.job_number) == ("1001", "1002")
    assert zs.parts == {"three_rings": 50.0, "handle": 90.0, "duty": 7.5, "complaints": 90.0,
                        "phrases": 95.0, "inspection": 80.0}
    assert zs.satisfaction == 75.0  # ratings 5, 3 and the follow-up's 4
    assert zs.daily == 65.21  # (30*50 + 20*90 + 20*7.5 + 15*90 + 15*95 + 20*80) / 120
    assert zs.total == 70.1  # 0.5 * 75 + 0.5 * 65.2083
    assert zs.figures["fcr"] == 0.0 and zs.figures["fcr_counted"] == 2
    assert zs.figures["duty_h"] == 12.0 and zs.figures["mean_handle_s"] == 330.0
    assert ls.parts == {"three_rings": 100.0, "handle": 100.0, "duty": 0.0,
                        "complaints": 100.0, "phrases": 100.0, "inspection": 90.0}
    # (30*100 + 20*100 + 20*0 + 15*100 + 15*100 + 20*90) / 120 = 81.667
    assert (ls.satisfaction, ls.daily, ls.total) == (75.0, 81.67, 78.33)
    assert (ls.figures["fcr_counted"], ls.figures["fcr_resolved"]) == (2, 1)
    days = {(a.job_number, a.day.isoformat()): a.on_duty_s / 3600
            for a in result.attendance.days.values()}
    assert days == {("1001", "2025-12-01"): 8.0, ("1001", "2025-12-02"): 2.0,
                    ("1001", "2025-12-03"): 2.0}
    # the month's ledger carries the appraisal and the attendance
    out = io.BytesIO()
    await write_ledger(CallRepository(db), tickets, "2025-12", ZONE, out,
                       appraisal=AppraisalRules())
    book = load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    assert "考核" in book.sheetnames and "值班考勤" in book.sheetnames
    rows = list(book["考核"].iter_rows(values_only=True))
    # the stored scorecards only there: 1001's daily work is (1500+1800+150+1350+1425) / 100
    assert rows[1][:5] == ("1001", "张三", 68.62, 75, 62.25)
    assert rows[2][:5] == ("1002", "李四", 78.33, 75, 81.67)
    att = list(book["值班考勤"].iter_rows(values_only=True))
    assert [r[:4] for r in att[1:]] == [("1001", "2025-12-01", 8, 0), ("1001", "2025-12-02", 2, 0),
                                        ("1001", "2025-12-03", 2, 0)]


def test_weights_and_scores() -> None:
    rules = AppraisalRules(satisfaction_weight=0.4, daily=parse_daily_weights(
        "three_rings=1,handle=0,duty=0,complaints=0,phrases=0,inspection=1"))
    a = appraise(OperatorMonth("1", answered=4, within_three_rings=3, call_ratings=[5, 5],
                               inspection=50), rules)
    assert (a.satisfaction, a.daily, a.total) == (100.0, 62.5, 77.5)
    none = appraise(OperatorMonth("2"), AppraisalRules())
    assert none.satisfaction is None and none.total == none.daily  # no rating: daily alone
    slow = appraise(OperatorMonth("3", handled=1, handle_s=900), AppraisalRules())
    assert slow.parts["handle"] == 0.0  # three times the target: nothing
    with pytest.raises(ValueError, match="missing part"):
        parse_daily_weights("three_rings=1")
    with pytest.raises(ValueError, match="PART=WEIGHT"):
        parse_daily_weights("rings=1")
    with pytest.raises(ValueError, match="line 2"):
        parse_inspection("1001,80\n1002,abc\n")
    assert parse_inspection("job_number,score\n1001, 95.5\n") == {"1001": 95.5}


async def test_first_contact_from_true_outcomes(db: Database) -> None:
    ops = OperatorRepository(db)
    await ops.add("1001", "张三", "x")
    await ops.add("1002", "李四", "x")
    calls = CallRepository(db)
    t0 = at(1, 8)
    hours = timedelta(hours=1)
    await call(calls, 1, "139", t0, by="1001", category="查询")
    await call(calls, 2, "139", t0 + 80 * hours, by="1001", category="查询")  # outside 72 h
    c3 = await call(calls, 3, "138", t0, by="1001", category="查询")
    await call(calls, 4, "138", t0 + hours, by="1002", category="投诉")  # another matter
    await call(calls, 5, "137", t0, by="1002")
    await call(calls, 6, "137", t0 + 2 * hours, by=None, category="投诉")  # 5 uncategorised
    await ticket_repository(db, Settings()).open(NewTicket(
        TicketKind.CALLBACK, "1001", call_id=c3, summary="回电"), t0 + hours)
    since, until = month_bounds("2025-12", ZONE)
    result = await month_appraisal(db, since, until, ZONE, AppraisalRules(), now=until)
    got = {a.job_number: (a.figures["fcr_counted"], a.figures["fcr_resolved"])
           for a in result.appraisals}
    assert got == {"1001": (3, 2), "1002": (2, 1)}  # 3 had a ticket; 5 was called again
