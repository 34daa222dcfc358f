"""The duty log, the A/B guard, handovers and stand-in work (000 值班制度, 003 AB岗): pure
rules on plain seats; the service on both databases; the console's pages on the production
app (the guard's confirmation, a handover pre-filled and acknowledged, a B post working its
away A post's ticket and the A post told, operators kept to their own appraisal)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hotline.cli import main
from hotline.domain.duty import (
    DutyChange,
    DutyError,
    PostGuard,
    attendance,
    needs_confirmation,
    standing_in_for,
    uncovered_posts,
)
from hotline.domain.loop.limits import MatterKind
from hotline.domain.loop.machine import Actor
from hotline.domain.seats import DutyState, Seat
from hotline.domain.tickets import Move, NewTicket, TicketError, TicketKind, TicketStatus
from hotline.duty.setup import duty_service
from hotline.store.database import Database
from hotline.store.operators_repo import OperatorRepository
from hotline.store.users_repo import Role, UserRepository
from tests.console import add_users, client, console, console_services, csrf, login
from tests.unit.test_callbacks import missed_call, service_on

ON, BREAK, OFF = DutyState.ON_DUTY, DutyState.BREAK, DutyState.OFF
ZONE = ZoneInfo("Asia/Shanghai")


def seats(a: DutyState, *bs: DutyState) -> list[Seat]:
    return [Seat("1001", "A", a)] + [Seat(f"100{i + 2}", "B", d, backup_of="1001")
                                     for i, d in enumerate(bs)]


def test_the_guard_and_the_uncovered_posts() -> None:
    assert needs_confirmation(seats(ON, BREAK, OFF), "1001", BREAK)
    assert needs_confirmation(seats(ON), "1001", OFF)  # no B post at all
    assert not needs_confirmation(seats(ON, ON, OFF), "1001", OFF)  # a B post covers
    assert not needs_confirmation(seats(ON, OFF), "1002", OFF)  # a B post leaving
    assert not needs_confirmation(seats(BREAK, OFF), "1001", OFF)  # already away
    assert uncovered_posts([*seats(BREAK, OFF), Seat("2001", "C", ON)]) == ["1001"]
    assert uncovered_posts(seats(OFF, ON)) == []
    assert standing_in_for(seats(BREAK, ON), "1002") == ["1001"]
    assert standing_in_for(seats(ON, ON), "1002") == []
    assert standing_in_for(seats(BREAK, BREAK), "1002") == []  # not on duty itself


def test_attendance_is_cut_at_midnight_and_starts_from_the_state_before() -> None:
    t = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # 00:00 local, the 2nd
    changes = [DutyChange("1001", t - timedelta(hours=2), ON, OFF, "1001"),  # 22:00 the 1st
               DutyChange("1001", t + timedelta(hours=1), BREAK, ON, "1001"),
               DutyChange("1001", t + timedelta(hours=1, minutes=30), OFF, BREAK, "1001")]
    since = t - timedelta(days=1)
    got = attendance(changes, since, t + timedelta(days=1), ZONE, {"1002": ON})
    days = {(d.job_number, d.day.isoformat()): (d.on_duty_s, d.break_s)
            for d in got.days.values()}
    assert days == {("1001", "2026-12-01"): (7200.0, 0.0), ("1001", "2026-12-02"):
                    (3600.0, 1800.0), ("1002", "2026-12-01"): (86400.0, 0.0),
                    ("1002", "2026-12-02"): (86400.0, 0.0)}
    assert got.by_operator()["1001"] == {"on_duty_s": 10800.0, "break_s": 1800.0, "days": 2}


async def _seats(db: Database) -> OperatorRepository:
    ops = OperatorRepository(db)
    await ops.add("1001", "张三", "x")
    await ops.add("1002", "李四", "x", backup_of="1001")
    return ops


async def test_the_service_logs_guards_and_stands_in(db: Database) -> None:
    ops = await _seats(db)
    services = console_services(db, operators=ops)
    duty = duty_service(db, ops, services.tickets, services.loop, UserRepository(db))
    t0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    await duty.change("1001", ON, "1001", t0)
    with pytest.raises(PostGuard, match="nobody on duty") as guard:
        await duty.change("1001", BREAK, "1001", t0 + timedelta(hours=1))
    assert guard.value.backups == ("1002",)
    assert (await ops.get("1001")).duty == ON.value  # nothing changed
    await duty.change("1001", BREAK, "1001", t0 + timedelta(hours=1), confirm=True,
                      note="开会")
    assert await duty.uncovered() == ["1001"]
    log = await duty.log.history()
    assert [(c.before, c.to, c.guard, c.note) for c in log] == [
        (OFF, ON, "", ""), (ON, BREAK, "confirmed", "开会")]
    audit = [(a.action, a.target) for a in await services.users.audit_log()]
    assert ("duty_post_uncovered", "1001") in audit and ("duty", "1001") in audit
    # 1002 comes on duty and works 1001's ticket while 1001 is away
    mine = await services.tickets.open(NewTicket(TicketKind.CALLBACK, "1001", summary="回电"),
                                       t0)
    await duty.change("1002", ON, "1002", t0 + timedelta(hours=2))
    posts, open_ = await duty.stand_in("1002")
    assert posts == ["1001"] and [t.id for t in open_] == [mine]
    assert await duty.work_for("1002", mine, TicketStatus.IN_PROGRESS, "",
                               t0 + timedelta(hours=3)) == "1001"
    with pytest.raises(DutyError, match="may become"):
        await duty.work_for("1002", mine, TicketStatus.CLOSED, "", t0)
    await duty.change("1001", ON, "1001", t0 + timedelta(hours=4))
    notice = await duty.back_notice("1001")
    assert notice is not None and [(d["ticket"], d["by"], d["to"], d["note"])
                                   for d in notice.done] == [
        (mine, "1002", "in_progress", "顶岗 for 1001")]
    with pytest.raises(DutyError, match="not an open ticket"):  # 1001 is back
        await duty.work_for("1002", mine, TicketStatus.REPLIED, "已回电", t0)


async def test_a_b_post_works_the_away_a_posts_loop_tickets(db: Database) -> None:
    """003 顶岗: while 1001 is away, 1002 dispatches 1001's new ticket and follows up its
    replied one (closing it) through the loop, each recorded as 1002's on 1001's behalf;
    1001 is told when back. Nobody else may, and not while 1001 is on duty."""
    ops = await _seats(db)
    await ops.add("1003", "王五", "x")
    services = console_services(db, operators=ops)
    loop, tickets = services.loop, services.tickets
    duty = duty_service(db, ops, tickets, loop, UserRepository(db))
    t0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday, 09:00 in Shanghai
    for unit in ("自来水公司", "城管局"):
        await loop.add_unit(unit, t0)
    water, owner = Actor("w1", "unit", "自来水公司"), Actor("1001", "operator")
    new = await tickets.open(NewTicket(TicketKind.CALLBACK, "1001", summary="占道经营"), t0)
    replied = await tickets.open(NewTicket(TicketKind.CALLBACK, "1001", summary="停水"), t0)
    await loop.dispatch(replied, owner, t0, "自来水公司", [], matter=MatterKind.COMPLAINT)
    await loop.sign(replied, water, t0 + timedelta(minutes=10))
    await loop.reply(replied, water, t0 + timedelta(hours=1), "已恢复供水")
    await duty.change("1001", ON, "1001", t0)
    await duty.change("1002", ON, "1002", t0)
    with pytest.raises(DutyError, match="not an open ticket"):  # 1001 is on duty
        await duty.dispatch_for("1002", new, t0, "城管局")
    await duty.change("1001", BREAK, "1001", t0 + timedelta(hours=2))
    with pytest.raises(TicketError, match="owner"):  # the loop's own rule, without 顶岗
        await loop.follow_up(replied, Actor("1002", "operator"), t0, "电话", True, "满意", "")
    with pytest.raises(DutyError, match="not an open ticket"):  # 1003 is nobody's B post
        await duty.follow_up_for("1003", replied, t0, "电话", True, "满意", "")
    with pytest.raises(DutyError, match="in the loop"):  # no bare move of a loop ticket
        await duty.work_for("1002", replied, TicketStatus.IN_PROGRESS, "", t0)
    at = t0 + timedelta(hours=3)
    assert await duty.dispatch_for("1002", new, at, "城管局", instructions="请核查") == "1001"
    assert await duty.follow_up_for("1002", replied, at + timedelta(minutes=5), "电话", True,
                                    "满意", "已经来水") == "1001"
    dispatched, closed = await tickets.get(new), await tickets.get(replied)
    assert (dispatched.stage, dispatched.unit, dispatched.owner) == ("dispatched", "城管局",
                                                                     "1001")
    assert (closed.stage, closed.status, closed.satisfaction) == ("closed", "closed", 4)
    for t, kind in ((dispatched, "dispatched"), (closed, "follow_up")):
        e = t.events[-1]
        assert (e.kind, e.by, e.data["stand_in_for"], e.data["note"]) == (
            kind, "1002", "1001", "顶岗 for 1001")
    audit = {(a.actor, a.action, a.target) for a in await services.users.audit_log()}
    assert {("1002", "stand_in_dispatch", str(new)),
            ("1002", "stand_in_follow_up", str(replied))} <= audit
    await duty.change("1001", ON, "1001", t0 + timedelta(hours=4))
    notice = await duty.back_notice("1001")
    assert notice is not None and [(d["ticket"], d["by"], d["kind"], d["note"])
                                   for d in notice.done] == [
        (new, "1002", "dispatched", "顶岗 for 1001"),
        (replied, "1002", "follow_up", "顶岗 for 1001")]


async def test_a_handover_pre_filled_and_acknowledged(db: Database) -> None:
    ops = await _seats(db)
    services = console_services(db, operators=ops)
    rang = datetime.now(UTC) - timedelta(hours=1)  # within the list's window
    missed = await missed_call(services.calls, "m-1", "13900000001", rang,
                               disposition="abandoned")
    duty = duty_service(db, ops, services.tickets, services.loop, UserRepository(db),
                        await service_on(db, None))
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tuesday, 17:00 in Shanghai
    m = await services.tickets.open(NewTicket(TicketKind.MESSAGE, "1001", summary="留言",
                                              fields={"text": "请回电"}), now)
    c = await services.tickets.open(NewTicket(TicketKind.CALLBACK, "1001", summary="回电"),
                                    now - timedelta(days=5))
    r = await services.tickets.open(NewTicket(TicketKind.REFERRAL, "1001", summary="转办",
                                              department="水务"), now)
    await services.tickets.move(r, Move(TicketStatus.IN_PROGRESS, "1001"), now)
    await services.tickets.move(r, Move(TicketStatus.REPLIED, "1001"), now, reply="已答复")
    other = await services.tickets.open(NewTicket(TicketKind.CALLBACK, "1002"), now)
    draft = await duty.draft("1001", now, ZONE)
    assert {k: [t["id"] for t in v] for k, v in draft.items()} == {
        "messages": [m], "callbacks": [c], "follow_ups": [r], "open": [], "missed": [missed]}
    assert draft["callbacks"][0]["overdue"] and other not in {
        t["id"] for k, v in draft.items() if k != "missed" for t in v}
    # 待回访: the follow-up visit's due time (the next working day), not the reply's
    replied = await services.tickets.get(r)
    assert replied.follow_up_due_at is not None and replied.follow_up_due_at != replied.due_at
    assert draft["follow_ups"][0]["due"] == "2026-12-02 17:30" and not draft["follow_ups"][0][
        "overdue"]
    later = await duty.draft("1001", replied.follow_up_due_at + timedelta(minutes=1), ZONE)
    assert later["follow_ups"][0]["overdue"]
    # 漏接回拨: the centre's callback list, the number masked
    assert draft["missed"] == [{
        "id": missed, "number": "139****0001", "missed": 1, "reasons": ["ringing"],
        "first": rang.astimezone(ZONE).strftime("%Y-%m-%d %H:%M"),
        "last": rang.astimezone(ZONE).strftime("%Y-%m-%d %H:%M"), "attempts": 0, "outcome": ""}]
    with pytest.raises(DutyError, match="oneself"):
        await duty.hand_over("1001", "1001", "", now, ZONE)
    hid = await duty.hand_over("1001", "1002", "注意3号留言", now, ZONE)
    with pytest.raises(DutyError, match="not its author"):
        await duty.acknowledge(hid, "1001", "", now)
    assert [h.id for h in await duty.log.handovers(pending_for="1002")] == [hid]
    await duty.acknowledge(hid, "1002", "收到", now + timedelta(minutes=5))
    with pytest.raises(DutyError, match="already"):
        await duty.acknowledge(hid, "1002", "", now)
    h = await duty.log.handover(hid)
    assert (h.acknowledged_by, h.ack_note, h.items["messages"][0]["id"]) == ("1002", "收到", m)
    assert h.items["missed"][0]["number"] == "139****0001"  # kept as the form showed it


async def test_the_console_guard_stand_in_and_appraisal_pages(db: Database) -> None:
    await add_users(db)
    await UserRepository(db).add("1002", Role.OPERATOR, "operator-pass-2")
    ops = await _seats(db)
    services = console_services(db, operators=ops, attendant_post="9000",
                                roster=type("R", (), {"busy": set()})())
    services.pbx.sip_ws_url = ""
    t = await services.tickets.open(NewTicket(TicketKind.CALLBACK, "1001", summary="回电王先生"),
                                    datetime.now(UTC))
    t2 = await services.tickets.open(NewTicket(TicketKind.CALLBACK, "1001", summary="占道"),
                                     datetime.now(UTC))
    await services.loop.add_unit("城管局", datetime.now(UTC))
    async with console(services) as (base, _), client() as a, client() as b:
        assert await login(a, base, "1001") == 302
        token = await csrf(a, base)
        async with a.post(f"{base}/desk/duty", data={"csrf": token, "duty": "on_duty"},
                          allow_redirects=False) as r:
            assert r.status == 302
        async with a.post(f"{base}/desk/duty", data={"csrf": token, "duty": "break"}) as r:
            assert r.status == 409 and "将无人值守" in await r.text()
        assert (await ops.get("1001")).duty == "on_duty"
        async with a.post(f"{base}/duty/state", allow_redirects=False, data={
                "csrf": token, "duty": "break", "confirm": "yes", "note": "外出"}) as r:
            assert r.status == 302
        async with a.post(f"{base}/duty/state", data={"csrf": token, "duty": "on_duty",
                                                       "job": "1002"}) as r:
            assert r.status == 403  # an operator sets only their own seat
        async with a.get(f"{base}/appraisal") as r:
            assert r.status == 403  # the others' appraisal is for supervisors
        async with a.get(f"{base}/appraisal/me") as r:
            page = await r.text()
            assert r.status == 200 and 'data-job="1001"' in page and 'data-job="1002"' \
                not in page
        assert await login(b, base, "1002", "operator-pass-2") == 302
        token_b = await csrf(b, base)
        await b.post(f"{base}/desk/duty", data={"csrf": token_b, "duty": "on_duty"})
        async with b.get(f"{base}/duty") as r:
            assert "顶岗" in await r.text() and "回电王先生" in await r.text()
        async with b.post(f"{base}/duty/stand-in/{t}", allow_redirects=False, data={
                "csrf": token_b, "to": "in_progress"}) as r:
            assert r.status == 303
        async with b.get(f"{base}/duty") as r:
            assert f'action="/duty/stand-in/{t2}?action=dispatch"' in await r.text()
        async with b.post(f"{base}/duty/stand-in/{t2}?action=dispatch", allow_redirects=False,
                          data={"csrf": token_b, "unit": "城管局", "urgent": ""}) as r:
            assert r.status == 303
        async with b.post(f"{base}/duty/stand-in/{t2}?action=close", data={
                "csrf": token_b}) as r:
            assert r.status == 400 and (await r.text()).startswith("action:")
        await a.post(f"{base}/desk/duty", data={"csrf": token, "duty": "on_duty"})
        async with a.get(f"{base}/desk") as r:
            assert 'id="back-notice"' in await r.text()
        async with a.get(f"{base}/duty") as r:
            assert "顶岗 for 1001" in await r.text()
        async with a.get(f"{base}/duty/handover") as r:  # no callback list on this node
            text = await r.text()
            assert r.status == 200 and "漏接回拨（0）" in text and "回电王先生" in text
        async with b.get(f"{base}/wallboard") as r:
            assert r.status == 403
    ticket = await services.tickets.get(t)
    assert [(e.by, e.to_status) for e in ticket.events][-1] == ("1002", "in_progress")
    dispatched = await services.tickets.get(t2)
    assert (dispatched.stage, dispatched.events[-1].by,
            dispatched.events[-1].data["stand_in_for"]) == ("dispatched", "1002", "1001")


def test_the_cli_logs_guards_hands_over_and_appraises(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    month = datetime.now(ZONE).strftime("%Y-%m")  # the changes are made now
    for argv in (["operators", "add", "1001", "--name", "张三"],
                 ["operators", "add", "1002", "--name", "李四", "--backup-of", "1001"],
                 ["operators", "duty", "1001", "on"]):
        assert main(argv) == 0
    capsys.readouterr()
    assert main(["duty", "set", "1001", "break"]) == 2  # 1002 is off: the guard asks
    assert "confirm" in capsys.readouterr().err
    assert main(["duty", "set", "1001", "break", "--confirm", "--note", "开会"]) == 0
    assert main(["operators", "list"]) == 0
    assert "A post (B: 1002)" in capsys.readouterr().out
    assert main(["operators", "add", "1003", "--name", "王五"]) == 0
    assert main(["operators", "pair", "1003", "--backup-of", "1002"]) == 2  # a B post
    assert "itself a B post" in capsys.readouterr().err
    assert main(["operators", "pair", "1003", "--backup-of", "1001"]) == 0
    assert main(["operators", "pair", "1001", "--backup-of", "1003"]) == 2  # has B posts
    assert main(["operators", "pair", "1003", "--none"]) == 0
    capsys.readouterr()
    assert main(["duty", "log", "--json"]) == 0
    log = json.loads(capsys.readouterr().out)
    assert [(e["from"], e["to"], e["guard"], e["note"]) for e in log] == [
        ("off", "on_duty", "", ""), ("on_duty", "break", "confirmed", "开会")]
    assert all(e["by"].startswith("cli:") for e in log)
    assert main(["duty", "handover", "1001", "--to", "1002", "--json"]) == 0
    handover = json.loads(capsys.readouterr().out)["id"]
    assert main(["duty", "ack", str(handover), "--by", "1001"]) == 2  # not its author
    assert main(["duty", "ack", str(handover), "--by", "1002"]) == 0
    (tmp_path / "scores.csv").write_text("1001,88\n1002,x\n", "utf-8")
    capsys.readouterr()
    assert main(["duty", "appraisal", "--month", month, "--inspection",
                 str(tmp_path / "scores.csv")]) == 2
    assert "line 2" in capsys.readouterr().err
    (tmp_path / "scores.csv").write_text("1001,88\n", "utf-8")
    assert main(["duty", "appraisal", "--month", month, "--json", "--inspection",
                 str(tmp_path / "scores.csv")]) == 0
    rows = {r["job_number"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["1001"]["parts"]["inspection"] == 88.0 and rows["1002"]["parts"][
        "inspection"] is None
    assert main(["duty", "attendance", "--month", month, "--json"]) == 0
    assert "1001" in json.loads(capsys.readouterr().out)["month"]
