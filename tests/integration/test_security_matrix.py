"""Every route of the console × every role (and anonymous), against the real server:
who may use what, CSRF on every state-changing route, session fixation, the login rate
limit, and an audit log that the console cannot change. A new route must be classified
here, or this test fails."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from hotline.callbacks.store import CallbackStore
from hotline.config import Settings
from hotline.domain.calls import NewCall
from hotline.domain.loop.machine import Actor
from hotline.domain.tickets import NewTicket, TicketKind
from hotline.duty.store import DutyLog
from hotline.store.users_repo import Role
from hotline.web.auth import unit_may_open
from tests.integration.conftest import serving

OPEN, LOGIN, SUPERVISING, RECORD, ADMIN = "open", "login", "supervising", "record", "admin"
CENTRE, UNIT_DESK = "centre", "unit_desk"  # the centre's staff; unit users and supervisors
LOOP_ACTIONS = ("dispatch", "sign", "return", "redispatch", "insist", "extend-request",
                "extend-decide", "reply", "follow-up", "send-back", "close", "merge")
# (method, route) -> who may use it; RECORD: logged in, and the record must be theirs.
ACCESS = {
    ("GET", "/login"): OPEN, ("POST", "/login"): OPEN, ("GET", "/healthz"): OPEN,
    ("GET", "/try"): OPEN, ("GET", "/metrics"): OPEN,
    ("GET", "/"): LOGIN, ("POST", "/logout"): LOGIN, ("GET", "/desk"): LOGIN,
    ("POST", "/desk/duty"): LOGIN, ("POST", "/desk/phone"): LOGIN,
    ("GET", "/desk/live"): LOGIN, ("GET", "/calls"): LOGIN, ("GET", "/tickets"): LOGIN,
    ("GET", "/api/directory"): LOGIN, ("GET", "/api/calls"): LOGIN,
    ("GET", "/calls/{id}"): RECORD, ("GET", "/calls/{id}/recording"): RECORD,
    ("POST", "/calls/{id}/record"): RECORD, ("POST", "/calls/{id}/tickets"): RECORD,
    ("POST", "/calls/{id}/transfer"): RECORD, ("GET", "/tickets/{id}/recording"): RECORD,
    ("POST", "/tickets/{id}/take-over"): CENTRE,
    ("GET", "/tickets/{id}"): RECORD, ("GET", "/api/tickets"): LOGIN,
    ("GET", "/unit"): UNIT_DESK, ("GET", "/supervision"): SUPERVISING,
    **{("POST", f"/tickets/{{id}}/{action}"): RECORD for action in LOOP_ACTIONS},
    ("GET", "/callbacks"): CENTRE, ("POST", "/outbound/calls"): CENTRE,
    ("GET", "/outbound/calls/{id}"): RECORD,  # an operator sees only their own calls
    ("GET", "/stats"): SUPERVISING, ("GET", "/api/stats"): SUPERVISING,
    ("GET", "/inspection"): SUPERVISING, ("GET", "/audit"): SUPERVISING,
    ("GET", "/wallboard"): SUPERVISING, ("GET", "/api/wallboard"): SUPERVISING,
    ("GET", "/ledger"): SUPERVISING, ("GET", "/directory/unmatched"): SUPERVISING,
    ("GET", "/api/monitor"): SUPERVISING, ("POST", "/api/monitor"): SUPERVISING,
    ("POST", "/api/monitor/{id}/mode"): SUPERVISING,
    ("POST", "/api/monitor/{id}/stop"): SUPERVISING,
    ("GET", "/duty"): LOGIN, ("POST", "/duty/state"): LOGIN, ("GET", "/duty/handover"): LOGIN,
    ("POST", "/duty/handover"): LOGIN, ("GET", "/duty/handover/{id}"): RECORD,
    ("POST", "/duty/handover/{id}/ack"): RECORD, ("POST", "/duty/stand-in/{id}"): RECORD,
    ("GET", "/appraisal"): SUPERVISING, ("GET", "/appraisal/me"): LOGIN,
    ("GET", "/inspection/sample"): SUPERVISING, ("GET", "/inspection/records"): SUPERVISING,
    ("GET", "/inspection/calls/{id}"): SUPERVISING,
    ("POST", "/inspection/calls/{id}"): SUPERVISING,
    ("POST", "/inspection/records/{id}/rectified"): SUPERVISING,
    ("GET", "/users"): ADMIN, ("POST", "/users/{id}/password"): ADMIN,
    ("POST", "/users/{id}/disabled"): ADMIN, ("POST", "/users/{id}/remove"): ADMIN,
    # the knowledge base: operators read it and mark 已一次性告知; supervisors, admins keep it
    ("GET", "/knowledge"): CENTRE, ("GET", "/knowledge/{id}"): CENTRE,
    ("GET", "/api/knowledge"): CENTRE, ("GET", "/api/knowledge/{id}"): CENTRE,
    ("GET", "/knowledge/new"): SUPERVISING, ("POST", "/knowledge"): SUPERVISING,
    ("POST", "/calls/{id}/told"): RECORD,
}
PASSWORDS = {"8001": ("supervisor", "supervisor-pass-1"), "9001": ("admin", "admin-pass-1"),
             "1001": ("operator", "operator-pass-1"), "7001": ("unit", "unit-pass-123")}


def routes_of(server: TestServer) -> set[tuple[str, str]]:
    found = set()
    for route in server.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("formatter") or info.get("path") or info.get("prefix", "")
        if route.method in ("GET", "POST") and not str(path).startswith("/static"):
            found.add((route.method, str(path)))
    return found


async def login(http: aiohttp.ClientSession, base: str, user: str, password: str) -> int:
    async with http.get(f"{base}/login") as r:
        token = re.search(r'name="csrf" value="([^"]+)"', await r.text())
    assert token is not None
    async with http.post(f"{base}/login", allow_redirects=False, data={
            "operator_id": user, "password": password, "csrf": token.group(1)}) as r:
        return r.status


async def csrf_of(http: aiohttp.ClientSession, base: str) -> str:
    async with http.get(f"{base}/tickets") as r:  # every role's page
        token = re.search(r'name="csrf" value="([^"]+)"', await r.text())
    assert token is not None
    return token.group(1)


@pytest.fixture
async def world(settings: Settings):  # type: ignore[no-untyped-def]
    async with serving(settings) as (services, server):
        for unit in ("自来水公司", "城管局"):
            await services.loop.add_unit(unit, datetime.now(UTC))
        for user, (role, password) in PASSWORDS.items():
            await services.users.add(user, Role(role), password,
                                     "自来水公司" if role == "unit" else "")
        await services.users.add("1002", Role.OPERATOR, "operator-pass-2")
        now = datetime.now(UTC)
        others = await services.calls.open_call(NewCall("m-1", "13900000001", "12345", now))
        await services.calls.update_call(others, answered_by="1002", owner="1002",
                                         answered_at=now, ended_at=now, disposition="resolved")
        ticket = await services.tickets.open(NewTicket(  # 1002's, with the same id
            TicketKind.CALLBACK, by="1002", call_id=others, summary="回电",
            fields={"recording": "words-0-1"}), now)
        assert ticket == others
        attempt = await CallbackStore(services.db).start(  # 1002's outbound call, same id
            "13900000001", "1002", now, missed_id=others, ticket_id=None)
        assert attempt == others
        # another unit's: the unit user 7001 (自来水公司) may not even learn it exists
        await services.loop.dispatch(ticket, Actor("1002", "operator"), now, "城管局", [])
        handover = await DutyLog(services.db).add_handover(  # 1002's, for someone else
            "1002", now, "9999", {}, "")
        assert handover == others
        yield services, server, others


async def test_every_route_every_role(world) -> None:  # type: ignore[no-untyped-def]
    services, server, record = world
    base = str(server.make_url("")).rstrip("/")
    assert routes_of(server) == set(ACCESS), "classify the new route in ACCESS"
    sessions: dict[str, aiohttp.ClientSession] = {}
    tokens: dict[str, str] = {}
    try:
        for who in ("anonymous", *PASSWORDS):
            # unsafe: keep cookies for an IP address host (127.0.0.1)
            http = sessions[who] = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(
                unsafe=True))
            if who != "anonymous":
                assert await login(http, base, who, PASSWORDS[who][1]) == 302
                tokens[who] = await csrf_of(http, base)
        for (method, route), rule in sorted(ACCESS.items()):
            if (method, route) in (("POST", "/logout"), ("POST", "/login")):
                continue  # below
            url = base + route.replace("{id}", str(record))
            for who, http in sessions.items():
                headers = {"X-CSRF-Token": tokens[who]} if who in tokens else {}
                async with http.request(method, url, allow_redirects=False, headers=headers,
                                        data={"summary": "x"} if method == "POST" else None
                                        ) as r:
                    status, location = r.status, r.headers.get("Location", "")
                    edge = (r.headers.get("X-Content-Type-Options"),
                            "frame-ancestors 'none'" in r.headers.get(
                                "Content-Security-Policy", ""))
                where = f"{who} {method} {route}: {status}"
                assert edge == ("nosniff", True), f"{where}: the security headers"
                role = PASSWORDS[who][0] if who in PASSWORDS else ""
                if rule == OPEN:
                    assert status not in (401, 403) or route == "/try", where
                elif who == "anonymous":
                    refused = (status == 401 if route.startswith("/api/")
                               else status == 302 and location.startswith("/login"))
                    assert refused, where
                elif role == "unit" and not unit_may_open(route.replace("{id}", "1")):
                    assert status == 403, where  # no call record, statistics, audit log
                elif ((rule in (SUPERVISING, UNIT_DESK) and role == "operator")
                      or (rule in (SUPERVISING, CENTRE) and role == "unit")
                      or (rule == ADMIN and role != "admin")):
                    assert status == 403, where
                elif rule == RECORD and role in ("operator", "unit"):
                    assert status == 404, where  # 1002's record: not even its existence
                else:
                    assert status not in (401, 403) and not location.startswith("/login"), \
                        where
                if method == "POST" and who in tokens:  # and never without the token
                    async with http.post(url, allow_redirects=False,
                                         data={"summary": "x"}) as r:
                        assert r.status == 403, f"{where} without CSRF: {r.status}"
        async with sessions["8001"].post(f"{base}/audit", headers={
                "X-CSRF-Token": tokens["8001"]}) as r:
            assert r.status == 405  # the audit log is read-only
    finally:
        for http in sessions.values():
            await http.close()
    views = [a for a in await services.users.audit_log() if a.action == "view_call"]
    assert {a.actor for a in views} >= {"8001", "9001"}  # every record view is audited
    assert "1001" not in {a.actor for a in views}  # the refused views are not views


async def test_session_fixation_and_the_login_rate_limit(world) -> None:  # type: ignore[no-untyped-def]
    _, server, _ = world
    base = str(server.make_url("")).rstrip("/")
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        jar.update_cookies({"hotline_session": "chosen-by-an-attacker"}, server.make_url("/"))
        assert await login(http, base, "1001", PASSWORDS["1001"][1]) == 302
        sid = {c.key: c.value for c in jar}["hotline_session"]
        assert sid != "chosen-by-an-attacker" and len(sid) >= 40
    async with aiohttp.ClientSession(cookies={"hotline_session": "chosen-by-an-attacker"}
                                     ) as other, other.get(f"{base}/desk",
                                                           allow_redirects=False) as r:
        assert r.status == 302  # the attacker's id was never a session
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        statuses = [await login(http, base, "8001", "wrong") for _ in range(6)]
        assert statuses == [401] * 5 + [429]
        assert await login(http, base, "8001", PASSWORDS["8001"][1]) == 429  # still blocked
    async with aiohttp.ClientSession() as http, http.post(
            f"{base}/login", data={"operator_id": "8001", "password": "x"}) as r:
        assert r.status == 403  # no login CSRF token
