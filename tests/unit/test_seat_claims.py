"""Seat claims on the real databases (SQLite, and PostgreSQL when scripts/test.sh gives one),
with a virtual clock: one node at a time holds a seat; a lapsed lease frees it; renewing
keeps it; a node's restart drops its own claims; the roster passes a claimed seat over; the
wallboard shows every node's talking seats."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from hotline.seats.board import SeatRoster
from hotline.seats.claims import SeatClaims, claims_for, keep_leases
from hotline.store.database import Database
from hotline.store.operators_repo import OperatorRepository
from tests.console import VirtualClock, add_users, client, console, console_services, login

PG_URL = os.environ.get("HOTLINE_TEST_PG_URL", "")


async def test_one_node_at_a_time_and_a_lapsed_lease_frees_the_seat(db: Database) -> None:
    clock = VirtualClock()
    a, b = (SeatClaims(db, name, clock, lease_s=30) for name in ("node-a", "node-b"))
    assert await a.claim("1001")
    assert not await b.claim("1001")
    assert not await a.claim("1001")  # a seat holds one call, this node's too
    assert await b.held_elsewhere() == {"1001"} and await a.held_elsewhere() == set()
    clock.advance(29)
    assert not await b.claim("1001")
    clock.advance(2)  # node-a died: it renewed nothing, its lease lapsed
    assert await b.claim("1001")
    await a.release("1001")  # not a's any more: releasing it changes nothing
    assert not await a.claim("1001")
    await b.release("1001")
    assert await a.claim("1001")


async def test_renewing_keeps_the_seat_and_a_restart_drops_the_nodes_own_claims(
        db: Database) -> None:
    clock = VirtualClock()
    a, b = (SeatClaims(db, name, clock, lease_s=30) for name in ("node-a", "node-b"))
    assert await a.claim("1001") and await a.claim("1002")
    for _ in range(5):
        clock.advance(20)
        assert await a.renew({"1001"}) == 1  # 1002's call ended without a release
    assert not await b.claim("1001")
    assert await b.claim("1002")  # not renewed: lapsed
    await a.release_all()
    assert await b.claim("1001")


async def test_two_nodes_racing_for_one_free_seat_one_wins(db: Database) -> None:
    clock = VirtualClock()
    nodes = [SeatClaims(db, f"node-{i}", clock, lease_s=30) for i in range(6)]
    for round_ in range(5):
        job = f"20{round_:02d}"
        won = await asyncio.gather(*(n.claim(job) for n in nodes))
        assert sum(won) == 1, won


async def test_the_roster_claims_before_ringing_and_releases_after(db: Database) -> None:
    clock = VirtualClock()
    here = SeatRoster(OperatorRepository(db), claims=SeatClaims(db, "node-a", clock))
    there = SeatRoster(OperatorRepository(db), claims=SeatClaims(db, "node-b", clock))
    assert await here.take("1001")
    assert not await there.take("1001") and "1001" not in there.busy
    await here.release("1001")
    assert await there.take("1001") and not await here.take("1001")


async def test_the_lease_task_renews_what_the_node_holds(db: Database) -> None:
    clock = VirtualClock()
    a, b = (SeatClaims(db, name, clock, lease_s=30) for name in ("node-a", "node-b"))
    held = {"1001"}
    assert await a.claim("1001")
    task = asyncio.create_task(keep_leases(a, held, sleep=0.01))
    try:
        for _ in range(6):
            clock.advance(10)
            await asyncio.sleep(0.05)  # the task renews at the virtual now
        assert not await b.claim("1001")
    finally:
        task.cancel()
    clock.advance(31)
    assert await b.claim("1001")


async def test_claims_only_where_nodes_share_a_database(tmp_path: Path) -> None:
    sqlite = Database(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    try:
        assert claims_for(sqlite, "node-a", VirtualClock(), 30) is None
    finally:
        await sqlite.close()
    if PG_URL:
        pg = Database(PG_URL)
        try:
            assert claims_for(pg, "", VirtualClock(), 30) is None
            assert isinstance(claims_for(pg, "node-a", VirtualClock(), 30), SeatClaims)
        finally:
            await pg.close()


async def test_the_talking_seats_are_every_nodes_live_claims(db: Database) -> None:
    clock = VirtualClock()
    a, b = (SeatClaims(db, name, clock, lease_s=30) for name in ("node-a", "node-b"))
    assert await a.talking() == set()
    assert await a.claim("1001") and await b.claim("1002") and await b.claim("1003")
    await b.release("1003")
    assert await a.talking() == await b.talking() == {"1001", "1002"}
    clock.advance(20)
    assert await a.renew({"1001"}) == 1
    clock.advance(11)  # node-b died: its lease on 1002 lapsed
    assert await b.talking() == {"1001"}


async def test_the_wallboard_on_one_node_shows_the_other_nodes_talking_seats(
        db: Database) -> None:
    await add_users(db)
    operators = OperatorRepository(db)
    for job, name in (("1001", "张三"), ("1002", "李四"), ("1003", "王五")):
        await operators.add(job, name, "digest")
    clock = VirtualClock()
    there = SeatRoster(operators, claims=SeatClaims(db, "node-a", clock))
    here = SeatRoster(operators, claims=SeatClaims(db, "node-b", clock))
    assert await there.take("1001") and await here.take("1002")
    async with console(console_services(db, roster=here)) as (base, _), client() as http:
        assert await login(http, base, "8001") == 302
        async with http.get(f"{base}/api/wallboard") as r:
            assert r.status == 200
            states = {op["job_number"]: op["state"] for op in (await r.json())["operators"]}
    assert states == {"1001": "talking", "1002": "talking", "1003": "off"}


async def test_one_node_without_claims_knows_its_own_talking_seats(db: Database) -> None:
    roster = SeatRoster(OperatorRepository(db))
    assert await roster.take("1001")
    assert await roster.talking() == {"1001"}
    await roster.release("1001")
    assert await roster.talking() == set()
