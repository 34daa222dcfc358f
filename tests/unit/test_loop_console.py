"""The loop in the production console over real stores: a unit user sees its unit's tickets
only (404 for another unit's, 403 for every call record, the statistics and the audit log),
the supervisors' escalation list and the unit's dashboard show a 催办, the catalogue's
suggestion is on the dispatch form, and GET /api/tickets pages by role."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from hotline.domain.calls import NewCall
from hotline.domain.loop.catalogue import Rule
from hotline.domain.loop.machine import Actor
from hotline.domain.tickets import NewTicket, TicketKind
from hotline.store.database import Database
from hotline.store.users_repo import Role, UserRepository
from tests.console import add_users, client, console, console_services, login

UNIT_USERS = {"w1": "自来水公司", "c1": "城管局"}
PASSWORD = "unit-pass-123"


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[object]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'console.db'}")
    await db.upgrade()
    await add_users(db)
    svc = console_services(db)
    now = datetime.now(UTC)
    for unit in UNIT_USERS.values():
        await svc.loop.add_unit(unit, now)
    for user, unit in UNIT_USERS.items():
        await UserRepository(db).add(user, Role.UNIT, PASSWORD, unit=unit)
    await svc.loop.replace_catalogue([Rule("供水", ("停水", "水压"), "自来水公司")])
    yield svc
    await db.close()


async def form_csrf(http: aiohttp.ClientSession, url: str) -> tuple[int, str, str]:
    async with http.get(url, allow_redirects=False) as r:
        text = await r.text()
    token = re.search(r'name="csrf" value="([^"]+)"', text)
    return r.status, text, token.group(1) if token else ""


async def test_the_unit_role_and_the_loop_over_http(services) -> None:  # type: ignore[no-untyped-def]
    svc = services
    now = datetime.now(UTC)
    call = await svc.calls.open_call(NewCall("c-1", "13900000001", "12345", now))
    await svc.calls.update_call(call, answered_by="1001", owner="1001", answered_at=now,
                                ended_at=now, disposition="resolved")
    water = await svc.tickets.open(NewTicket(TicketKind.CALLBACK, "1001", call_id=call,
                                             summary="小区停水两天"), now)
    city = await svc.tickets.open(NewTicket(TicketKind.CALLBACK, "1001", summary="占道经营"),
                                  now)
    await svc.loop.dispatch(city, Actor("1001", "operator"), now, "城管局", [])
    async with console(svc) as (base, _), client() as op, client() as w1, client() as sup:
        assert await login(op, base, "1001") == 302
        assert await login(sup, base, "8001") == 302
        assert await login(w1, base, "w1", PASSWORD) == 302
        # the operator dispatches with the catalogue's suggestion
        status, text, token = await form_csrf(op, f"{base}/tickets/{water}")
        assert status == 200 and "派单目录建议：自来水公司（供水）" in text
        async with op.post(f"{base}/tickets/{water}/dispatch", allow_redirects=False, data={
                "csrf": token, "unit": "自来水公司", "urgent": "utility",
                "instructions": "尽快"}) as r:
            assert r.status == 303, await r.text()
        # the unit user: its dashboard, its ticket, nothing else
        async with w1.get(f"{base}/", allow_redirects=False) as r:
            assert r.headers["Location"] == "/unit"
        status, text, token = await form_csrf(w1, f"{base}/unit")
        assert status == 200 and f'href="/tickets/{water}"' in text
        assert f'href="/tickets/{city}"' not in text
        for path in (f"/tickets/{city}", f"/tickets/{water}/recording"):
            async with w1.get(base + path, allow_redirects=False) as r:
                assert r.status == 404, path
        for path in (f"/calls/{call}", "/calls", "/api/calls", "/stats", "/api/stats",
                     "/audit", "/desk", "/wallboard", "/supervision", "/ledger"):
            async with w1.get(base + path, allow_redirects=False) as r:
                assert r.status == 403, path
        async with w1.post(f"{base}/tickets/{city}/sign", allow_redirects=False,
                           data={"csrf": token}) as r:
            assert r.status == 404  # another unit's
        async with w1.post(f"{base}/tickets/{water}/sign", allow_redirects=False,
                           data={"csrf": token}) as r:
            assert r.status == 303
        async with w1.post(f"{base}/tickets/{water}/reply", allow_redirects=False,
                           data={"csrf": token, "text": " "}) as r:
            assert r.status == 409 and "reply" in await r.text()
        async with w1.get(f"{base}/api/tickets") as r:
            data = await r.json()
        assert data["total"] == 1 and [t["id"] for t in data["tickets"]] == [water]
        assert [e["kind"] for e in data["tickets"][0]["events"]] == [
            "created", "dispatched", "signed"]
        assert data["tickets"][0]["callback_number"] != "13900000001"  # masked
    # an overdue signing: one 催办, on the escalation list, the unit's and the owner's
    await svc.loop.remind(now + timedelta(days=3), "system")
    async with console(svc) as (base, _), client() as sup, client() as c1, client() as op:
        assert await login(sup, base, "8001") == 302
        assert await login(c1, base, "c1", PASSWORD) == 302
        assert await login(op, base, "1001") == 302
        async with sup.get(f"{base}/supervision") as r:
            text = await r.text()
        assert f'href="/tickets/{city}"' in text  # the escalation list
        # this month's per-unit figures: 城管局 given one, 自来水公司 given and signed one
        assert "<tr><td>城管局</td><td>1</td><td>0</td>" in text
        assert "<tr><td>自来水公司</td><td>1</td><td>1</td><td>1</td><td>100.0%</td>" in text
        async with sup.get(f"{base}/supervision?month=2026-13") as r:
            assert r.status == 400
        async with c1.get(f"{base}/unit") as r:
            assert re.search(r'id="count-reminders">1<', await r.text())
        async with op.get(f"{base}/tickets") as r:
            assert 'id="owner-reminders"' in await r.text()
        async with sup.get(f"{base}/api/tickets?per_page=1&page=2") as r:
            page2 = await r.json()
        assert (page2["total"], [t["id"] for t in page2["tickets"]]) == (2, [city])
        async with op.get(f"{base}/api/tickets?page=x") as r:
            assert r.status == 400
