"""Live monitoring from the wallboard (supervisors and admins): listen to a call, whisper to
its operator, barge in; switch between them; stop. The supervisor's own seat (browser
softphone or SIP phone) is rung for it. Every use is audited by the session (start, each
switch, end); a refused start is audited here."""

from __future__ import annotations

from aiohttp import web

from hotline.domain.monitoring import Mode
from hotline.domain.seats import validate_job_number
from hotline.errors import NotFoundError, StoreError
from hotline.monitor.service import MonitorRefused, Monitors
from hotline.web.auth import USERS, require
from hotline.web.console import SUPERVISING, json_ok
from hotline.web.keys import SERVICES

routes = web.RouteTableDef()


def _monitors(request: web.Request) -> Monitors:
    monitors = request.app[SERVICES].monitors
    if monitors is None:
        raise web.HTTPServiceUnavailable(text="monitoring runs with the telephony")
    return monitors


def _mode(value: object) -> Mode:
    try:
        return Mode(str(value))
    except ValueError:
        raise web.HTTPBadRequest(text=f"mode: one of {', '.join(m.value for m in Mode)}"
                                 ) from None


@routes.get("/api/monitor")
async def sessions(request: web.Request) -> web.Response:
    require(request, *SUPERVISING)
    return json_ok({"sessions": _monitors(request).view()})


@routes.post("/api/monitor")
async def start(request: web.Request) -> web.Response:
    session = require(request, *SUPERVISING)
    form = await request.post()
    mode = _mode(form.get("mode", Mode.LISTEN.value))
    monitors = _monitors(request)
    services = request.app[SERVICES]
    try:
        call_id = int(str(form.get("call", "")))
        call = await services.calls.get(call_id)
    except (ValueError, NotFoundError):
        raise web.HTTPBadRequest(text="call: the number of a call in progress") from None
    if call.ended_at is not None or call.answered_at is None:
        raise web.HTTPConflict(text=f"call {call_id} is not in a conversation")
    try:
        validate_job_number(session.user)
        seat = await services.operators.get(session.user)
    except (ValueError, NotFoundError, StoreError):
        raise web.HTTPBadRequest(text=f"{session.user} has no seat to listen on: add one "
                                      "with `hotline operators add`") from None
    try:
        started = await monitors.start(session.user, seat.job_number, call.id,
                                       call.channel_id, mode)
    except MonitorRefused as exc:
        await request.app[USERS].audit(session.user, "monitor_refused", str(call.id),
                                       {"mode": mode.value, "why": str(exc)})
        raise web.HTTPConflict(text=str(exc)) from None
    return json_ok(started.view())


@routes.post("/api/monitor/{id}/mode")
async def switch(request: web.Request) -> web.Response:
    session = require(request, *SUPERVISING)
    mode = _mode((await request.post()).get("mode", ""))
    try:
        monitored = _monitors(request).of(request.match_info["id"], session.user)
    except KeyError:
        raise web.HTTPNotFound(text="no such monitoring session of yours") from None
    if not monitored.machine.live:
        raise web.HTTPConflict(text="the session has ended")
    monitored.ask(mode)
    return json_ok({**monitored.view(), "asked": mode.value})


@routes.post("/api/monitor/{id}/stop")
async def stop(request: web.Request) -> web.Response:
    session = require(request, *SUPERVISING)
    try:
        monitored = _monitors(request).of(request.match_info["id"], session.user)
    except KeyError:
        raise web.HTTPNotFound(text="no such monitoring session of yours") from None
    monitored.stop()
    return json_ok(monitored.view())
