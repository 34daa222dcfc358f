"""Unmatched directory queries for the directory keepers: the grouping in SQL on both
databases, `hotline directory unmatched`, and the supervisors' console page (the console's
real routes and middlewares; the whole app needs the sandbox Asterisk, see
tests/integration/test_security_matrix.py for the route classified there)."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from hotline.cli import main
from hotline.directory.unmatched import DEFAULT_DAYS, since_day
from hotline.domain.calls import NewCall
from hotline.server.root import console_app
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.sessions_repo import SessionRepository
from hotline.store.users_repo import Role, UserRepository
from hotline.web.access import ConsoleSecurity

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
CALLER = "13900000001"


async def seed(db: Database) -> CallRepository:
    """Three calls: 人社局 asked three times (spelled with stray spaces, full-width too),
    老年大学 twice, one query before the period, and events that are not unmatched."""
    repo = CallRepository(db)
    ids = [await repo.open_call(NewCall(f"u-{n}", CALLER, "12345", T0 + timedelta(hours=n)))
           for n in range(3)]
    events = [
        (ids[0], "unmatched_query", {"query": "旧的单位"}, T0 - timedelta(days=2)),
        (ids[0], "unmatched_query", {"query": " 人社局"}, T0 + timedelta(minutes=1)),
        (ids[0], "lookup", {"query": "人社局", "cleaned": "人社局"}, T0),
        (ids[1], "unmatched_query", {"query": "老年大学"}, T0 + timedelta(hours=1)),
        (ids[1], "unmatched_query", {"query": "人社局\u3000"}, T0 + timedelta(hours=2)),
        (ids[1], "unmatched_query", {"query": "  "}, T0 + timedelta(hours=2)),
        (ids[2], "unmatched_query", {"query": "人社局\n"}, T0 + timedelta(hours=3)),
        (ids[2], "unmatched_query", {"query": "老年大学 "}, T0 + timedelta(hours=4)),
        (ids[2], "unmatched_query", {"query": "婚姻登记处"}, T0 + timedelta(hours=2)),
    ]
    for call_id, kind, data, at in events:
        await repo.add_event(call_id, kind, data, at)
    return repo


async def test_unmatched_queries_are_grouped_counted_and_newest_first(db: Database) -> None:
    repo = await seed(db)
    rows = await repo.unmatched_queries(T0 - timedelta(days=1))
    assert [(r.query, r.count) for r in rows] == [("老年大学", 2), ("人社局", 3),
                                                  ("婚姻登记处", 1)]
    assert (rows[0].first_at, rows[0].last_at) == (T0 + timedelta(hours=1),
                                                   T0 + timedelta(hours=4))
    assert (rows[1].first_at, rows[1].last_at) == (T0 + timedelta(minutes=1),
                                                   T0 + timedelta(hours=3))
    assert rows[1].last_at.tzinfo is not None
    assert [r.query for r in await repo.unmatched_queries(T0 - timedelta(days=1), 2)] == [
        "老年大学", "人社局"]
    since = await repo.unmatched_queries(T0 + timedelta(hours=2))  # from the second on
    assert [(r.query, r.count) for r in since] == [("老年大学", 1), ("人社局", 2),
                                                   ("婚姻登记处", 1)]
    assert since[1].first_at == T0 + timedelta(hours=2)
    everything = await repo.unmatched_queries(T0 - timedelta(days=30))
    assert everything[-1].query == "旧的单位"
    assert await repo.unmatched_queries(T0 + timedelta(days=1)) == []


def test_since_is_a_local_day_and_defaults_to_the_last_thirty_days() -> None:
    assert since_day("2026-11-02", SH) == datetime(2026, 11, 2, tzinfo=SH)
    assert since_day(" 2026-11-02 ", SH) == datetime(2026, 11, 2, tzinfo=SH)
    today = date(2026, 11, 22)
    assert since_day(None, SH, today) == since_day("", SH, today) == datetime(
        2026, 10, 23, tzinfo=SH)
    assert DEFAULT_DAYS == 30
    for bad in ("2026-13-01", "02/11/2026", "20261102", "2026-W45-1", "0001-01-01",
                "２０２６-１１-０２", "yesterday"):
        with pytest.raises(ValueError):
            since_day(bad, SH)


# -- the command line ----------------------------------------------------------------------------
@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in [k for k in os.environ if k.startswith("HOTLINE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    monkeypatch.setenv("HOTLINE_TIMEZONE", "Asia/Shanghai")
    return tmp_path


def test_the_command_lists_them_as_a_table_and_as_json(
        home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async def prepare() -> None:
        db = Database(f"sqlite+aiosqlite:///{home / 'hotline.db'}")
        try:
            await db.upgrade()
            await seed(db)
        finally:
            await db.close()

    assert main(["db", "upgrade"]) == 0  # the database where the settings put it
    capsys.readouterr()
    asyncio.run(prepare())
    assert main(["directory", "unmatched", "--since", "2026-11-01"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == ["count  last_asked        query",
                                "    2  2026-11-02 13:00  老年大学",
                                "    3  2026-11-02 12:00  人社局",
                                "    1  2026-11-02 11:00  婚姻登记处"]
    assert CALLER not in out and "0001" not in out

    assert main(["directory", "unmatched", "--since", "2026-10-01", "--json",
                 "--limit", "2"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert data["since"] == "2026-10-01"
    assert data["unmatched"] == [
        {"query": "老年大学", "count": 2, "first_at": "2026-11-02T10:00:00+08:00",
         "last_at": "2026-11-02T13:00:00+08:00"},
        {"query": "人社局", "count": 3, "first_at": "2026-11-02T09:01:00+08:00",
         "last_at": "2026-11-02T12:00:00+08:00"}]
    assert CALLER not in out

    assert main(["directory", "unmatched", "--since", "2026-12-01"]) == 0
    assert capsys.readouterr().out.strip() == "no unmatched queries since 2026-12-01"
    assert main(["directory", "unmatched", "--since", "1/11/2026"]) == 2
    err = capsys.readouterr().err
    assert "--since" in err and "YYYY-MM-DD" in err and "Traceback" not in err
    assert main(["directory", "unmatched", "--limit", "0"]) == 2
    assert "--limit" in capsys.readouterr().err


# -- the console page ----------------------------------------------------------------------------
USERS_ = {"8001": (Role.SUPERVISOR, "supervisor-pass-1"), "9001": (Role.ADMIN, "admin-pass-1"),
          "1001": (Role.OPERATOR, "operator-pass-1")}


@pytest.fixture
async def console_url(tmp_path: Path) -> AsyncIterator[str]:
    """The console's own route tables, middlewares and templates on a real server, with the
    repositories on a real SQLite database (only the telephony is left out)."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'console.db'}")
    await db.upgrade()
    calls = await seed(db)
    users = UserRepository(db)
    for user, (role, password) in USERS_.items():
        await users.add(user, role, password)
    app = console_app(SimpleNamespace(  # type: ignore[arg-type]
        calls=calls, users=users, sessions=SessionRepository(db), console=ConsoleSecurity(),
        unit_name="12345便民服务热线", timezone="Asia/Shanghai",
        pbx=SimpleNamespace(sip_ws_origin=""), revocations=None))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()
        await db.close()


