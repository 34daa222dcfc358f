"""接手 (003 首问负责制: 移交指定人员): the messages, complaints and callbacks the attendant
(9000) took wait on every operator's desk until one takes a ticket over; the take-over is
on the ticket's and the call's history, and the first-question owner changes with it. On
the production console, both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hotline.domain.calls import NewCall
from hotline.domain.seats import DutyState
from hotline.domain.tickets import NewTicket, TicketError, TicketKind
from hotline.live.hub import Happening
from hotline.store.database import Database
from hotline.store.operators_repo import OperatorRepository
from hotline.store.users_repo import Role, UserRepository
from tests.console import add_users, client, console, console_services, csrf, login


async def test_an_operator_takes_over_what_the_attendant_took(db: Database) -> None:
    await add_users(db)
    services = console_services(db, attendant_post="9000", operators=OperatorRepository(db))
    services.pbx.sip_ws_url = ""  # no browser phone here
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    call = await services.calls.open_call(NewCall("c-1", "13900000001", "12345", now))
    await services.calls.update_call(call, owner="9000", answered_by="9000")
    message = await services.tickets.open(NewTicket(
        TicketKind.MESSAGE, "9000", call_id=call, summary="留言给王主任",
        fields={"text": "请回电"}), now)
    mine = await services.tickets.open(NewTicket(TicketKind.CALLBACK, "1002",
                                                 summary="回电"), now)
    async with console(services) as (base, _), client() as http:
        assert await login(http, base, "1001") == 302
        async with http.get(f"{base}/desk") as r:
            desk = await r.text()
        assert "待接手" in desk and f"/tickets/{message}/take-over" in desk
        assert f"/tickets/{mine}/take-over" not in desk  # a person's ticket is not waiting
        token = await csrf(http, base)
        async with http.post(f"{base}/tickets/{message}/take-over", allow_redirects=False,
                             data={"csrf": token, "reason": "王主任今日在岗"}) as r:
            assert r.status == 303 and r.headers["Location"] == "/desk"
        async with http.post(f"{base}/tickets/{message}/take-over",
                             data={"csrf": token}) as r:
            assert r.status == 409  # taken already: 1001's now
        async with http.post(f"{base}/tickets/{mine}/take-over", data={"csrf": token}) as r:
            assert r.status == 409 and "supervisor" in await r.text()
        async with http.get(f"{base}/desk") as r:
            assert f"/tickets/{message}/take-over" not in await r.text()
    ticket = await services.tickets.get(message)
    record = await services.calls.get(call)
    assert ticket.owner == "1001" and record.owner == "1001"
    [taken] = [e for e in ticket.events if e.kind == "taken_over"]
    assert (taken.by, taken.data) == ("1001", {"from": "9000", "to": "1001",
                                               "reason": "王主任今日在岗"})
    [changed] = [e for e in record.events if e.kind == "owner_changed"]
    assert changed.data["ticket"] == message and changed.data["reason"] == "王主任今日在岗"
    audit = await services.users.audit_log(limit=20)
    assert any(a.action == "take_over_ticket" and a.target == str(message) for a in audit)
    with pytest.raises(TicketError, match="why"):
        await services.tickets.take_over(message, "1001", " ", "9000", now)


async def test_what_the_attendant_took_pops_up_live_for_whoever_is_on_duty(
        db: Database) -> None:
    """The desk's live feed: an operator coming on duty gets the waiting list at once; a
    message the attendant takes meanwhile pops up on every on-duty desk (not on a desk off
    duty); a take-over by one operator takes it off the others' lists."""
    await add_users(db)
    await UserRepository(db).add("1002", Role.OPERATOR, "operator-pass-2")
    services = console_services(db)
    services.pbx.sip_ws_url = ""
    for job in ("1001", "1002"):
        await services.operators.add(job, f"话务员{job}", "digest")
    await services.operators.set_duty("1001", DutyState.ON_DUTY)
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    earlier = await services.tickets.open(NewTicket(TicketKind.CALLBACK, "9000",
                                                    summary="请回电"), now)
    async with console(services) as (base, _), client() as on, client() as off:
        assert await login(on, base, "1001") == 302
        assert await login(off, base, "1002", "operator-pass-2") == 302
        ws_on = await on.ws_connect(f"{base}/desk/live")
        ws_off = await off.ws_connect(f"{base}/desk/live")
        first = await ws_on.receive_json(timeout=5)
        assert first["type"] == "waiting" and first["post"] == "9000"
        assert [t["id"] for t in first["tickets"]] == [earlier]
        assert first["tickets"][0]["kind_name"] == "回复"
        call = await services.calls.open_call(NewCall("c-2", "13900000002", "12345", now))
        message = await services.tickets.open(NewTicket(
            TicketKind.MESSAGE, "9000", call_id=call, summary="留言给王主任",
            fields={"text": "请回电", "confidential": True}), now)
        services.hub.publish(Happening(call, "message_taken", {"ticket": message}))
        popped = await ws_on.receive_json(timeout=5)
        assert sorted(t["id"] for t in popped["tickets"]) == sorted([earlier, message])
        assert [t["confidential"] for t in popped["tickets"] if t["id"] == message] == [True]
        async with on.post(f"{base}/tickets/{message}/take-over",
                           data={"csrf": await csrf(on, base), "reason": "我来回复"}) as r:
            assert r.status == 200  # back on the desk
        after = await ws_on.receive_json(timeout=5)
        assert [t["id"] for t in after["tickets"]] == [earlier]
        with pytest.raises(TimeoutError):  # off duty: nothing popped up there
            await ws_off.receive_json(timeout=0.5)
        await ws_on.close()
        await ws_off.close()
