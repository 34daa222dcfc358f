"""The live hub across nodes over a real PostgreSQL's LISTEN/NOTIFY: a happening published
on one node reaches the other node's subscribers (and its own at once, not twice); one too
large for NOTIFY goes without its data, marked truncated; a malformed payload is ignored."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg  # type: ignore[import-untyped]
import pytest

from hotline.live.hub import Happening
from hotline.live.pg_hub import CHANNEL, MAX_PAYLOAD, PgLiveHub, asyncpg_dsn, from_wire, to_wire

PG_URL = os.environ.get("HOTLINE_TEST_PG_URL", "")
needs_pg = pytest.mark.skipif(not PG_URL, reason="needs scripts/test.sh's PostgreSQL")


def test_the_wire_form_round_trips_and_stays_under_notifys_limit() -> None:
    h = Happening(7, "transcript", {"text": "我想查一下工行的电话", "final": True})
    node, back = from_wire(to_wire("node-a", h))
    assert node == "node-a" and back == Happening(7, "transcript", h.data, origin="node-a")
    big = Happening(8, "transcript", {"text": "长" * 5000})
    wire = to_wire("node-a", big)
    assert len(wire.encode()) <= MAX_PAYLOAD
    assert from_wire(wire)[1].data == {"truncated": True}
    for bad in ("not json", '{"v": 2}', '{"v": 1, "node": "a", "call": 1, "kind": "x", '
                '"data": []}'):
        with pytest.raises(ValueError):
            from_wire(bad)


@contextlib.asynccontextmanager
async def running(hub: PgLiveHub) -> AsyncIterator[PgLiveHub]:
    task = asyncio.create_task(hub.run(retry_s=0.1))
    try:
        await asyncio.wait_for(hub.listening.wait(), 10)
        yield hub
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def next_of(feed: asyncio.Queue[Happening], timeout_s: float = 5) -> Happening:
    return await asyncio.wait_for(feed.get(), timeout_s)


@needs_pg
async def test_a_happening_on_one_node_reaches_the_others_subscribers() -> None:
    async with running(PgLiveHub(PG_URL, "node-a")) as a, \
            running(PgLiveHub(PG_URL, "node-b")) as b, \
            a.subscribe() as on_a, b.subscribe() as on_b:
        offered = Happening(41, "seat_offered", {"job_number": "1001"})
        a.publish(offered)
        assert await next_of(on_a) == offered  # its own node's at once
        heard = await next_of(on_b)
        assert heard == Happening(41, "seat_offered", {"job_number": "1001"},
                                  origin="node-a")
        b.publish(Happening(42, "transcript", {"text": "长" * 5000}))
        assert (await next_of(on_a)).data == {"truncated": True}
        await asyncio.sleep(0.3)
        assert on_a.empty()  # node-a's own happening did not come back to it
        assert [(await next_of(on_b)).call_id] == [42]


@needs_pg
async def test_a_malformed_notification_is_ignored() -> None:
    async with running(PgLiveHub(PG_URL, "node-b")) as b, b.subscribe() as on_b:
        conn = await asyncpg.connect(asyncpg_dsn(PG_URL))
        try:
            await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, "{broken")
            await conn.execute("SELECT pg_notify($1, $2)", CHANNEL,
                               to_wire("node-a", Happening(5, "arrived", {"node": "node-a"})))
        finally:
            await conn.close()
        assert (await next_of(on_b)).call_id == 5


@needs_pg
async def test_an_operator_on_node_b_gets_the_pop_up_for_a_call_node_a_offers_them() -> None:
    """Two consoles (two nodes) on one PostgreSQL, each with its NOTIFY hub: the operator
    is logged in on node-b's console; node-a's call flow offers them a call."""
    from hotline.domain.calls import NewCall
    from tests.console import add_users, client, console, console_services, login
    from tests.unit.conftest import fresh

    db = await fresh(PG_URL)
    try:
        await add_users(db)
        on_a, on_b = console_services(db), console_services(db)
        on_a.hub, on_b.hub = PgLiveHub(PG_URL, "node-a"), PgLiveHub(PG_URL, "node-b")
        call = await on_a.calls.open_call(NewCall("a-1", "13900000001", "12345",
                                                  datetime.now(UTC), node="node-a"))
        async with running(on_a.hub), running(on_b.hub), console(on_b) as (base_b, _), \
                client() as http:
            assert await login(http, base_b, "1001") == 302
            ws = await http.ws_connect(f"{base_b}/desk/live")
            await asyncio.sleep(0.2)  # the socket subscribed
            on_a.hub.publish(Happening(call, "seat_offered", {"job_number": "1001"}))
            popup = await ws.receive_json(timeout=5)
            assert popup["type"] == "offered", popup
            await ws.close()
    finally:
        await db.close()
