"""The ticket board, GET /api/tickets and `tickets export` over a store of more than 1000
tickets: the board filters in SQL (an operator's own, a unit's as lead or assisting unit,
closed ones only when asked) and pages; the API and the export select by last change
(a ticket raised before T and dispatched after it is in), count a unit's tickets as the
ticket page does, and say which field is wrong."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import insert

from hotline.cli import main
from hotline.domain.loop.limits import MatterKind
from hotline.domain.loop.machine import Actor
from hotline.domain.tickets import Move, NewTicket, TicketKind, TicketStatus
from hotline.store.database import Database
from hotline.store.models import Ticket
from hotline.store.users_repo import Role, UserRepository
from tests.console import add_users, client, console, console_services, login

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
SINCE = T0 + timedelta(hours=1)
WATER, CITY = "自来水公司", "城管局"
OTHERS = 1200  # beyond the board's old find(limit=1000)
PASSWORD = "unit-pass-123"


async def bulk(db: Database, others: int) -> None:
    """Other operators' tickets, all overdue (due before anything of 1001's), and one
    closed ticket of 1001's: rows only, no history."""
    rows = [{"kind": "callback", "status": "open", "summary": f"别人的{i}",
             "owner": f"2{i % 50:03d}", "created_at": T0 - timedelta(days=40),
             "due_at": T0 - timedelta(days=30, minutes=-i), "fields": {}, "assisting": []}
            for i in range(others)]
    rows.append({"kind": "callback", "status": "closed", "summary": "已办结的",
                 "owner": "1001", "created_at": T0 - timedelta(days=9),
                 "due_at": T0 - timedelta(days=8), "fields": {}, "assisting": []})
    async with db.unit() as s:
        await s.execute(insert(Ticket), rows)


async def fill(db: Database, others: int) -> SimpleNamespace:
    """The store of these tests: the users, two units, ``others`` tickets of other
    operators, and 1001's four (its own, one assigned to it, one dispatched to the water
    company with the city assisting, one to the city), dispatched after SINCE."""
    await add_users(db)
    svc = console_services(db)
    for unit in (WATER, CITY):
        await svc.loop.add_unit(unit, T0)
    for user, unit in (("w1", WATER), ("c1", CITY)):
        await UserRepository(db).add(user, Role.UNIT, PASSWORD, unit=unit)
    await bulk(db, others)
    owner = Actor("1001", "operator")

    async def mine(summary: str) -> int:
        return int(await svc.tickets.open(NewTicket(TicketKind.CALLBACK, "1001",
                                                    summary=summary), T0))

    own = await mine("我的回电")
    assigned = await svc.tickets.open(NewTicket(TicketKind.CALLBACK, "8001", summary="转给我的"),
                                      T0)
    await svc.tickets.move(assigned, Move(TicketStatus.ASSIGNED, "8001"), T0, assignee="1001")
    both = await mine("停水，占道施工")  # led by the water company, the city assisting
    await svc.loop.dispatch(both, owner, SINCE + timedelta(hours=1), WATER, [CITY],
                            matter=MatterKind.COMPLAINT)
    city = await mine("占道经营")
    await svc.loop.dispatch(city, owner, SINCE + timedelta(hours=2), CITY, [])
    return SimpleNamespace(db=db, svc=svc, own=own, assigned=assigned, both=both, city=city)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[SimpleNamespace]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'board.db'}"
    db = Database(url)
    await db.upgrade()
    w = await fill(db, OTHERS)
    w.url = url
    yield w
    await db.close()


