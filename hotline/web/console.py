"""The console's pages: login, the call log and record view, the ticket board. Operators see
their own calls; supervisors and admins see everything. Caller numbers are masked except in
a supervisor's record view, and every record view is written to the audit log."""

from __future__ import annotations

import functools
import json
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from hotline.domain.calls import CATEGORIES, Disposition
from hotline.domain.tickets import (
    COMPLAINT_LABELS,
    KIND_NAMES,
    TicketError,
    TicketStatus,
    is_overdue,
    sees_caller,
)
from hotline.errors import AriNotFound, NotFoundError, TelephonyError
from hotline.live.hub import Happening
from hotline.privacy import mask_number
from hotline.store.models import Call
from hotline.store.users_repo import Role
from hotline.web.access import client_address, same_secret
from hotline.web.auth import (
    COOKIE,
    FRAME_POLICY,
    LIMITER,
    SECURITY,
    SESSION,
    SESSIONS,
    TOKEN,
    USERS,
    local_path,
    require,
    secure_cookies,
    session_of,
    set_session_cookie,
)
from hotline.web.board_queues import board_queues
from hotline.web.keys import SERVICES
from hotline.web.sessions import Session

routes = web.RouteTableDef()
ROLE_NAMES = {"operator": "话务员", "supervisor": "班长", "admin": "管理员", "unit": "承办单位"}
TEMPLATES = web.AppKey("templates", jinja2.Environment)
SUPERVISING = (Role.SUPERVISOR, Role.ADMIN)


def templates() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("hotline.web", "templates"),
                              autoescape=True)


def page(request: web.Request, name: str, **values: Any) -> web.Response:
    services = request.app[SERVICES]
    html = request.app[TEMPLATES].get_template(name).render(
        unit=services.unit_name, session=request.get(SESSION), roles=ROLE_NAMES, **values)
    ws = f" {services.pbx.sip_ws_origin}" if services.pbx.sip_ws_origin else ""
    return web.Response(text=html, content_type="text/html", headers={
        "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                   f"connect-src 'self'{ws}; media-src 'self' blob:; "
                                   + FRAME_POLICY,
        "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"})


def json_ok(data: Any) -> web.Response:
    """JSON with the Chinese left readable."""
    return web.json_response(data, dumps=functools.partial(json.dumps, ensure_ascii=False))


def tz(request: web.Request) -> ZoneInfo:
    return ZoneInfo(request.app[SERVICES].timezone)


def local(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if value else ""


# -- login --------------------------------------------------------------------------------------
@routes.get("/login")
async def login_get(request: web.Request) -> web.Response:
    return await login_form(request)


async def login_form(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    # One token per browser until login (a second tab or a favicon fetch must not void it).
    token = request.cookies.get("login_csrf") or secrets.token_urlsafe(24)
    response = page(request, "login.html", csrf=token, error=error,
                    next=local_path(request.query.get("next", "/")))
    response.set_status(status)
    response.set_cookie("login_csrf", token, httponly=True, samesite="Strict", path="/login",
                        secure=secure_cookies(request))
    return response


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    form = await request.post()
    user_id, password = str(form.get("operator_id", "")), str(form.get("password", ""))
    if not same_secret(str(form.get("csrf", "")), request.cookies.get("login_csrf", "-")):
        return await login_form(request, "页面已过期，请重新登录", 403)
    limiter = request.app[LIMITER]
    address = client_address(request, request.app[SECURITY].trusted_proxies)
    keys = (f"ip:{address}", f"user:{user_id}")
    if limiter.blocked(*keys):
        return await login_form(request, "尝试次数过多，请一分钟后再试", 429)
    users = request.app[USERS]
    user = await users.verify(user_id, password)
    if user is None:
        limiter.failed(*keys)
        await users.audit(user_id[:32] or "-", "login_failed", "", {"ip": address})
        return await login_form(request, "工号或密码错误", 401)
    await request.app[SESSIONS].drop(request.cookies.get(COOKIE))  # never reuse a session
    token, _ = await request.app[SESSIONS].create(user.id, Role(user.role))
    await users.audit(user.id, "login", "", {"ip": address})
    response = web.HTTPFound(local_path(str(form.get("next", "/"))))
    set_session_cookie(request, response, token)
    response.del_cookie("login_csrf", path="/login")
    raise response


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    session = session_of(request)
    await request.app[SESSIONS].drop(request[TOKEN])  # everywhere; its live feeds close
    await request.app[USERS].audit(session.user, "logout")
    response = web.HTTPFound("/login")
    response.del_cookie(COOKIE, path="/")
    raise response


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    session = session_of(request)
    if session.role == Role.UNIT:
        raise web.HTTPFound("/unit")
    raise web.HTTPFound("/desk" if session.role == Role.OPERATOR else "/calls")


# -- the call log -------------------------------------------------------------------------------
def _day(value: str, zone: ZoneInfo) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), zone)
    except ValueError:
        return None


