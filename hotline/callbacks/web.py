"""The console's callback list (/callbacks) and the one-click outbound call
(POST /outbound/calls), for operators and supervisors. Operators see callers' numbers masked
(the server dials them); supervisors see them in full; every read of the list is audited."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hotline.callbacks.service import CallbackService, OutboundBusy, OutboundError
from hotline.errors import NotFoundError
from hotline.privacy import mask_number
from hotline.store.users_repo import Role
from hotline.web.auth import USERS, require
from hotline.web.console import SUPERVISING, json_ok, local, page, tz
from hotline.web.keys import SERVICES

routes = web.RouteTableDef()
REASONS = {"ringing": "响铃中挂断", "greeting": "问候中挂断", "unattended": "无人值守"}
OUTCOMES = {"pending": "进行中", "reached": "已接通", "no_answer": "未接听",
            "seat_no_answer": "坐席未接", "seat_left": "坐席挂断", "failed": "呼叫失败"}
CALLERS = (Role.OPERATOR, *SUPERVISING)
ONE_OF = "ticket_id or missed_id: name one ticket or one missed call"


def callbacks(request: web.Request) -> CallbackService:
    service = request.app[SERVICES].callbacks
    if service is None:
        raise web.HTTPServiceUnavailable(text="the callback list is not set up on this node")
    return service


@routes.get("/callbacks")
async def callbacks_page(request: web.Request) -> web.Response:
    session = require(request, *CALLERS)
    service, zone = callbacks(request), tz(request)
    full = session.role in SUPERVISING

    def shown(number: str) -> str:
        return number if full else mask_number(number)

    listed = await service.current()
    entries = [{"id": e.id, "number": shown(e.number), "missed": e.missed,
                "first": local(e.first_at, zone), "last": local(e.last_at, zone),
                "reasons": "、".join(REASONS[r] for r in e.reasons),
                "attempts": [{"at": local(a.started_at, zone), "by": a.by,
                              "outcome": OUTCOMES.get(a.outcome, a.outcome)}
                             for a in e.attempts],
                "pending": any(a.outcome == "pending" for a in e.attempts)}
               for e in listed.entries]
    cleared = [{"id": c.entry_id, "number": shown(c.number), "at": local(c.at, zone),
                "how": "回拨接通" if c.how == "reached" else "来电已接"}
               for c in sorted(listed.cleared, key=lambda c: c.at, reverse=True)[:50]]
    await request.app[USERS].audit(session.user, "view_callbacks", "",
                                   {"entries": len(entries), "full_numbers": full})
    return page(request, "callbacks.html", entries=entries, cleared=cleared,
                can_dial=service.can_dial)


def _id(values: Any, key: str) -> int | None:
    raw = str(values.get(key, "") or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value < 2**31:
        raise web.HTTPBadRequest(text=f"{key}: expected a whole number, got {raw[:20]!r}")
    return value


@routes.post("/outbound/calls")
async def place_call(request: web.Request) -> web.Response:
    """{number, ticket_id | missed_id}: ring the operator's own phone, then the person.
    A form (the list's or the ticket's button) is sent back there; a script gets the
    attempt (202)."""
    session = require(request, *CALLERS)
    service, services = callbacks(request), request.app[SERVICES]
    is_form = request.content_type in ("application/x-www-form-urlencoded",
                                       "multipart/form-data")
    if is_form:
        values: Any = await request.post()
    else:
        try:
            values = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="expected a form or a JSON object") from None
        if not isinstance(values, dict):
            raise web.HTTPBadRequest(text="expected a JSON object")
    number = str(values.get("number", "") or "").strip()[:64]
    missed_id, ticket_id = _id(values, "missed_id"), _id(values, "ticket_id")
    if (missed_id is None) == (ticket_id is None):
        raise web.HTTPBadRequest(text=ONE_OF)
    try:
        await services.operators.get(session.user)
    except NotFoundError:
        raise web.HTTPBadRequest(text=f"{session.user} has no seat (phone) to call from") \
            from None
    if ticket_id is not None and session.role not in SUPERVISING:
        try:
            ticket = await services.tickets.get(ticket_id)
        except NotFoundError:
            raise web.HTTPNotFound(text="no such ticket") from None
        if session.user not in (ticket.owner, ticket.assignee):
            raise web.HTTPNotFound(text="no such ticket")
    try:
        attempt_id = await service.place(session.user, number, missed_id=missed_id,
                                         ticket_id=ticket_id)
    except NotFoundError as exc:
        raise web.HTTPNotFound(text=str(exc)) from None
    except OutboundBusy as exc:
        raise web.HTTPConflict(text=str(exc)) from None
    except OutboundError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    target = f"missed:{missed_id}" if missed_id is not None else f"ticket:{ticket_id}"
    await request.app[USERS].audit(session.user, "outbound_call", target,
                                   {"attempt": attempt_id})
    if is_form:  # back where the button was: the ticket, or the list
        raise web.HTTPSeeOther(f"/tickets/{ticket_id}" if ticket_id is not None
                               else "/callbacks")
    return web.json_response({"id": attempt_id, "outcome": "pending"}, status=202)


@routes.get("/outbound/calls/{id}")
async def call_state(request: web.Request) -> web.Response:
    """One attempt's state (the console polls it); an operator sees only their own."""
    session = require(request, *CALLERS)
    try:
        attempt = await callbacks(request).attempt(int(request.match_info["id"]))
    except (ValueError, NotFoundError):
        raise web.HTTPNotFound(text="no such outbound call") from None
    if session.role not in SUPERVISING and attempt.by != session.user:
        raise web.HTTPNotFound(text="no such outbound call")
    return json_ok({"id": attempt.id, "by": attempt.by, "outcome": attempt.outcome,
                    "missed_id": attempt.missed_id,
                    "started_at": attempt.started_at.isoformat(),
                    "ended_at": attempt.ended_at.isoformat() if attempt.ended_at else None})
