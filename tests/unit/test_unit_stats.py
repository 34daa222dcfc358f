"""Per-unit statistics, exactly, on a fixture month (November 2026) on SQLite and
PostgreSQL: on-time signing, on-time completion, the return rate and satisfaction; and the
monthly ledger's sheets of the loop (the complaint register with 附录A's fields, the
follow-ups, the units), with a cell that would be a formula written as text."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl

from hotline.domain.loop.limits import Limits, Urgency
from hotline.domain.loop.machine import Actor
from hotline.domain.tickets import DEFAULT_DAYS, NewTicket, TicketKind
from hotline.domain.workdays import WorkCalendar
from hotline.reports.ledger import write_ledger
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.loop_repo import LoopRepository
from hotline.store.tickets_repo import TicketRepository

SH = ZoneInfo("Asia/Shanghai")
LIMITS = Limits(WorkCalendar(SH))
OP, SUP = Actor("1001", "operator"), Actor("8001", "supervisor")
A, B = Actor("a1", "unit", "甲单位"), Actor("b1", "unit", "乙单位")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


async def fixture_month(db: Database) -> tuple[TicketRepository, LoopRepository]:
    tickets = TicketRepository(db, LIMITS.calendar, dict(DEFAULT_DAYS))
    loop = LoopRepository(db, LIMITS)
    for unit in ("甲单位", "乙单位"):
        await loop.add_unit(unit, at("2026-10-01T09:00"))

    async def complaint(when: datetime, request: str = "停水") -> int:
        return await tickets.open(NewTicket(TicketKind.COMPLAINT, "1001", summary=request,
                                            fields={"complainant_name": "=HYPERLINK(1)",
                                                    "complainant_phone": "13800000001",
                                                    "respondent_unit": "甲单位",
                                                    "request": request}), when)

    t1 = await complaint(at("2026-11-02T09:00"))  # Monday
    await loop.dispatch(t1, OP, at("2026-11-02T09:00"), "甲单位", [])
    await loop.sign(t1, A, at("2026-11-02T10:00"))  # on time
    await loop.reply(t1, A, at("2026-11-05T10:00"), "已处理")  # on time (15 working days)
    await loop.follow_up(t1, OP, at("2026-11-06T10:00"), "电话", True, "满意", "好")  # 4

    t2 = await complaint(at("2026-11-02T09:30"))
    await loop.dispatch(t2, OP, at("2026-11-02T09:30"), "甲单位", [], urgency=Urgency.LIFE)
    await loop.sign(t2, A, at("2026-11-02T10:30"))  # late: 15 minutes
    await loop.reply(t2, A, at("2026-11-30T10:00"), "已处理")  # late: due 23 Nov
    await loop.follow_up(t2, OP, at("2026-11-30T15:00"), "电话", False, "", "未接")
    await loop.follow_up(t2, OP, at("2026-11-30T16:00"), "走访", True, "不满意", "-慢")  # 2

    t3 = await complaint(at("2026-11-03T09:00"))
    await loop.dispatch(t3, OP, at("2026-11-03T09:00"), "甲单位", [])
    await loop.return_(t3, A, at("2026-11-03T09:30"), "不属本单位")
    await loop.redispatch(t3, SUP, at("2026-11-03T10:00"), "乙单位")
    await loop.sign(t3, B, at("2026-11-03T11:00"))
    await loop.reply(t3, B, at("2026-11-04T11:00"), "已处理")
    await loop.follow_up(t3, OP, at("2026-11-05T11:00"), "短信", True, "基本满意", "")  # 3

    t4 = await complaint(at("2026-10-30T09:00"))  # October: its dispatch is not November's
    await loop.dispatch(t4, OP, at("2026-10-30T09:00"), "乙单位", [])
    await loop.sign(t4, B, at("2026-11-02T09:00"))  # November: on time (Nov 2 is day 1)
    return tickets, loop


async def test_per_unit_statistics_of_a_fixture_month(db: Database) -> None:
    tickets, loop = await fixture_month(db)
    out = io.BytesIO()
    calls, count = await write_ledger(CallRepository(db), tickets, "2026-11", SH, out,
                                      loop=loop)
    assert (calls, count) == (0, 3)
    wb = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    assert wb.sheetnames == ["来电台账", "工单台账", "投诉登记", "质检台账", "回访",
                              "承办单位", "统计"]
    units = list(wb["承办单位"].iter_rows(min_row=2, values_only=True))
    assert units == [
        # unit, assigned, signed, on time, %, returned, %, replied, on time, %, followed up,
        # satisfied, %, mean
        ("乙单位", 1, 2, 2, "100.0%", 0, "0.0%", 1, 1, "100.0%", 1, 1, "100.0%", 3),
        ("甲单位", 3, 2, 1, "50.0%", 1, "33.3%", 2, 1, "50.0%", 2, 1, "50.0%", 3),
    ]
    register = list(wb["投诉登记"].iter_rows(min_row=1, values_only=True))
    assert register[0][:4] == ("编号 id", "登记时间 registered", "投诉人姓名", "性别")
    assert len(register) == 4 and register[1][2] == "=HYPERLINK(1)"  # text, not a formula
    assert wb["投诉登记"]["C2"].data_type == "s"
    visits = list(wb["回访"].iter_rows(min_row=2, values_only=True))
    assert [(v[0], v[5], v[6], v[7], v[8]) for v in visits] == [  # as they were made
        (1, "电话", "是", "满意", 4), (2, "电话", "否", None, None),
        (2, "走访", "是", "不满意", 2), (3, "短信", "是", "基本满意", 3)]
    assert visits[2][9] == "-慢" and wb["回访"]["J4"].data_type == "s"