async def find_calls(request: web.Request, session: Session) -> tuple[list[Call], dict[str, str]]:
    zone = tz(request)
    f = {k: request.query.get(k, "")[:64] for k in
         ("from", "to", "operator", "disposition", "category", "caller")}
    until = _day(f["to"], zone)
    operator = f["operator"] if session.role in SUPERVISING else session.user
    calls = await request.app[SERVICES].calls.find(
        since=_day(f["from"], zone), until=until + timedelta(days=1) if until else None,
        operator=operator, disposition=f["disposition"], category=f["category"],
        caller=f["caller"], limit=500)
    return calls, f


def call_row(c: Call, zone: ZoneInfo) -> dict[str, Any]:
    return {"id": c.id, "arrived": local(c.arrived_at, zone), "caller": mask_number(c.caller),
            "rings": c.rings, "answered_by": c.answered_by, "owner": c.owner,
            "disposition": c.disposition, "category": c.category, "summary": c.summary,
            "satisfaction": c.satisfaction}


@routes.get("/calls")
async def calls_page(request: web.Request) -> web.Response:
    session = session_of(request)
    calls, f = await find_calls(request, session)
    zone = tz(request)
    return page(request, "calls.html", calls=[call_row(c, zone) for c in calls], f=f,
                categories=CATEGORIES, dispositions=[d.value for d in Disposition])


async def visible_call(request: web.Request, session: Session) -> Call:
    """The record, if this user may see it (audited); 404 otherwise, so operators cannot
    probe which records exist."""
    try:
        call_id = int(request.match_info["id"])
        call = await request.app[SERVICES].calls.get(call_id)
    except (ValueError, NotFoundError):
        raise web.HTTPNotFound(text="no such record") from None
    if session.role not in SUPERVISING and session.user not in handlers(call):
        raise web.HTTPNotFound(text="no such record")
    await request.app[USERS].audit(session.user, "view_call", str(call.id))
    return call


def handlers(call: Call) -> set[str]:
    """The operators who have had this call: who answered, the owner (首问), and colleagues
    it was transferred to."""
    seats = {e.data.get("job_number") or e.data.get("seat") for e in call.events
             if e.kind in ("seat_leg", "transferred")}
    return {call.answered_by or "", call.owner or "", *(s for s in seats if s)} - {""}


def in_hand(call: Call, session: Session) -> bool:
    """The caller's number is shown in full to supervisors, and to an operator while the call
    is in their hands; masked everywhere else."""
    return session.role in SUPERVISING or call.ended_at is None


@routes.get("/calls/{id}")
async def call_page(request: web.Request) -> web.Response:
    session = session_of(request)
    call = await visible_call(request, session)
    zone = tz(request)
    full = in_hand(call, session)
    fields = [("来电号码", call.caller if full else mask_number(call.caller)),
              ("被叫", call.called), ("来电时间", local(call.arrived_at, zone)),
              ("接听时间", local(call.answered_at, zone)), ("响铃", call.rings),
              ("接听工号", call.answered_by), ("首问责任人", call.owner),
              ("结束", local(call.ended_at, zone)), ("结果", call.disposition),
              ("类别", call.category), ("摘要", call.summary),
              ("来电人", call.caller_name + call.caller_title),
              ("回复电话", call.callback_number if full else mask_number(call.callback_number)),
              ("满意度", call.satisfaction), ("录音", call.recording)]
    tickets = await request.app[SERVICES].tickets.find(call_id=call.id)
    return page(request, "call.html", c=call, fields=fields, categories=CATEGORIES,
                kinds=KIND_NAMES, complaint_fields=COMPLAINT_LABELS,
                transcript=[e.data for e in call.events if e.kind == "transcript"],
                events=[{"at": local(e.at, zone), "kind": e.kind, "data": e.data}
                        for e in call.events],
                tickets=[{"id": t.id, "kind": t.kind,
                          "status": t.status, "due": local(t.due_at, zone),
                          "summary": t.summary} for t in tickets])


@routes.get("/calls/{id}/recording")
async def call_recording(request: web.Request) -> web.Response:
    session = session_of(request)
    call = await visible_call(request, session)
    if not call.recording:
        raise web.HTTPNotFound(text="this call was not recorded")
    return await recording(request, session, call.recording, "play_recording", str(call.id))


async def recording(request: web.Request, session: Session, name: str, action: str,
                    target: str) -> web.Response:
    """A stored recording's audio, the play audited."""
    try:
        audio = await request.app[SERVICES].recorder.fetch(name)
    except AriNotFound:
        raise web.HTTPNotFound(text="the recording is not (yet) stored") from None
    except TelephonyError as exc:
        raise web.HTTPServiceUnavailable(text=f"Asterisk: {exc}") from None
    await request.app[USERS].audit(session.user, action, target)
    return web.Response(body=audio, content_type="audio/wav")


# -- the ticket board ---------------------------------------------------------------------------
BOARD_PAGE = 50  # tickets a page of the board
BOARD_STATUSES = ("", "all", *TicketStatus)  # "": every ticket not closed


