"""The unit portal (/unit): a unit user's dashboard of its unit's tickets: to sign for,
to reply to, the reminders (催办) it has been sent, and what is overdue. A supervisor may look
at any unit's (?unit=NAME)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from hotline.domain.loop.machine import Stage
from hotline.store.users_repo import Role
from hotline.web.auth import require
from hotline.web.console import SUPERVISING, local, page, tz
from hotline.web.keys import SERVICES
from hotline.web.loop_views import actor_of, row

routes = web.RouteTableDef()


@routes.get("/unit")
async def unit_dashboard(request: web.Request) -> web.Response:
    session = require(request, Role.UNIT, *SUPERVISING)
    loop = request.app[SERVICES].loop
    if session.role == Role.UNIT:
        unit = (await actor_of(request, session)).unit
    else:
        unit = request.query.get("unit", "")[:200]
    now, zone = datetime.now(UTC), tz(request)
    to_sign = [row(t, request, now) for t in await loop.tickets(
        unit=unit, stages=[Stage.DISPATCHED])]
    to_reply = [row(t, request, now) for t in await loop.tickets(
        unit=unit, stages=[Stage.SIGNED])]
    reminders = [{"ticket": r.ticket_id, "step": r.step, "due": local(r.due_at, zone),
                  "at": local(r.at, zone)} for r in await loop.reminders(unit=unit)]
    return page(request, "unit.html", unit_name=unit, to_sign=to_sign, to_reply=to_reply,
                overdue=[t for t in to_sign + to_reply if t["late"]], reminders=reminders,
                units=[u.name for u in await loop.units()] if session.role != Role.UNIT
                else [])
