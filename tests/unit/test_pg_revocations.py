"""Session revocations across nodes over the test PostgreSQL's LISTEN/NOTIFY: a logout on
node-a is refused on node-b at once (the sessions' clock never moves, so node-b's cache
would have honoured it for recheck_s) and closes the session's sockets on node-b, not the
user's other sessions'; an admin's password change on node-a ends every session of the user
on node-b; the wire carries the user's name only, and a malformed message is ignored."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import asyncpg  # type: ignore[import-untyped]
import pytest
from yarl import URL

from hotline.live.notify import NotifyBus, asyncpg_dsn
from hotline.live.pg_revocations import CHANNEL, PgRevocations, Revocation, from_wire, to_wire
from hotline.store.database import Database
from tests.console import (
    VirtualClock,
    add_users,
    client,
    closed_within,
    console,
    console_services,
    csrf,
    login,
    status_of,
)
from tests.nodes import pg_url, running


def test_the_wire_form_round_trips_and_refuses_what_is_not_a_revocation() -> None:
    assert from_wire(to_wire(Revocation("node-a", "1001"))) == Revocation("node-a", "1001")
    for bad in ("{broken", "[]", '{"v": 2, "node": "a", "user": "1001"}',
                '{"v": 1, "node": "a", "user": ""}', '{"v": 1, "node": 3, "user": "1001"}'):
        with pytest.raises(ValueError):
            from_wire(bad)


async def test_other_nodes_revocations_are_heard_and_malformed_ones_ignored(
        pg: Database) -> None:
    bus_a, bus_b = NotifyBus(pg_url()), NotifyBus(pg_url())
    on_a, on_b = PgRevocations(bus_a, "node-a"), PgRevocations(bus_b, "node-b")
    heard_a: list[str] = []
    heard_b: asyncio.Queue[str] = asyncio.Queue()

    async def b_heard(user: str) -> None:
        await heard_b.put(user)

    async def a_heard(user: str) -> None:
        heard_a.append(user)

    on_a.listen(a_heard)
    on_b.listen(b_heard)
    async with running(bus_a, bus_b):
        conn = await asyncpg.connect(asyncpg_dsn(pg_url()))
        try:
            for payload in ("{broken", '{"v": 1, "node": "node-c"}'):
                await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
        finally:
            await conn.close()
        on_a.announce("1001")
        assert await asyncio.wait_for(heard_b.get(), 2) == "1001"
        await asyncio.sleep(0.2)
    assert heard_b.empty() and heard_a == []  # node-a does not hear its own


async def two_nodes(pg: Database) -> tuple[NotifyBus, NotifyBus, SimpleNamespace, SimpleNamespace]:
    await add_users(pg)
    bus_a, bus_b = NotifyBus(pg_url()), NotifyBus(pg_url())
    return (bus_a, bus_b,
            console_services(pg, revocations=PgRevocations(bus_a, "node-a")),
            console_services(pg, revocations=PgRevocations(bus_b, "node-b")))


def with_cookie(token: str, base: str) -> aiohttp.ClientSession:
    """Another tab of the same browser: the session's cookie, sent to ``base``."""
    tab = client()
    tab.cookie_jar.update_cookies({"hotline_session": token}, URL(base))
    return tab


async def test_a_logout_on_node_a_is_refused_on_node_b_at_once(pg: Database) -> None:
    bus_a, bus_b, services_a, services_b = await two_nodes(pg)
    clock = VirtualClock()  # never moved: node-b's cache alone would honour it for 30 s
    async with running(bus_a, bus_b), console(services_a, clock) as (base_a, _), \
            console(services_b, clock) as (base_b, _), client() as browser, \
            client() as other_browser:
        assert await login(browser, base_a, "1001") == 302
        token = {c.key: c.value for c in browser.cookie_jar}["hotline_session"]
        assert await login(other_browser, base_b, "1001") == 302  # the same operator
        async with with_cookie(token, base_b) as tab:
            assert await status_of(tab, f"{base_b}/tickets") == 200  # cached on node-b
            ws = await tab.ws_connect(f"{base_b}/desk/live")
            other_ws = await other_browser.ws_connect(f"{base_b}/desk/live")
            assert not await closed_within(ws, 0.3)
            logged_out = time.monotonic()
            async with browser.post(f"{base_a}/logout", allow_redirects=False,
                                    data={"csrf": await csrf(browser, base_a)}) as r:
                assert r.status == 302
            assert await closed_within(ws, 2)  # socket_check_s is 15 s: the NOTIFY did it
            assert time.monotonic() - logged_out < 2
            assert await status_of(tab, f"{base_b}/tickets") == 302
            assert not await closed_within(other_ws, 0.3)  # the operator's other session
            assert await status_of(other_browser, f"{base_b}/tickets") == 200
            await other_ws.close()


async def test_a_password_changed_on_node_a_ends_the_users_sessions_on_node_b(
        pg: Database) -> None:
    bus_a, bus_b, services_a, services_b = await two_nodes(pg)
    clock = VirtualClock()
    async with running(bus_a, bus_b), console(services_a, clock) as (base_a, _), \
            console(services_b, clock) as (base_b, _), client() as admin, client() as op:
        assert await login(op, base_b, "1001") == 302
        ws = await op.ws_connect(f"{base_b}/desk/live")
        assert await login(admin, base_a, "9001") == 302
        async with admin.post(f"{base_a}/users/1001/password", data={
                "csrf": await csrf(admin, base_a), "password": "new-password-1"}) as r:
            assert r.status == 200
        assert await closed_within(ws, 2)
        assert await status_of(op, f"{base_b}/tickets") == 302
        assert await login(op, base_b, "1001", "new-password-1") == 302


async def test_a_password_changed_from_the_command_line_ends_the_sessions_on_every_node_at_once(
        pg: Database, tmp_path: Path) -> None:
    """`hotline users passwd` is another process, on no node: every node takes its
    announcement up, the one it ran beside too (the sessions' clock never moves)."""
    bus_a, bus_b, services_a, services_b = await two_nodes(pg)
    clock = VirtualClock()
    async with running(bus_a, bus_b), console(services_a, clock) as (base_a, _), \
            console(services_b, clock) as (base_b, _), client() as on_a, client() as on_b:
        assert await login(on_a, base_a, "1001") == 302
        assert await login(on_b, base_b, "1001") == 302
        sockets = [await on_a.ws_connect(f"{base_a}/desk/live"),
                   await on_b.ws_connect(f"{base_b}/desk/live")]
        assert await status_of(on_b, f"{base_b}/tickets") == 200  # cached on node-b
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        env.update(HOTLINE_DB_URL=pg_url(), HOTLINE_HOME=str(tmp_path))
        cli = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hotline", "users", "passwd", "1001", "--password-stdin",
            env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        _, err = await cli.communicate(b"new-password-2\n")
        assert cli.returncode == 0, err.decode(errors="replace")[-2000:]
        for ws in sockets:  # socket_check_s is 15 s and recheck_s 30 s: the NOTIFY did it
            assert await closed_within(ws, 2)
        assert await status_of(on_a, f"{base_a}/tickets") == 302
        assert await status_of(on_b, f"{base_b}/tickets") == 302
        assert await login(on_b, base_b, "1001", "new-password-2") == 302