def board_filters(request: web.Request) -> tuple[dict[str, str], int]:
    """The board's filters (status; for supervisors an operator and a unit) and its page;
    400 naming the field that is wrong."""
    f = {k: request.query.get(k, "").strip()[:200] for k in ("status", "operator", "unit")}
    if f["status"] not in BOARD_STATUSES:
        raise web.HTTPBadRequest(text=f"status: one of all, {', '.join(TicketStatus)} "
                                      "(none: every ticket not closed)")
    return f, page_number(request)


def page_number(request: web.Request) -> int:
    """The ``page`` asked for, from 1; 400 naming the field otherwise."""
    try:
        number = int(request.query.get("page", "1"))
    except ValueError:
        number = 0
    if number < 1:
        raise web.HTTPBadRequest(text="page: a whole number from 1")
    return number


def board_link(f: dict[str, str], number: int) -> str:
    return "/tickets?" + urlencode({**{k: v for k, v in f.items() if v}, "page": number})


@routes.get("/tickets")
async def tickets_page(request: web.Request) -> web.Response:
    """The ticket board, a page at a time: an operator's own (owner or assignee), a unit
    user's unit's (lead or assisting), everyone's for supervisors (by operator or unit if
    asked); the tickets not closed unless a status (or all) is asked for."""
    session = session_of(request)
    services = request.app[SERVICES]
    f, number = board_filters(request)
    zone, now = tz(request), datetime.now(UTC)
    supervising = session.role in SUPERVISING
    people: str | None
    unit: str | None
    if session.role == Role.UNIT:  # an unbound unit user's unit is "": no ticket
        people, unit = None, (await services.loop.actor(session.user)).unit
    elif supervising:
        people, unit = f["operator"] or None, f["unit"] or None
    else:
        people, unit = session.user, None
    status = TicketStatus(f["status"]) if f["status"] not in ("", "all") else None
    rows, more = await services.tickets.board(
        now, people=people, unit=unit, status=status, closed=f["status"] == "all",
        offset=(number - 1) * BOARD_PAGE, limit=BOARD_PAGE)
    tickets = [{"id": t.id, "kind": t.kind, "status": t.status, "due": local(t.due_at, zone),
                "owner": t.owner, "assignee": t.assignee, "summary": t.summary,
                "recorded": bool(t.fields.get("recording")) and sees_caller(
                    t.fields, t.owner, session.user, supervising, t.assignee),
                "confidential": bool(t.fields.get("confidential")),
                "overdue": is_overdue(TicketStatus(t.status), t.due_at, now)} for t in rows]
    return page(request, "tickets.html", tickets=tickets, kinds=KIND_NAMES, f=f,
                statuses=BOARD_STATUSES[2:], supervising=supervising, page_number=number,
                next_url=board_link(f, number + 1) if more else "",
                previous_url=board_link(f, number - 1) if number > 1 else "",
                **await board_queues(request, session))


@routes.post("/tickets/{id}/take-over")
async def take_over(request: web.Request) -> web.Response:
    """接手: an operator (or supervisor) takes a ticket the attendant raised; they become
    its first-question owner, with the reason on the record."""
    session = require(request, Role.OPERATOR, *SUPERVISING)
    services = request.app[SERVICES]
    form = await request.post()
    reason = str(form.get("reason", "")).strip()[:200] or "接手话务员受理的事项"
    try:
        ticket_id = int(request.match_info["id"])
        call_id = await services.tickets.take_over(ticket_id, session.user, reason,
                                                   services.attendant_post, datetime.now(UTC))
    except (ValueError, NotFoundError):
        raise web.HTTPNotFound(text="no such ticket") from None
    except TicketError as exc:
        raise web.HTTPConflict(text=str(exc)) from None
    await request.app[USERS].audit(session.user, "take_over_ticket", str(ticket_id),
                                   {"reason": reason})
    services.hub.publish(Happening(call_id or 0, "owner_changed",  # the desks' waiting lists
                                   {"ticket": ticket_id, "to": session.user}))
    raise web.HTTPSeeOther("/desk")


@routes.get("/tickets/{id}/recording")
async def ticket_recording(request: web.Request) -> web.Response:
    """The caller's words taken down for a callback: for supervisors, and for the ticket's
    owner and assignee, the owner only if the caller asked for confidentiality (404 to
    anyone else, as for records)."""
    session = session_of(request)
    try:
        ticket = await request.app[SERVICES].tickets.get(int(request.match_info["id"]))
    except (ValueError, NotFoundError):
        raise web.HTTPNotFound(text="no such ticket") from None
    if not sees_caller(ticket.fields, ticket.owner, session.user,
                       session.role in SUPERVISING, ticket.assignee):
        raise web.HTTPNotFound(text="no such ticket")  # (a confidential one: owner only)
    name = str(ticket.fields.get("recording") or "")
    if not name:
        raise web.HTTPNotFound(text="this ticket has no recording")
    return await recording(request, session, name, "play_ticket_recording", str(ticket.id))
