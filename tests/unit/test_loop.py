"""The loop with the handling units: deadlines on a virtual clock (urgent signing in clock
minutes across a weekend night, normal signing across National Day), one 催办 per overdue
step, the whole loop with 退单/改派, 延期, 回访 不满意 → 重办 → 满意, and 并单, on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hotline.domain.loop.catalogue import CatalogueError, Rule, rules_of, suggest
from hotline.domain.loop.limits import Limits, MatterKind, Urgency
from hotline.domain.loop.machine import Actor, LoopMachine, LoopState, Stage
from hotline.domain.tickets import Move, NewTicket, TicketError, TicketKind, TicketStatus
from hotline.domain.workdays import WorkCalendar
from hotline.store.database import Database
from hotline.store.loop_repo import LoopRepository
from hotline.store.tickets_repo import TicketRepository
from hotline.store.users_repo import Role, UserError, UserRepository
from hotline.units.catalogue_file import read_catalogue

SH = ZoneInfo("Asia/Shanghai")
LIMITS = Limits(WorkCalendar(SH))
OWNER = Actor("1001", "operator")
SUP = Actor("8001", "supervisor")
WATER = Actor("w1", "unit", "自来水公司")
CITY = Actor("c1", "unit", "城管局")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def machine(**kw: object) -> LoopMachine:
    return LoopMachine(LoopState(id=7, owner="1001", status=TicketStatus.OPEN, **kw),  # type: ignore[arg-type]
                       LIMITS)


def test_urgent_signing_is_clock_minutes_across_a_weekend_night() -> None:
    m = machine()
    m.dispatch(OWNER, at("2026-11-21T23:50"), "自来水公司", [], urgency=Urgency.UTILITY)
    assert m.s.sign_due_at == at("2026-11-22T00:20")  # Saturday night, 30 min
    assert m.overdue_step(at("2026-11-22T00:20")) is None
    assert m.overdue_step(at("2026-11-22T00:21")) == "sign:1"
    life = machine()
    life.dispatch(OWNER, at("2026-11-22T03:00"), "自来水公司", [], urgency=Urgency.LIFE)
    assert life.s.sign_due_at == at("2026-11-22T03:15")  # Sunday, 15 min


def test_normal_signing_is_one_working_day_across_national_day() -> None:
    m = machine()
    e = m.dispatch(OWNER, at("2026-09-30T10:00"), "自来水公司", [])
    assert m.s.sign_due_at == at("2026-10-08T17:30")  # 1-7 Oct off
    assert e.data["sign_due"] == at("2026-10-08T17:30").isoformat()
    assert m.overdue_step(at("2026-10-05T12:00")) is None
    # the reply: a request, 10 working days from dispatch (Oct 10 is a make-up workday)
    assert m.s.due_at == LIMITS.calendar.due_at(at("2026-09-30T10:00"), 10)


def test_reply_days_by_matter_and_the_follow_up_sample() -> None:
    start = at("2026-11-23T09:00")  # Monday
    assert LIMITS.reply_due(start, MatterKind.CONSULTATION) == at("2026-11-25T17:30")
    assert LIMITS.reply_due(start, MatterKind.COMPLAINT) == at("2026-12-14T17:30")
    assert all(LIMITS.sampled(i, MatterKind.COMPLAINT) for i in range(1, 200))
    share = sum(LIMITS.sampled(i, MatterKind.REQUEST) for i in range(1, 1001))
    assert 250 <= share <= 350  # 30 %


def test_who_may_do_what_and_when() -> None:
    m = machine()
    with pytest.raises(TicketError, match="owner"):
        m.dispatch(Actor("1002", "operator"), at("2026-11-23T09:00"), "自来水公司", [])
    with pytest.raises(TicketError, match="both the lead and an assisting"):
        m.dispatch(OWNER, at("2026-11-23T09:00"), "自来水公司", ["自来水公司"])
    m.dispatch(OWNER, at("2026-11-23T09:00"), "自来水公司", ["城管局"])
    with pytest.raises(TicketError, match="only the lead unit"):
        m.sign(CITY, at("2026-11-23T09:10"))  # an assisting unit does not sign
    with pytest.raises(TicketError, match="reason"):
        m.return_(WATER, at("2026-11-23T09:10"), " ")
    with pytest.raises(TicketError, match="acceptance limit"):
        m.return_(WATER, at("2026-11-24T17:31"), "不归我们")
    m.sign(WATER, at("2026-11-23T10:00"))
    with pytest.raises(TicketError, match="signed; this needs it replied"):
        m.follow_up(OWNER, at("2026-11-23T11:00"), "电话", True, "满意", "")
    m.request_extension(WATER, at("2026-11-24T10:00"), 3, "需要现场勘查")
    with pytest.raises(TicketError, match="already waiting"):
        m.request_extension(WATER, at("2026-11-24T10:00"), 3, "again")
    with pytest.raises(TicketError, match="supervisor"):
        m.decide_extension(OWNER, at("2026-11-24T11:00"), True, True)
    with pytest.raises(TicketError, match="told"):
        m.decide_extension(SUP, at("2026-11-24T11:00"), True, False)
    before = m.s.due_at
    e = m.decide_extension(SUP, at("2026-11-24T11:00"), True, True)
    assert e.kind == "extension_approved" and e.data["caller_informed"] is True
    assert m.s.due_at == LIMITS.extended(before, 3) and m.s.extensions == 1  # type: ignore[arg-type]


def test_the_catalogue_reports_every_bad_row_and_field(tmp_path: Path) -> None:
    units = {"自来水公司", "城管局"}
    with pytest.raises(CatalogueError) as err:
        rules_of([{"category": "供水", "keywords": "停水", "unit": "自来水公司"},
                  {"category": "", "keywords": "", "unit": "水务局"},
                  {"category": "市容", "keywords": "占道", "unit": "城管局", "x": 1}], units)
    assert err.value.problems == [
        "row 2, field category: empty", "row 2, field keywords: no keyword (|-separated words)",
        "row 2, field unit: '水务局' is not a registered unit (hotline units add)",
        "row 3: unknown field(s) x; the fields are category, keywords, unit"]
    csv = tmp_path / "c.csv"
    csv.write_text("# comment\ncategory,keywords,unit\n供水,停水|水压,自来水公司\n"
                   "市容,占道,城管\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"row 4, field unit: '城管'"):
        read_catalogue(csv, units)
    yml = tmp_path / "c.yaml"
    yml.write_text("- {category: 供水, keywords: 停水|水压, unit: 自来水公司}\n"
                   "- {category: 市容, keywords: 占道|摊贩, unit: 城管局}\n", encoding="utf-8")
    rules = read_catalogue(yml, units)
    assert suggest(rules, "", "小区停水三天了，水压也低") == Rule("供水", ("停水", "水压"),
                                                                  "自来水公司")
    assert suggest(rules, "市容", "门口") == rules[1]
    assert suggest(rules, "", "别的事") is None


def test_the_sample_catalogue_names_only_the_sample_units() -> None:
    root = Path(__file__).resolve().parents[2] / "directory"
    names = {line.split(",")[0] for line in (root / "units_sample.csv").read_text(
        encoding="utf-8").splitlines()[5:] if line and not line.startswith("#")}
    rules = read_catalogue(root / "dispatch_catalogue.csv", names)
    assert len(rules) >= 15
    assert suggest(rules, "", "我家停气了，闻到燃气味")
    assert suggest(rules, "", "我家停气了，闻到燃气味").unit == "重庆万州燃气有限公司"  # type: ignore[union-attr]


# -- on the store ---------------------------------------------------------------------------
async def world(db: Database) -> tuple[TicketRepository, LoopRepository, UserRepository]:
    tickets = TicketRepository(db, LIMITS.calendar, {k: 2 for k in TicketKind})
    loop = LoopRepository(db, LIMITS)
    users = UserRepository(db)
    now = datetime.now(UTC)
    await loop.add_unit("区政府办", now)
    for unit in ("自来水公司", "城管局"):
        await loop.add_unit(unit, now, parent="区政府办", contact="023-1")
    with pytest.raises(TicketError, match="already exists"):
        await loop.add_unit("城管局", now)
    with pytest.raises(TicketError, match="parent"):
        await loop.add_unit("新单位", now, parent="没有")
    await users.add("w1", Role.UNIT, "unit-pass-123", unit="自来水公司")
    await users.add("c1", Role.UNIT, "unit-pass-123", unit="城管局")
    with pytest.raises(UserError, match="not registered"):
        await users.add("x1", Role.UNIT, "unit-pass-123", unit="水务局")
    with pytest.raises(UserError, match="needs its unit"):
        await users.add("x1", Role.UNIT, "unit-pass-123")
    return tickets, loop, users


async def complaint(tickets: TicketRepository, now: datetime, summary: str = "供水投诉") -> int:
    return await tickets.open(NewTicket(TicketKind.COMPLAINT, "1001", summary=summary, fields={
        "complainant_name": "王先生", "complainant_phone": "13800000001",
        "respondent_unit": "自来水公司", "request": "停水三天无人处理"}), now)


async def test_the_whole_loop_on_the_store(db: Database) -> None:
    tickets, loop, _ = await world(db)
    t0 = at("2026-11-23T09:00")
    tid = await complaint(tickets, t0)
    assert (await loop.actor("w1")) == WATER
    await loop.dispatch(tid, OWNER, t0, "城管局", ["自来水公司"], "请核实", matter=None)
    await loop.return_(tid, CITY, t0 + timedelta(minutes=20), "供水不归城管")
    with pytest.raises(TicketError, match="not a registered unit"):
        await loop.redispatch(tid, SUP, t0 + timedelta(hours=1), "水务局")
    await loop.redispatch(tid, SUP, t0 + timedelta(hours=1), "自来水公司", [], "改派")
    await loop.sign(tid, WATER, t0 + timedelta(hours=2))
    await loop.request_extension(tid, WATER, at("2026-11-25T10:00"), 2, "管网改造")
    await loop.decide_extension(tid, SUP, at("2026-11-25T11:00"), True, True)
    await loop.reply(tid, WATER, at("2026-11-26T10:00"), "已恢复供水")
    queue = await loop.tickets(owner="1001", follow_up=True)
    assert [t.id for t in queue] == [tid]
    assert queue[0].follow_up_due_at == at("2026-11-27T17:30")  # the next working day
    await loop.follow_up(tid, OWNER, at("2026-11-27T09:00"), "电话", False, "", "无人接听")
    await loop.follow_up(tid, OWNER, at("2026-11-27T10:00"), "电话", True, "不满意", "水压低")
    with pytest.raises(TicketError, match="supervisor"):
        await loop.send_back(tid, OWNER, at("2026-11-27T11:00"), "重办")
    await loop.send_back(tid, SUP, at("2026-11-27T11:00"), "水压仍低，重办")
    await loop.reply(tid, WATER, at("2026-11-30T10:00"), "已更换加压泵")
    await loop.follow_up(tid, OWNER, at("2026-12-01T10:00"), "走访", True, "满意", "好了")
    t = await tickets.get(tid)
    assert (t.status, t.stage, t.satisfaction, t.unit) == ("closed", "closed", 4, "自来水公司")
    assert [e.kind for e in t.events] == [
        "created", "dispatched", "returned", "redispatched", "signed", "extension_requested",
        "extension_approved", "replied", "follow_up", "follow_up", "sent_back", "replied",
        "follow_up"]
    assert [e.by for e in t.events][1:5] == ["1001", "c1", "8001", "w1"]
    assert t.extensions == 1 and t.closed_at == at("2026-12-01T10:00")


async def test_one_reminder_per_overdue_step(db: Database) -> None:
    tickets, loop, _ = await world(db)
    t0 = at("2026-11-23T09:00")
    tid = await complaint(tickets, t0)
    await loop.dispatch(tid, OWNER, t0, "自来水公司", [], urgency=Urgency.LIFE)
    assert await loop.remind(t0 + timedelta(minutes=15), "system") == []
    first = await loop.remind(t0 + timedelta(minutes=16), "system")
    assert [(r.ticket_id, r.step, r.unit) for r in first] == [(tid, "sign:1", "自来水公司")]
    assert await loop.remind(t0 + timedelta(hours=3), "system") == []  # once per step
    assert await loop.remind(t0 + timedelta(hours=3), "8001", tid) == []
    assert [r.step for r in await loop.reminders(unit="自来水公司")] == ["sign:1"]
    assert [r.step for r in await loop.reminders(owner="1001")] == ["sign:1"]
    await loop.sign(tid, WATER, t0 + timedelta(hours=4))
    assert await loop.reminders(unit="自来水公司") == []  # signed: no longer open
    late = (await tickets.get(tid)).due_at + timedelta(minutes=1)
    second = await loop.remind(late, "system")
    assert [r.step for r in second] == ["reply:1"]
    assert await loop.remind(late + timedelta(days=3), "system") == []
    events = [e for e in (await tickets.get(tid)).events if e.kind == "reminded"]
    assert [e.data["step"] for e in events] == ["sign:1", "reply:1"]


async def test_merged_tickets_follow_the_main_one(db: Database) -> None:
    tickets, loop, _ = await world(db)
    t0 = at("2026-11-23T09:00")
    main = await complaint(tickets, t0)
    other = await complaint(tickets, t0 + timedelta(minutes=5), "同一小区停水")
    await loop.dispatch(main, OWNER, t0, "自来水公司", [])
    with pytest.raises(TicketError, match="supervisor"):
        await loop.merge(main, [other], OWNER, t0)
    await loop.merge(main, [other], SUP, t0 + timedelta(minutes=10))
    await loop.sign(main, WATER, t0 + timedelta(hours=1))
    with pytest.raises(TicketError, match="merged"):
        await loop.sign(other, WATER, t0 + timedelta(hours=1))
    await loop.reply(main, WATER, t0 + timedelta(hours=5), "已抢修")
    merged = await tickets.get(other)
    assert (merged.stage, merged.reply, merged.merged_into) == ("replied", "已抢修", main)
    queue = {t.id for t in await loop.tickets(owner="1001", follow_up=True)}
    assert queue == {main, other}  # every caller is followed up
    assert [e.kind for e in (await tickets.get(main)).events] == [
        "created", "dispatched", "merged_in", "signed", "replied"]


async def test_a_unit_sees_its_tickets_and_the_export_pages(db: Database) -> None:
    tickets, loop, _ = await world(db)
    t0 = at("2026-11-23T09:00")
    ids = [await complaint(tickets, t0 + timedelta(minutes=i)) for i in range(3)]
    await loop.dispatch(ids[0], OWNER, t0, "自来水公司", [])
    await loop.dispatch(ids[1], OWNER, t0, "城管局", [])
    total, rows = await loop.page(offset=0, limit=10, unit="自来水公司")
    assert (total, [t.id for t in rows]) == (1, [ids[0]])
    total, rows = await loop.page(offset=1, limit=1)
    assert (total, [t.id for t in rows]) == (3, [ids[1]])
    assert [t.id for t in await loop.tickets(unit="城管局", stages=[Stage.DISPATCHED])] == [ids[1]]


async def test_a_ticket_the_centre_answers_is_followed_up_too(db: Database) -> None:
    tickets, loop, _ = await world(db)
    t0 = at("2026-11-27T09:00")  # Friday
    tid = await complaint(tickets, t0)
    await tickets.move(tid, Move(TicketStatus.IN_PROGRESS, "1001"), t0)
    await tickets.move(tid, Move(TicketStatus.REPLIED, "1001"), t0, reply="已答复")
    queue = await loop.tickets(owner="1001", follow_up=True)
    assert [(t.id, t.follow_up_due_at) for t in queue] == [(tid, at("2026-11-30T17:30"))]
    await loop.follow_up(tid, OWNER, at("2026-11-30T10:00"), "电话", True, "非常不满意", "")
    with pytest.raises(TicketError, match="in the loop"):
        await tickets.move(tid, Move(TicketStatus.CLOSED, "1001"), t0, satisfaction=5)
    await loop.send_back(tid, SUP, at("2026-11-30T11:00"), "重新答复")
    t = await tickets.get(tid)
    assert (t.status, t.stage, t.satisfaction) == ("in_progress", "", 1)
    await loop.dispatch(tid, OWNER, at("2026-11-30T12:00"), "自来水公司", [])  # or to a unit


def test_the_limits_settings_name_the_variable() -> None:
    from hotline.config import load_settings
    from hotline.errors import ConfigError

    for env, key in (({"HOTLINE_UNIT_REPLY_DAYS": "complaint=99"}, "UNIT_REPLY_DAYS"),
                     ({"HOTLINE_FOLLOW_UP_SHARE": "gossip=5"}, "FOLLOW_UP_SHARE"),
                     ({"HOTLINE_URGENT_SIGN_MINUTES": "life=0"}, "URGENT_SIGN_MINUTES")):
        with pytest.raises(ConfigError, match=key):
            load_settings(env)
    from hotline.tickets.setup import loop_limits

    limits = loop_limits(load_settings({"HOTLINE_UNIT_REPLY_DAYS": "consultation=3",
                                        "HOTLINE_FOLLOW_UP_SHARE": "request=100",
                                        "HOTLINE_URGENT_SIGN_MINUTES": "life=10"}))
    assert limits.reply_days[MatterKind.CONSULTATION] == 3
    assert limits.reply_days[MatterKind.COMPLAINT] == 15
    assert limits.sampled(3, MatterKind.REQUEST) and limits.urgent_minutes[Urgency.LIFE] == 10
