"""接手 (003 首问负责制: 移交指定人员): the messages, complaints and callbacks the attendant
(9000) took wait on every operator's desk until one takes a ticket over; the take-over is
on the ticket's and the call's history, and the first-question owner changes with it. On
the production console, both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hotline.domain.calls import NewCall
from hotline.domain.tickets import NewTicket, TicketError, TicketKind
from hotline.store.database import Database
from hotline.store.operators_repo import OperatorRepository
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
