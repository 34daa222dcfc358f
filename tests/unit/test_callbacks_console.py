"""The console's callback list and one-click outbound call over the real console and stores,
with the telephony faked: masking by role, the audited reads, the API's answers and errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from hotline.callbacks.dialer import OutboundDialer
from hotline.callbacks.service import CallbackService
from hotline.callbacks.store import CallbackStore
from hotline.domain.tickets import Move, NewTicket, TicketKind, TicketStatus
from hotline.seats.board import SeatRoster
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.operators_repo import OperatorRepository
from hotline.store.users_repo import Role, UserRepository
from tests.console import add_users, client, console, console_services, csrf, login
from tests.unit.test_callbacks import Clock, FakeTelephony, missed_call

NUMBER = "13900000001"


async def world(db: Database) -> tuple[Any, int]:
    await add_users(db)
    await UserRepository(db).add("1002", Role.OPERATOR, "operator-pass-2")
    operators = OperatorRepository(db)
    await operators.add("1001", "话务员1001", "0" * 32)
    entry = await missed_call(CallRepository(db), "c1", NUMBER, datetime.now(UTC),
                              disposition="abandoned")
    telephony = FakeTelephony(["PJSIP/1001", f"PJSIP/{NUMBER}@outbound"])
    dialer = OutboundDialer(telephony, "PJSIP/{number}@outbound", "12345",  # type: ignore[arg-type]
                            Clock(), seat_proxy="", seat_ring_s=1, ring_s=1)
    callbacks = CallbackService(CallbackStore(db), Clock(), 7, dialer, SeatRoster(operators))
    return console_services(db, operators=operators, callbacks=callbacks), entry


async def test_operators_see_numbers_masked_supervisors_in_full_and_reads_are_audited(
        db: Database) -> None:
    services, entry = await world(db)
    async with console(services) as (base, _):
        pages = {}
        for user in ("1001", "8001"):
            async with client() as http:
                assert await login(http, base, user) == 302
                async with http.get(f"{base}/callbacks") as r:
                    assert r.status == 200
                    pages[user] = await r.text()
    assert "139****0001" in pages["1001"] and NUMBER not in pages["1001"]
    assert NUMBER in pages["8001"] and "响铃中挂断" in pages["8001"]
    assert f'name="missed_id" value="{entry}"' in pages["1001"]
    audits = [(a.actor, a.action, a.detail) for a in await services.users.audit_log()
              if a.action == "view_callbacks"]
    assert sorted(audits) == [("1001", "view_callbacks", {"entries": 1, "full_numbers": False}),
                              ("8001", "view_callbacks", {"entries": 1, "full_numbers": True})]


async def test_the_outbound_call_api(db: Database) -> None:
    services, entry = await world(db)
    ticket = await services.tickets.open(NewTicket(
        kind=TicketKind.CALLBACK, by="1002", summary="回电", callback_number=NUMBER),
        datetime.now(UTC))
    async with console(services) as (base, _), client() as http, client() as other:
        assert await login(http, base, "1001") == 302
        token = {"X-CSRF-Token": await csrf(http, base)}

        async def post(body: Any) -> tuple[int, Any]:
            async with http.post(f"{base}/outbound/calls", json=body, headers=token) as r:
                return r.status, (await r.json() if r.status == 202 else await r.text())

        assert await post({"missed_id": "x1"}) == (
            400, "missed_id: expected a whole number, got 'x1'")
        assert (await post({"missed_id": entry, "ticket_id": ticket}))[0] == 400
        assert (await post({"ticket_id": 10**40}))[0] == 400  # beyond any id
        assert await post({"ticket_id": ticket}) == (404, "no such ticket")  # 1002's
        assert await post({"missed_id": entry + 9}) == (
            404, f"no open callback entry {entry + 9}")
        assert (await post({"missed_id": entry, "number": "58001234"}))[1] == \
            "number: a missed call is called back on its own number"
        status, placed = await post({"missed_id": entry})
        assert status == 202 and placed["outcome"] == "pending"
        await services.callbacks.wait()
        async with http.get(f"{base}/outbound/calls/{placed['id']}") as r:
            state = await r.json()
        assert (state["by"], state["outcome"], state["missed_id"]) == ("1001", "reached",
                                                                        entry)
        assert await login(other, base, "1002", "operator-pass-2") == 302
        async with other.get(f"{base}/outbound/calls/{placed['id']}") as r:
            assert r.status == 404  # not theirs
        other_token = {"X-CSRF-Token": await csrf(other, base)}
        async with other.post(f"{base}/outbound/calls", json={"ticket_id": ticket},
                              headers=other_token) as r:
            assert (r.status, await r.text()) == (400, "1002 has no seat (phone) to call from")
        async with http.get(f"{base}/callbacks") as r:
            listing = await r.text()
    assert "没有待回拨的来电" in listing and "回拨接通" in listing
    audits = [(a.actor, a.action, a.target) for a in await services.users.audit_log()]
    assert ("1001", "outbound_call", f"missed:{entry}") in audits


async def test_the_follow_up_call_from_the_ticket_page(db: Database) -> None:
    """回访 by phone: the replied ticket's page has the call button; the call goes on the
    ticket's history and the operator is sent back to the ticket."""
    services, _ = await world(db)
    now = datetime.now(UTC)
    ticket = await services.tickets.open(NewTicket(
        kind=TicketKind.CALLBACK, by="1001", summary="路灯坏了", callback_number=NUMBER), now)
    await services.tickets.move(ticket, Move(TicketStatus.IN_PROGRESS, "1001"), now)
    await services.tickets.move(ticket, Move(TicketStatus.REPLIED, "1001"), now,
                                reply="已修复")
    async with console(services) as (base, _), client() as http:
        assert await login(http, base, "1001") == 302
        async with http.get(f"{base}/tickets/{ticket}") as r:
            page = await r.text()
        assert 'id="form-call"' in page and f'name="ticket_id" value="{ticket}"' in page
        token = re.search(r'name="csrf" value="([^"]+)"', page)
        assert token is not None
        async with http.post(f"{base}/outbound/calls", allow_redirects=False, data={
                "csrf": token.group(1), "ticket_id": str(ticket)}) as r:
            assert (r.status, r.headers["Location"]) == (303, f"/tickets/{ticket}")
        await services.callbacks.wait()
    history = [(e.kind, e.by, e.data.get("outcome"))
               for e in (await services.tickets.get(ticket)).events]
    assert history[-2:] == [("outbound_call", "1001", "pending"),
                            ("outbound_call", "1001", "reached")]
    services.callbacks.dialer = None  # no trunk configured: no button
    async with console(services) as (base, _), client() as http:
        assert await login(http, base, "1001") == 302
        async with http.get(f"{base}/tickets/{ticket}") as r:
            assert 'id="form-call"' not in await r.text()
