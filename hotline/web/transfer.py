"""Warm transfer of the call in hand (003: brief the receiver before handing over): to a
colleague's seat, whose desk pops the written summary up, or to a department from the
directory, which hears the spoken brief. The operator keeps the caller until they answer.

The call may run on another node than this console: the request goes to the node that holds
it (``CallRequests.ask``, hotline/live/pg_requests.py) and its answer comes back within a
second, or the operator is told that node did not answer."""

from __future__ import annotations

from aiohttp import web

from hotline.calls.commands import Answer, TransferRequest
from hotline.domain.seats import validate_job_number
from hotline.errors import NotFoundError
from hotline.web.auth import USERS, session_of
from hotline.web.console import json_ok, visible_call
from hotline.web.keys import SERVICES

routes = web.RouteTableDef()
SUMMARY_LIMIT = 500


@routes.post("/calls/{id}/transfer")
async def transfer(request: web.Request) -> web.Response:
    session = session_of(request)
    call = await visible_call(request, session)
    if call.ended_at is not None:
        raise web.HTTPConflict(text="the call has ended")
    form = await request.post()
    summary = str(form.get("summary", "")).strip()
    if not summary:
        raise web.HTTPBadRequest(text="summary: brief the receiver (003) before handing over")
    if len(summary) > SUMMARY_LIMIT:
        raise web.HTTPBadRequest(text=f"summary: at most {SUMMARY_LIMIT} characters")
    seat, entry_id = str(form.get("seat", "")).strip(), str(form.get("entry", "")).strip()
    services = request.app[SERVICES]
    if bool(seat) == bool(entry_id):
        raise web.HTTPBadRequest(text="seat or entry: name one colleague or one department")
    if seat:
        try:
            validate_job_number(seat)
            await services.operators.get(seat)
        except (ValueError, NotFoundError):
            raise web.HTTPBadRequest(text=f"seat: no operator {seat!r}") from None
        if seat == session.user:
            raise web.HTTPBadRequest(text="seat: the call is already yours")
        req = TransferRequest(session.user, "", summary, seat=seat)  # rung by seat_dial
    else:
        entry = await services.directory.entry(entry_id)
        if entry is None or not entry.transfer_to:
            raise web.HTTPBadRequest(text=f"entry: {entry_id!r} does not accept transfers")
        req = TransferRequest(session.user, entry.transfer_to, summary,
                              organisation=entry.name)
    answer = await services.requests.ask(call.id, call.node, req)
    if answer == Answer.NO_ANSWER:
        raise web.HTTPGatewayTimeout(
            text=f"node {call.node}, which holds the call, did not answer; the transfer was "
                 "not asked for (try again, or hand over by phone)")
    if answer == Answer.REFUSED:
        raise web.HTTPConflict(text="the call is not in a conversation")
    await request.app[USERS].audit(session.user, "transfer", str(call.id), {"to": req.to})
    return json_ok({"call": call.id, "to": req.to, "state": "ringing"})