async def test_the_repositories_filter_by_unit_and_last_change(db: Database) -> None:
    """The SQL of the board and of the API on both databases (the unit's assisting list is
    JSON: json_each on SQLite, json_array_elements_text on PostgreSQL)."""
    w = await fill(db, 60)
    board = w.svc.tickets.board
    assert {t.id for t in (await board(T0, unit=CITY))[0]} == {w.both, w.city}
    assert [t.id for t in (await board(T0, unit=WATER))[0]] == [w.both]
    assert (await board(T0, unit=""))[0] == []  # an unbound unit user: nothing
    mine, more = await board(T0, people="1001")
    assert {t.id for t in mine} == {w.own, w.assigned, w.both, w.city} and not more
    assert [t.summary for t in (await board(T0, people="1001", closed=True))[0]].count(
        "已办结的") == 1
    page, more = await board(T0, limit=50)
    assert len(page) == 50 and more
    rest, more = await board(T0, offset=50, limit=50)
    assert len(rest) == 60 + 4 - 50 and not more
    # T0: nothing is overdue yet but the others (due a month before): they come first
    assert all(t.summary.startswith("别人的") for t in page)
    total, rows = await w.svc.loop.page(offset=0, limit=10, since=SINCE)
    assert (total, [t.id for t in rows]) == (2, sorted([w.both, w.city]))
    assert [e.kind for e in rows[0].events] == ["created", "dispatched"]  # loaded in batch
    total, rows = await w.svc.loop.page(offset=0, limit=10, unit=CITY, since=SINCE)
    assert total == 2
    assert (await w.svc.loop.page(offset=0, limit=10, since=SINCE + timedelta(days=1)))[0] \
        == 0


def listed(page: str) -> list[int]:
    """The ticket ids of the board's own table (not the follow-up or reminder lists)."""
    table = page[page.index('id="tickets"'):]
    return [int(i) for i in re.findall(r'<tr class="[^"]*"><td><a href="/tickets/(\d+)">',
                                       table)]


async def text_of(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url) as r:
        return r.status, await r.text()


async def test_the_board_filters_in_sql_and_pages(world: SimpleNamespace) -> None:
    w = world
    closed = (await w.svc.tickets.board(T0, people="1001", status=TicketStatus.CLOSED))[0]
    assert [t.summary for t in closed] == ["已办结的"]
    async with console(w.svc) as (base, _), client() as op, client() as sup, \
            client() as c1, client() as w1:
        for http, user, password in ((op, "1001", None), (sup, "8001", None),
                                     (c1, "c1", PASSWORD), (w1, "w1", PASSWORD)):
            assert await login(http, base, user, password) == 302
        # the operator: their own (owner or assignee) among 1200 earlier-due others
        status, page = await text_of(op, f"{base}/tickets")
        assert status == 200 and sorted(listed(page)) == sorted(
            [w.own, w.assigned, w.both, w.city])
        assert 'id="next-page"' not in page
        _, page = await text_of(op, f"{base}/tickets?status=closed")
        assert "已办结的" in page and len(listed(page)) == 1
        _, page = await text_of(op, f"{base}/tickets?status=all")
        assert len(listed(page)) == 5
        # a unit user: what its unit leads or assists on
        _, page = await text_of(c1, f"{base}/tickets")
        assert sorted(listed(page)) == sorted([w.both, w.city])
        _, page = await text_of(w1, f"{base}/tickets")
        assert listed(page) == [w.both]
        # supervisors: everyone's, 50 a page, overdue first; the next link keeps the filters
        _, page = await text_of(sup, f"{base}/tickets")
        assert len(listed(page)) == 50 and 'id="next-page" href="/tickets?page=2"' in page
        assert 'id="previous-page"' not in page
        _, last = await text_of(sup, f"{base}/tickets?page={OTHERS // 50 + 1}")
        assert sorted(listed(last)) == sorted([w.own, w.assigned, w.both, w.city])
        assert 'id="next-page"' not in last and 'id="previous-page"' in last
        _, page = await text_of(sup, f"{base}/tickets?unit={CITY}")
        assert sorted(listed(page)) == sorted([w.both, w.city])
        _, page = await text_of(sup, f"{base}/tickets?operator=2007&status=open")
        assert len(listed(page)) == OTHERS // 50
        for query, field in (("status=shut", "status:"), ("page=0", "page:"),
                             ("page=x", "page:")):
            status, text = await text_of(op, f"{base}/tickets?{query}")
            assert status == 400 and text.startswith(field), query


