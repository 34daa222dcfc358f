"""Console sessions in the database (on SQLite and PostgreSQL): they survive a restart, only
the token's hash is stored, idle and absolute timeouts on a virtual clock, role and disabled
read again within 30 s, and revocation (logout, password, disable, remove; from the console
and from the command line) that closes open /desk/live sockets."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from hotline.cli import main
from hotline.domain.calls import NewCall
from hotline.live.hub import Happening
from hotline.store.database import Database
from hotline.store.users_repo import UserRepository
from hotline.web.access import ConsoleSecurity
from hotline.web.sessions import SessionPolicy
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


async def test_a_session_survives_a_restart_and_only_its_hash_is_stored(db: Database) -> None:
    await add_users(db)
    clock = VirtualClock()
    async with client() as http:
        async with console(console_services(db), clock) as (base, _):
            assert await login(http, base, "8001") == 302
            assert await status_of(http, f"{base}/stats") == 200
            token = {c.key: c.value for c in http.cookie_jar}["hotline_session"]
        async with console(console_services(db), clock) as (base2, _):  # a new process
            http.cookie_jar.update_cookies({"hotline_session": token})
            assert await status_of(http, f"{base2}/stats") == 200
    async with db.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT * FROM console_sessions"))).all()
    assert [r.token_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in repr(rows)


async def test_idle_and_absolute_timeouts_on_a_virtual_clock(db: Database) -> None:
    await add_users(db)
    clock = VirtualClock()
    policy = SessionPolicy(idle_s=30 * 60, absolute_s=8 * 3600)
    async with console(console_services(db, ConsoleSecurity(sessions=policy)), clock) as (
            base, _), client() as http:
        assert await login(http, base, "1001") == 302
        clock.advance(29 * 60)
        assert await status_of(http, f"{base}/tickets") == 200  # and it counts as activity
        clock.advance(29 * 60)
        assert await status_of(http, f"{base}/tickets") == 200
        clock.advance(30 * 60 + 1)  # idle too long
        assert await status_of(http, f"{base}/tickets") == 302
        async with db.engine.connect() as conn:  # and the row is gone
            assert (await conn.execute(text("SELECT count(*) FROM console_sessions"))
                    ).scalar() == 0

        assert await login(http, base, "1001") == 302
        for _ in range(23):  # busy all day: a request every 20 minutes
            clock.advance(20 * 60)
            assert await status_of(http, f"{base}/tickets") == 200
        clock.advance(20 * 60)  # 8 h after login
        assert await status_of(http, f"{base}/tickets") == 302
        async with http.get(f"{base}/api/calls", allow_redirects=False) as r:
            assert r.status == 401


async def test_role_and_disabled_are_read_again_within_30_seconds(db: Database) -> None:
    await add_users(db)
    clock = VirtualClock()
    async with console(console_services(db), clock) as (base, _), client() as http:
        assert await login(http, base, "8001") == 302
        assert await status_of(http, f"{base}/audit") == 200
        async with db.unit() as s:  # demoted behind the console's back
            await s.execute(text("UPDATE users SET role = 'operator' WHERE id = '8001'"))
        clock.advance(10)
        assert await status_of(http, f"{base}/audit") == 200  # the cache: at most 30 s
        clock.advance(21)
        assert await status_of(http, f"{base}/audit") == 403
        async with db.unit() as s:
            await s.execute(text("UPDATE users SET disabled = true WHERE id = '8001'"))
        clock.advance(31)
        assert await status_of(http, f"{base}/tickets") == 302


async def test_logout_ends_the_session_everywhere_and_closes_the_live_feed(
        db: Database) -> None:
    await add_users(db)
    clock = VirtualClock()
    services = console_services(db)
    call = await services.calls.open_call(NewCall("s-1", "13900000001", "12345",
                                                  datetime.now(UTC)))
    async with console(services, clock) as (base, _), client() as http, \
            console(console_services(db), clock) as (other_node, _):
        assert await login(http, base, "1001") == 302
        token = {c.key: c.value for c in http.cookie_jar}["hotline_session"]
        ws = await http.ws_connect(f"{base}/desk/live")
        services.hub.publish(Happening(call, "seat_offered", {"job_number": "1001"}))
        assert (await ws.receive_json(timeout=5))["type"] == "offered"
        async with http.post(f"{base}/logout", allow_redirects=False,
                             data={"csrf": await csrf(http, base)}) as r:
            assert r.status == 302
        assert await closed_within(ws, 5)
        services.hub.publish(Happening(call, "transcript", {"speaker": "caller",
                                                            "text": "身份证"}))
        assert ws.closed
        async with client() as thief:  # the old cookie, on another node
            thief.cookie_jar.update_cookies({"hotline_session": token})
            assert await status_of(thief, f"{other_node}/tickets") == 302
            assert await status_of(thief, f"{base}/tickets") == 302


async def test_an_admin_disabling_a_user_closes_their_socket_and_ends_their_sessions(
        db: Database) -> None:
    await add_users(db)
    clock = VirtualClock()
    services = console_services(db)
    async with console(services, clock) as (base, _), client() as op, client() as admin:
        assert await login(op, base, "1001") == 302
        ws = await op.ws_connect(f"{base}/desk/live")
        assert await login(admin, base, "9001") == 302
        token = await csrf(admin, base)
        async with admin.post(f"{base}/users/1001/disabled",
                              data={"csrf": token, "disabled": "yes"}) as r:
            assert r.status == 200
            assert "1001 已停用" in await r.text()
        assert await closed_within(ws, 5)
        assert await status_of(op, f"{base}/tickets") == 302
        assert await login(op, base, "1001") == 401  # and no new login
        async with admin.post(f"{base}/users/1001/disabled",
                              data={"csrf": token, "disabled": "no"}) as r:
            assert r.status == 200
        assert await login(op, base, "1001") == 302
    actions = [(a.actor, a.action, a.target) for a in await UserRepository(db).audit_log()]
    assert ("9001", "user_disabled", "1001") in actions
    assert ("9001", "user_enabled", "1001") in actions


async def test_a_disable_from_the_command_line_closes_the_socket_on_a_running_console(
        db: Database) -> None:
    """Another process (the CLI, another node) deletes the rows; the socket's own check
    notices (socket_check_s, 15 s by default; short here)."""
    await add_users(db)
    policy = SessionPolicy(socket_check_s=0.2)
    services = console_services(db, ConsoleSecurity(sessions=policy))
    async with console(services, VirtualClock()) as (base, _), client() as op:
        assert await login(op, base, "1001") == 302
        ws = await op.ws_connect(f"{base}/desk/live")
        assert not await closed_within(ws, 0.5)  # a live session's socket stays open
        await UserRepository(db).set_disabled("1001", True, by="cli")
        assert await closed_within(ws, 5)


async def test_the_users_page_is_for_admins_and_each_change_revokes(db: Database) -> None:
    await add_users(db)
    clock = VirtualClock()
    async with console(console_services(db), clock) as (base, _), client() as admin, \
            client() as op, client() as sup:
        assert await login(op, base, "1001") == 302
        assert await login(sup, base, "8001") == 302
        assert await login(admin, base, "9001") == 302
        for who in (op, sup):
            assert await status_of(who, f"{base}/users") == 403
        async with sup.post(f"{base}/users/1001/remove", data={
                "csrf": await csrf(sup, base), "confirm": "yes"}) as r:
            assert r.status == 403
        async with admin.get(f"{base}/users") as r:
            html = await r.text()
        assert r.status == 200 and 'id="user-1001"' in html and 'href="/users"' in html
        token = await csrf(admin, base)
        async with admin.post(f"{base}/users/1001/password", data={"password": "short"}) as r:
            assert r.status == 403  # no CSRF token
        async with admin.post(f"{base}/users/1001/password",
                              data={"csrf": token, "password": "short"}) as r:
            assert r.status == 400 and "at least 10 characters" in await r.text()
        assert await status_of(op, f"{base}/tickets") == 200  # a refused change revokes nothing
        async with admin.post(f"{base}/users/1001/password",
                              data={"csrf": token, "password": "a-new-password-1"}) as r:
            assert r.status == 200
        assert await status_of(op, f"{base}/tickets") == 302
        assert await login(op, base, "1001") == 401  # the old password
        assert await login(op, base, "1001", "a-new-password-1") == 302
        for action in ("disabled", "remove"):
            async with admin.post(f"{base}/users/9001/{action}", data={
                    "csrf": token, "disabled": "yes", "confirm": "yes"}) as r:
                assert r.status == 400  # not one's own account
        async with admin.post(f"{base}/users/8001/remove", data={"csrf": token}) as r:
            assert r.status == 400 and "confirm" in await r.text()
        async with admin.post(f"{base}/users/8001/remove",
                              data={"csrf": token, "confirm": "yes"}) as r:
            assert r.status == 200 and 'id="user-8001"' not in await r.text()
        assert await status_of(sup, f"{base}/tickets") == 302
        assert await login(sup, base, "8001") == 401
        async with admin.post(f"{base}/users/nobody/password",
                              data={"csrf": token, "password": "a-new-password-1"}) as r:
            assert r.status == 400 and "no user nobody" in await r.text()
        async with admin.post(f"{base}/users/9001/password",  # their own: logged out
                              data={"csrf": token, "password": "a-new-password-2"},
                              allow_redirects=False) as r:
            assert r.status == 302 and r.headers["Location"] == "/login"
        assert await status_of(admin, f"{base}/tickets") == 302
    actions = [(a.actor, a.action, a.target) for a in await UserRepository(db).audit_log()]
    for expected in (("9001", "password_changed", "1001"), ("9001", "user_removed", "8001"),
                     ("9001", "password_changed", "9001")):
        assert expected in actions


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in [k for k in os.environ if k.startswith("HOTLINE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    return tmp_path


async def test_users_passwd_disable_remove_on_the_command_line_end_the_sessions(
        home: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    db = Database(f"sqlite+aiosqlite:///{home / 'hotline.db'}")
    await db.upgrade()
    await add_users(db)
    clock = VirtualClock()
    async with console(console_services(db), clock) as (base, _):
        clients = {u: client() for u in ("1001", "8001", "9001")}
        try:
            for user, http in clients.items():
                assert await login(http, base, user) == 302

            def cli(*args: str, stdin: str = "") -> int:
                monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
                return main(["users", *args])

            # the CLI runs its own event loop: in a thread, as from another process
            assert await asyncio.to_thread(cli, "passwd", "1001", "--password-stdin",
                                           stdin="changed-on-the-cli\n") == 0
            assert await asyncio.to_thread(cli, "disable", "8001") == 0
            assert await asyncio.to_thread(cli, "remove", "9001") == 0
            assert await asyncio.to_thread(cli, "passwd", "1001", "--password-stdin",
                                           stdin="short\n") == 2
            assert await asyncio.to_thread(cli, "disable", "nobody") == 2
            clock.advance(31)  # what the other process did is seen within 30 s
            for http in clients.values():
                assert await status_of(http, f"{base}/tickets") == 302
            assert await login(clients["1001"], base, "1001", "changed-on-the-cli") == 302
            assert await login(clients["8001"], base, "8001") == 401
        finally:
            for http in clients.values():
                await http.close()
    out, err = capsys.readouterr()
    assert "1001: password changed" in out and "8001 disabled" in out and "9001 removed" in out
    assert "at least 10 characters" in err and "no user nobody" in err
    actions = [(a.actor, a.action, a.target) for a in await UserRepository(db).audit_log()]
    assert ("cli", "user_removed", "9001") in actions
    await db.close()
