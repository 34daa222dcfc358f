"""Tickets: working-day deadlines on the statutory calendar, the lifecycle with extension and
follow-up on both databases, overdue flags, the CLI, and the monthly XLSX ledger."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from hotline.cli import main
from hotline.domain.calls import NewCall
from hotline.domain.tickets import (
    DEFAULT_DAYS,
    Move,
    NewTicket,
    TicketError,
    TicketKind,
    TicketStatus,
)
from hotline.domain.workdays import WorkCalendar
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.tickets_repo import TicketRepository

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar(SH)
S = TicketStatus


@pytest.mark.parametrize(("kind", "received", "due"), [
    (TicketKind.COMPLAINT, "2026-09-30T10:00", "2026-10-09T17:30"),  # across National Day
    (TicketKind.COMPLAINT, "2026-10-09T10:00", "2026-10-12T17:30"),  # Sat 10 Oct is worked
    (TicketKind.CALLBACK, "2026-11-20T16:00", "2026-11-23T17:30"),  # Friday -> Monday
    (TicketKind.MESSAGE, "2026-11-21T09:00", "2026-11-23T17:30"),  # received on a Saturday
    (TicketKind.REFERRAL, "2026-11-23T09:00", "2026-11-30T17:30"),
])
def test_due_at_close_of_business_on_the_nth_working_day(kind: TicketKind, received: str,
                                                         due: str) -> None:
    got = CAL.due_at(datetime.fromisoformat(received).replace(tzinfo=SH), DEFAULT_DAYS[kind])
    assert got == datetime.fromisoformat(due).replace(tzinfo=SH)


def test_local_overrides_and_close_of_business() -> None:
    local = WorkCalendar(SH, time(17, 0), days_off=frozenset({date(2026, 11, 23)}),
                         extra_workdays=frozenset({date(2026, 11, 22)}))
    received = datetime(2026, 11, 20, 10, 0, tzinfo=SH)  # Friday
    assert local.due_at(received, 1) == datetime(2026, 11, 22, 17, 0, tzinfo=SH)
    assert local.due_at(received, 2) == datetime(2026, 11, 24, 17, 0, tzinfo=SH)
    assert local.working_days_between(date(2026, 11, 20), date(2026, 11, 24)) == 2


def test_tickets_due_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tickets", "due", "--kind", "complaint", "--from", "2026-09-30T10:00"]) == 0
    assert capsys.readouterr().out.strip() == "2026-10-09T17:30:00+08:00"
    assert main(["tickets", "due", "--kind", "complaint", "--from", "2026-10-09T10:00"]) == 0
    assert capsys.readouterr().out.strip() == "2026-10-12T17:30:00+08:00"
    assert main(["tickets", "due", "--kind", "complaint", "--from", "30/09/2026"]) == 2
    assert "not an ISO 8601" in capsys.readouterr().err


COMPLAINT = {"complainant_name": "张三", "complainant_phone": "13900000001",
             "respondent_unit": "某窗口", "request": "办事被推诿", "channel": "电话投诉"}


async def a_call(db: Database, at: datetime, owner: str = "1001") -> int:
    calls = CallRepository(db)
    cid = await calls.open_call(NewCall(f"chan-{at.timestamp()}", "13900000001", "12345", at))
    await calls.update_call(cid, owner=owner, answered_by=owner, answered_at=at, rings=1,
                            caller_name="张三", category="投诉")
    return cid


async def test_a_complaint_walks_its_whole_lifecycle_with_an_extension(db: Database) -> None:
    repo = TicketRepository(db, CAL, dict(DEFAULT_DAYS))
    t0 = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)  # 10:00 in Chongqing
    cid = await a_call(db, t0)
    tid = await repo.open(NewTicket(TicketKind.COMPLAINT, "1002", cid, "窗口推诿",
                                    fields=COMPLAINT), t0)
    t = await repo.get(tid)
    assert t.owner == "1001"  # 首问: the first-question owner, not who typed the ticket
    assert (t.caller_name, t.callback_number) == ("张三", "13900000001")
    assert t.due_at == datetime(2026, 10, 9, 17, 30, tzinfo=SH)
    assert await repo.by_calls([cid]) == {cid: [tid]}

    with pytest.raises(TicketError, match="cannot become replied"):
        await repo.move(tid, Move(S.REPLIED, "1002"), t0, reply="x")
    await repo.move(tid, Move(S.ASSIGNED, "1001"), t0, assignee="政务管理科")
    await repo.move(tid, Move(S.IN_PROGRESS, "2001", "调查取证"), t0)
    for reason, approver, by, informed, problem in [
            ("", "3001", "2001", True, "needs a reason"),
            ("需调阅监控", "", "2001", True, "needs an approver"),
            ("需调阅监控", "2001", "2001", True, "cannot be the one"),
            ("需调阅监控", "3001", "2001", False, "must be told")]:
        with pytest.raises(TicketError, match=problem):
            await repo.extend(tid, 2, reason, approver, by, informed, t0)
    due = await repo.extend(tid, 2, "需调阅监控", "3001", "2001", True, t0)
    assert due == datetime(2026, 10, 12, 17, 30, tzinfo=SH)  # Fri 9 -> Sat 10 (worked), Mon 12
    late = due + timedelta(hours=1)
    assert [x.id for x in await repo.find(overdue_at=late)] == [tid]
    with pytest.raises(TicketError, match="needs its text"):
        await repo.move(tid, Move(S.REPLIED, "2001"), late)
    await repo.move(tid, Move(S.REPLIED, "2001"), late, reply="已协调窗口道歉并办结")
    assert await repo.find(overdue_at=late) == []
    with pytest.raises(TicketError, match="satisfaction"):
        await repo.move(tid, Move(S.FOLLOW_UP, "1001"), late, satisfaction=9)
    await repo.move(tid, Move(S.FOLLOW_UP, "1001", "回访"), late, satisfaction=4)
    await repo.move(tid, Move(S.CLOSED, "1001"), late)
    with pytest.raises(TicketError, match="nothing"):
        await repo.move(tid, Move(S.IN_PROGRESS, "1001"), late)

    t = await repo.get(tid)
    assert (t.status, t.satisfaction, t.extensions) == ("closed", 4, 1)
    assert [(e.kind, e.to_status, e.by) for e in t.events] == [
        ("created", "open", "1002"), ("moved", "assigned", "1001"),
        ("moved", "in_progress", "2001"), ("extended", "in_progress", "2001"),
        ("moved", "replied", "2001"), ("moved", "follow_up", "1001"),
        ("moved", "closed", "1001")]
    assert t.events[3].data["approver"] == "3001" and t.events[3].data["caller_informed"]
    assert t.events[4].data["late"] is True


async def test_bad_tickets_are_refused_and_nothing_is_written(db: Database) -> None:
    repo = TicketRepository(db, CAL, dict(DEFAULT_DAYS))
    now = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    with pytest.raises(TicketError, match="needs complainant_phone, respondent_unit"):
        await repo.open(NewTicket(TicketKind.COMPLAINT, "1001",
                                  fields={"complainant_name": "李四", "request": "x"}), now)
    with pytest.raises(TicketError, match="unknown complaint fields: colour"):
        await repo.open(NewTicket(TicketKind.COMPLAINT, "1001",
                                  fields={**COMPLAINT, "colour": "red"}), now)
    with pytest.raises(TicketError, match="department"):
        await repo.open(NewTicket(TicketKind.REFERRAL, "1001"), now)
    with pytest.raises(TicketError, match="text"):
        await repo.open(NewTicket(TicketKind.MESSAGE, "1001"), now)
    assert await repo.find() == []
    tid = await repo.open(NewTicket(TicketKind.MESSAGE, "1001", summary="请回电",
                                    fields={"text": "请明天上午回电"}), now)
    assert (await repo.get(tid)).due_at == datetime(2026, 11, 24, 17, 30, tzinfo=SH)


async def test_the_monthly_ledger_holds_the_months_calls(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    db = Database(url)
    await db.upgrade()
    nov = [await a_call(db, datetime(2026, 11, d, 3, 0, tzinfo=UTC)) for d in (1, 15, 30)]
    await a_call(db, datetime(2026, 10, 31, 17, 0, tzinfo=UTC))  # 1 Nov 01:00 in Chongqing
    await a_call(db, datetime(2026, 12, 1, 1, 0, tzinfo=UTC))  # December
    repo = TicketRepository(db, CAL, dict(DEFAULT_DAYS))
    await repo.open(NewTicket(TicketKind.CALLBACK, "1001", nov[0], "回电"),
                    datetime(2026, 11, 1, 3, 0, tzinfo=UTC))
    await db.close()
    out = tmp_path / "ledger.xlsx"
    monkeypatch.setenv("HOTLINE_DB_URL", url)
    assert await asyncio.to_thread(main, ["report", "--month", "2026-11", "--xlsx",
                                          str(out)]) == 0
    assert "4 calls, 1 tickets" in capsys.readouterr().out
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["来电台账", "工单台账", "投诉登记", "质检台账", "回访",
                              "承办单位", "考核", "值班考勤", "统计"]
    calls = list(wb["来电台账"].iter_rows(min_row=2, values_only=True))
    assert len(calls) == 4 and calls[0][1] == datetime(2026, 11, 1, 1, 0)
    assert calls[1][15] == "1"  # the ticket raised from the first November call
    tickets = list(wb["工单台账"].iter_rows(min_row=2, values_only=True))
    assert [(r[2], r[3]) for r in tickets] == [("callback", "open")]
    stats = dict(wb["统计"].iter_rows(min_row=2, values_only=True))
    assert stats["来电总数 calls"] == 4 and stats["工单总数 tickets"] == 1
    assert stats["三声内接听 answered within 3 rings"] == "100.0%"
    assert await asyncio.to_thread(main, ["report", "--month", "2026-13", "--xlsx",
                                          str(out)]) == 2


async def test_an_operator_annotates_a_record(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    db = Database(url)
    await db.upgrade()
    cid = await a_call(db, datetime(2026, 11, 2, 3, 0, tzinfo=UTC))
    monkeypatch.setenv("HOTLINE_DB_URL", url)
    args = ["calls", "annotate", str(cid), "--by", "1001", "--category", "求助",
            "--summary", "独居老人求助", "--caller-name", "王", "--caller-title", "阿姨",
            "--callback-number", "023-5800000"]
    assert await asyncio.to_thread(main, args) == 0
    row = await CallRepository(db).get(cid)
    assert (row.category, row.summary, row.caller_name, row.caller_title,
            row.callback_number) == ("求助", "独居老人求助", "王", "阿姨", "023-5800000")
    assert row.events[-1].kind == "annotated" and row.events[-1].data["by"] == "1001"
    assert await asyncio.to_thread(main, ["calls", "annotate", "999", "--by", "1",
                                          "--summary", "x"]) == 2
    assert await asyncio.to_thread(main, ["calls", "annotate", str(cid), "--by", "1"]) == 2
    with pytest.raises(SystemExit):
        await asyncio.to_thread(main, ["calls", "annotate", str(cid), "--by", "1",
                                       "--category", "闲聊"])
    await db.close()