async def test_an_assisting_unit_sees_the_ticket_and_counts_it(world: SimpleNamespace) -> None:
    w = world
    async with console(w.svc) as (base, _), client() as c1, client() as w1:
        assert await login(c1, base, "c1", PASSWORD) == 302
        assert await login(w1, base, "w1", PASSWORD) == 302
        assert (await text_of(c1, f"{base}/tickets/{w.both}"))[0] == 200  # assisting
        assert (await text_of(w1, f"{base}/tickets/{w.city}"))[0] == 404  # neither
        async with c1.get(f"{base}/api/tickets") as r:
            data = await r.json()
        assert data["total"] == 2 and [t["id"] for t in data["tickets"]] == sorted(
            [w.both, w.city])
        async with w1.get(f"{base}/api/tickets") as r:
            assert (await r.json())["total"] == 1
    total, rows = await w.svc.loop.page(offset=0, limit=10, unit=CITY)
    assert (total, [t.id for t in rows]) == (2, sorted([w.both, w.city]))
    assert (await w.svc.loop.page(offset=0, limit=10, unit=""))[0] == 0  # no unit: none


async def test_the_api_selects_by_last_change(world: SimpleNamespace) -> None:
    w = world
    async with console(w.svc) as (base, _), client() as sup, client() as op, \
            client() as c1:
        assert await login(sup, base, "8001") == 302
        assert await login(op, base, "1001") == 302
        assert await login(c1, base, "c1", PASSWORD) == 302
        local = SINCE.astimezone(ZoneInfo("Asia/Shanghai")).isoformat()  # +08:00, sent as %2B
        async with sup.get(f"{base}/api/tickets", params={"since": local}) as r:
            data = await r.json()
        assert data["total"] == 2 and [t["id"] for t in data["tickets"]] == sorted(
            [w.both, w.city])
        for t in data["tickets"]:  # raised before since, changed after it
            assert datetime.fromisoformat(t["created_at"]) < SINCE <= datetime.fromisoformat(
                t["changed_at"])
        async with sup.get(f"{base}/api/tickets?since=2026-11-02") as r:  # local midnight
            assert (await r.json())["total"] == 4  # the rows without a history: unchanged
        async with op.get(f"{base}/api/tickets",
                          params={"since": SINCE.isoformat(), "per_page": "1"}) as r:
            data = await r.json()
        assert (data["total"], len(data["tickets"])) == (2, 1)
        async with c1.get(f"{base}/api/tickets", params={
                "since": (SINCE + timedelta(hours=2)).isoformat()}) as r:
            assert [t["id"] for t in (await r.json())["tickets"]] == [w.city]
        for bad in ("yesterday", "2026-11-02T10:00:00 08:00", "2026-13-01"):
            async with sup.get(f"{base}/api/tickets", params={"since": bad}) as r:
                text = await r.text()
                assert r.status == 400 and text.startswith("since:"), (bad, text)


async def test_the_export_selects_by_last_change(world: SimpleNamespace,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    w = world
    monkeypatch.setenv("HOTLINE_DB_URL", w.url)

    async def export(*more: str) -> list[dict[str, Any]]:
        code = await asyncio.to_thread(main, ["tickets", "export", *more, "--jsonl"])
        out = capsys.readouterr()
        assert code == 0, out.err
        return [json.loads(line) for line in out.out.splitlines()]

    rows = await export("--since", "2026-11-02T10:00")  # local: SINCE
    assert [r["id"] for r in rows] == sorted([w.both, w.city])
    assert all(str(r["created_at"]) < "2026-11-02T10:00" <= str(r["changed_at"])
               for r in rows)
    assert [e["kind"] for e in rows[0]["events"]] == ["created", "dispatched"]
    assert {r["id"] for r in await export("--since", "2026-11-02")} == {
        w.own, w.assigned, w.both, w.city}
    assert [r["id"] for r in await export("--since", "2026-11-01", "--unit", CITY)] == \
        sorted([w.both, w.city])  # lead or assisting
    code = await asyncio.to_thread(main, ["tickets", "export", "--since", "soon", "--jsonl"])
    assert code == 2 and "--since 'soon'" in capsys.readouterr().err
