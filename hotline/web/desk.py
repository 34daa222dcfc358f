"""The operator's desk: duty state (drives seat routing), the calls in hand with the caller's
history, the directory search box, the phrasebook panel; and the forms every record view
posts to: the first-question record and raising a ticket (with the complaint form)."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from hotline.directory.index import result_json
from hotline.domain.calls import CATEGORIES
from hotline.domain.seats import BROWSER_PHONE, SIP_PHONE
from hotline.domain.tickets import COMPLAINT_FIELDS, KIND_NAMES, NewTicket, TicketKind, TicketStatus
from hotline.duty.web import DUTY_NAMES, change_duty, service
from hotline.errors import HotlineError, NotFoundError
from hotline.paths import project_dir
from hotline.phrasebook.model import Phrasebook, load_phrasebook
from hotline.server.services import Services
from hotline.store.models import Operator
from hotline.store.users_repo import Role
from hotline.web.auth import USERS, require, session_of
from hotline.web.console import SUPERVISING, json_ok, local, page, tz, visible_call
from hotline.web.keys import SERVICES
from hotline.web.softphone import softphone_config

routes = web.RouteTableDef()
PHRASES = web.AppKey("phrasebook", Phrasebook)
PHONE_NAMES = {SIP_PHONE: "SIP话机", BROWSER_PHONE: "浏览器话机"}
PANEL_VALUES = {"content": "（留言内容）", "organisation": "（单位名称）", "number": "（号码）"}
LIMITS = {"summary": 2000, "caller_name": 64, "caller_title": 16, "callback_number": 64}


def phrasebook() -> Phrasebook:
    return load_phrasebook(project_dir("scripts") / "phrasebook.yaml")


@routes.get("/desk")
async def desk(request: web.Request) -> web.Response:
    session = require(request, Role.OPERATOR, *SUPERVISING)
    services = request.app[SERVICES]
    zone = tz(request)
    op: Operator | None = None
    with contextlib.suppress(NotFoundError):  # a supervisor may have no seat
        op = await services.operators.get(session.user)
    mine = await services.calls.find(operator=session.user, limit=50)
    in_hand = [await caller_card(services, c.id, zone) for c in mine if c.ended_at is None]
    waiting = await waiting_tickets(services, zone)
    # 003 AB岗: back from away, what others did on one's tickets; handovers waiting
    duty = service(request)
    back = await duty.back_notice(session.user) if op else None
    handovers = len(await duty.log.handovers(pending_for=session.user)) if op else 0
    query = request.query.get("q", "")[:100]
    hits = []
    if query.strip():
        result = await services.directory.lookup(query)
        hits = [(h.entry.name, h.entry.district, h.entry.phone, h.score) for h in result.hits]
    return page(request, "desk.html", duty=op.duty if op else "", duties=DUTY_NAMES,
                back_done=len(back.done) if back else 0, handovers=handovers,
                in_hand=in_hand, waiting=waiting, kinds=KIND_NAMES,
                attendant=services.attendant_post,
                phone=op.phone if op else "", phones=PHONE_NAMES,
                softphone=softphone_config(services.pbx, op),
                recent=[(c.id, local(c.arrived_at, zone), c.summary) for c in mine[:10]],
                q=query, hits=hits, phrases=[
                    (p.situation, p.fill(**{k: PANEL_VALUES.get(k, "……") for k in p.placeholders}
                                         | {"unit": services.unit_name,
                                            "job_number": session.user}))
                    for p in request.app[PHRASES].phrases.values()])


async def waiting_tickets(services: Services, zone: ZoneInfo) -> list[dict[str, Any]]:
    """The messages, complaints and callbacks the attendant took, waiting for an operator to
    take them over (接手): they pop up for whoever comes on duty next (and live, as more
    come). Caller details stay off this list: the ticket page shows them to who may see."""
    return [{"id": t.id, "kind": t.kind, "kind_name": KIND_NAMES[TicketKind(t.kind)],
             "due": local(t.due_at, zone), "summary": t.summary,
             "confidential": bool(t.fields.get("confidential"))}
            for t in await services.tickets.find(owner=services.attendant_post,
                                                 unclosed=True, limit=50)]


async def caller_card(services: Services, call_id: int, zone: ZoneInfo) -> dict[str, Any]:
    """The call in hand as the desk shows it: the caller's number in full (it is the call in
    hand), the earlier calls from the same number (exactly; none for a withheld one) and their
    open tickets, and what has been said so far."""
    call = await services.calls.get(call_id)  # with its events
    earlier = [x for x in await services.calls.by_caller(call.caller, limit=21)
               if x.id != call.id][:20]
    open_tickets = [t for t in await services.tickets.find(call_ids=[x.id for x in earlier])
                    if t.status != TicketStatus.CLOSED]
    said = [{"speaker": e.data.get("speaker", ""), "text": e.data.get("text", "")}
            for e in call.events if e.kind == "transcript"][-10:]
    return {"id": call.id, "caller": call.caller, "arrived": local(call.arrived_at, zone),
            "earlier": [(x.id, local(x.arrived_at, zone), x.summary) for x in earlier],
            "tickets": [(t.id, KIND_NAMES[TicketKind(t.kind)], t.status) for t in open_tickets],
            "transcript": said}


@routes.post("/desk/duty")
async def set_duty(request: web.Request) -> web.Response:
    session = require(request, Role.OPERATOR, *SUPERVISING)
    return await change_duty(request, session, "/desk")  # logged and audited there


@routes.get("/api/directory")
async def api_directory(request: web.Request) -> web.Response:
    session_of(request)
    query = request.query.get("q", "")[:100]
    if not query.strip():
        raise web.HTTPBadRequest(text="q: the organisation to look up")
    started = time.perf_counter()
    r = await request.app[SERVICES].directory.lookup(query)
    return json_ok(result_json(r, (time.perf_counter() - started) * 1000))


def _text(form: Any, name: str) -> str:
    value = str(form.get(name, "")).strip()
    limit = LIMITS.get(name, 500)
    if len(value) > limit:
        raise web.HTTPBadRequest(text=f"{name}: at most {limit} characters")
    return value


@routes.post("/calls/{id}/record")
async def write_record(request: web.Request) -> web.Response:
    """The first-question form: name, form of address, callback number, category, summary."""
    session = session_of(request)
    call = await visible_call(request, session)
    form = await request.post()
    category = _text(form, "category")
    if category and category not in CATEGORIES:
        raise web.HTTPBadRequest(text=f"category: one of {', '.join(CATEGORIES)}")
    fields = {k: _text(form, k) for k in LIMITS}
    if category:
        fields["category"] = category
    await request.app[SERVICES].calls.annotate(call.id, session.user, fields)
    raise web.HTTPFound(f"/calls/{call.id}")


@routes.post("/calls/{id}/tickets")
async def raise_ticket(request: web.Request) -> web.Response:
    session = session_of(request)
    call = await visible_call(request, session)
    form = await request.post()
    try:
        kind = TicketKind(_text(form, "kind"))
    except ValueError:
        raise web.HTTPBadRequest(text="kind: callback, complaint, message or referral") from None
    fields = {f: _text(form, f) for f in COMPLAINT_FIELDS if _text(form, f)} \
        if kind is TicketKind.COMPLAINT else {}
    if kind is TicketKind.MESSAGE:
        fields = {"text": _text(form, "text")}
    try:
        tid = await request.app[SERVICES].tickets.open(NewTicket(
            kind, session.user, call.id, _text(form, "summary"),
            department=_text(form, "department"), fields=fields), datetime.now(UTC))
    except HotlineError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    await request.app[USERS].audit(session.user, "ticket_opened", str(tid), {"call": call.id})
    raise web.HTTPFound(f"/calls/{call.id}")