async def logged_in(base: str, user: str) -> aiohttp.ClientSession:
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.get(f"{base}/login") as r:
        token = re.search(r'name="csrf" value="([^"]+)"', await r.text())
    assert token is not None
    async with http.post(f"{base}/login", allow_redirects=False, data={
            "operator_id": user, "password": USERS_[user][1], "csrf": token.group(1)}) as r:
        assert r.status == 302
    return http


async def test_supervisors_see_the_page_operators_do_not(console_url: str) -> None:
    base = console_url
    for user in ("8001", "9001"):
        http = await logged_in(base, user)
        try:
            async with http.get(f"{base}/directory/unmatched",
                                params={"since": "2026-11-01"}) as r:
                assert r.status == 200
                html = await r.text()
            assert "人社局" in html and "老年大学" in html and "婚姻登记处" in html
            assert "旧的单位" not in html  # before the period
            assert html.index("老年大学") < html.index("人社局")  # most recently asked first
            assert "2026-11-02 13:00:00" in html and "2026-11-01" in html
            assert CALLER not in html and "139****0001" not in html
            assert 'href="/directory/unmatched"' in html  # in the supervisor's navigation
            async with http.get(f"{base}/directory/unmatched",
                                params={"since": "2026-10-31"}) as r:
                assert "旧的单位" in await r.text()  # asked at 09:00 that day
            async with http.get(f"{base}/directory/unmatched") as r:
                assert r.status == 200  # the last 30 days (of the real today)
            for bad in ("yesterday", "2026-02-30", "9" * 5000, "0001-01-01"):
                async with http.get(f"{base}/directory/unmatched",
                                    params={"since": bad}) as r:
                    assert r.status == 400, bad
                    assert "since" in await r.text() and "YYYY-MM-DD" in await r.text()
        finally:
            await http.close()
    http = await logged_in(base, "1001")
    try:
        async with http.get(f"{base}/directory/unmatched") as r:
            assert r.status == 403
            assert "人社局" not in await r.text()
        async with http.get(f"{base}/calls") as r:
            assert 'href="/directory/unmatched"' not in await r.text()  # not in their menu
    finally:
        await http.close()
    async with aiohttp.ClientSession() as anonymous, anonymous.get(
            f"{base}/directory/unmatched", allow_redirects=False) as r:
        assert r.status == 302 and r.headers["Location"].startswith("/login")
