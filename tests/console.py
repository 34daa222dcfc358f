"""The production console (hotline.server.root.console_app: its middlewares, sessions,
templates and routes) on a real server over real stores, with only the telephony left out,
and a virtual clock for the sessions' timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from hotline.config import Settings
from hotline.domain.appraisal import AppraisalRules
from hotline.live.hub import LiveHub
from hotline.server.root import console_app
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.operators_repo import OperatorRepository
from hotline.store.sessions_repo import SessionRepository
from hotline.store.users_repo import Role, UserRepository
from hotline.tickets.setup import loop_repository, ticket_repository
from hotline.web.access import ConsoleSecurity

USERS = {"1001": (Role.OPERATOR, "operator-pass-1"), "8001": (Role.SUPERVISOR,
                                                             "supervisor-pass-1"),
         "9001": (Role.ADMIN, "admin-pass-1"), "9002": (Role.ADMIN, "admin-pass-2")}


@dataclass
class VirtualClock:
    """The Clock port, moved by the test."""

    start: datetime = field(default_factory=lambda: datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
    elapsed: float = 0.0

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return 1000.0 + self.elapsed

    def advance(self, seconds: float) -> None:
        self.elapsed += seconds


def console_services(db: Database, security: ConsoleSecurity | None = None,
                     **more: Any) -> SimpleNamespace:
    return SimpleNamespace(
        db=db, calls=CallRepository(db), users=UserRepository(db),
        sessions=SessionRepository(db), console=security or ConsoleSecurity(),
        tickets=ticket_repository(db, Settings()), loop=loop_repository(db, Settings()),
        hub=LiveHub(),
        unit_name="12345便民服务热线", timezone="Asia/Shanghai",
        pbx=SimpleNamespace(sip_ws_origin=""), appraisal=AppraisalRules(),
        **({"operators": OperatorRepository(db), "attendant_post": "9000",
            "callbacks": None, "revocations": None} | more))


async def add_users(db: Database) -> None:
    users = UserRepository(db)
    for user, (role, password) in USERS.items():
        await users.add(user, role, password)


@contextlib.asynccontextmanager
async def console(services: SimpleNamespace, clock: VirtualClock | None = None,
                  ssl_context: ssl.SSLContext | None = None,
                  routes: dict[str, Any] | None = None
                  ) -> AsyncIterator[tuple[str, web.Application]]:
    """(base URL, app) of the production console over ``services``."""
    app = console_app(services, clock)  # type: ignore[arg-type]
    for path, handler in (routes or {}).items():
        app.router.add_get(path, handler)
    server = TestServer(app, host="127.0.0.1", scheme="https" if ssl_context else "http")
    await server.start_server(ssl=ssl_context)
    try:
        yield str(server.make_url("")).rstrip("/"), app
    finally:
        await server.close()


def client(ssl_context: ssl.SSLContext | None = None) -> aiohttp.ClientSession:
    # unsafe: keep cookies for an IP address host (127.0.0.1)
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                 connector=aiohttp.TCPConnector(ssl=ssl_context or True))


async def login(http: aiohttp.ClientSession, base: str, user: str,
                password: str | None = None, headers: dict[str, str] | None = None) -> int:
    async with http.get(f"{base}/login") as r:
        token = re.search(r'name="csrf" value="([^"]+)"', await r.text())
    assert token is not None
    async with http.post(f"{base}/login", allow_redirects=False, headers=headers, data={
            "operator_id": user, "password": password or USERS[user][1],
            "csrf": token.group(1)}) as r:
        return r.status


async def csrf(http: aiohttp.ClientSession, base: str) -> str:
    async with http.get(f"{base}/tickets") as r:
        assert r.status == 200, r.status
        token = re.search(r'name="csrf" value="([^"]+)"', await r.text())
    assert token is not None
    return token.group(1)


async def status_of(http: aiohttp.ClientSession, url: str) -> int:
    async with http.get(url, allow_redirects=False) as r:
        return r.status


async def closed_within(ws: aiohttp.ClientWebSocketResponse, timeout_s: float) -> bool:
    """Whether the server closes the socket within the time (reading anything it sends)."""
    try:
        async with asyncio.timeout(timeout_s):
            async for _ in ws:
                pass
    except TimeoutError:
        return False
    return ws.closed
