"""The ticket page of the loop with the handling units: the ticket, its history in order,
and the forms of what this user may do at this stage (派单 with the catalogue's suggestion,
签收/退单, 改派/坚持, 延期 and its approval, 答复, 回访, 重办, 并单); the supervisors'
escalation list; GET /api/tickets. Handlers are thin: the rules are the loop's
(hotline/domain/loop/machine.py), applied by services.loop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from hotline.domain.loop.limits import (
    GRADES,
    MATTER_NAMES,
    METHODS,
    URGENCY_NAMES,
    MatterKind,
    Urgency,
)
from hotline.domain.loop.machine import STAGE_NAMES, Actor, LoopEvent, Stage
from hotline.domain.tickets import COMPLAINT_LABELS, KIND_NAMES, TicketError, TicketKind
from hotline.errors import HotlineError, NotFoundError
from hotline.privacy import mask_number
from hotline.reports.ledger import month_bounds
from hotline.reports.unit_stats import COLUMNS as UNIT_COLUMNS
from hotline.store.loop_repo import LoopRepository
from hotline.store.models import Ticket
from hotline.store.users_repo import Role
from hotline.tickets.cli import parse_since, ticket_json
from hotline.web.auth import USERS, require, session_of
from hotline.web.console import SUPERVISING, json_ok, local, page, tz
from hotline.web.keys import SERVICES
from hotline.web.sessions import Session

routes = web.RouteTableDef()
Form = MultiDictProxy[Any]
Action = Callable[[LoopRepository, int, Actor, datetime, Form], Awaitable[Any]]
MAX_PAGE = 200


async def actor_of(request: web.Request, session: Session) -> Actor:
    if session.role == Role.UNIT:
        return await request.app[SERVICES].loop.actor(session.user)
    return Actor(session.user, session.role.value)


def may_see(t: Ticket, actor: Actor) -> bool:
    """Supervisors see every ticket; an operator their own (owner or assignee); a unit user
    the tickets its unit leads or assists on."""
    if actor.supervising:
        return True
    if actor.role == Role.UNIT:
        return bool(actor.unit) and (t.unit == actor.unit or actor.unit in (t.assisting or []))
    return actor.id in (t.owner, t.assignee)


async def visible_ticket(request: web.Request) -> tuple[Ticket, Actor]:
    session = session_of(request)
    actor = await actor_of(request, session)
    try:
        ticket = await request.app[SERVICES].tickets.get(int(request.match_info["id"]))
    except (ValueError, NotFoundError):
        raise web.HTTPNotFound(text="no such ticket") from None
    if not may_see(ticket, actor):
        raise web.HTTPNotFound(text="no such ticket")  # not even its existence
    return ticket, actor


def shows_caller(t: Ticket, actor: Actor) -> bool:
    """The caller's name and number: for the centre as before; for the lead unit too (it
    must reach them) unless the caller asked for confidentiality."""
    if actor.supervising or actor.id == t.owner:
        return True
    return actor.role == Role.UNIT and t.unit == actor.unit and not t.fields.get("confidential")


@routes.get("/tickets/{id}")
async def ticket_page(request: web.Request) -> web.Response:
    t, actor = await visible_ticket(request)
    services = request.app[SERVICES]
    zone = tz(request)
    full = shows_caller(t, actor)
    await request.app[USERS].audit(actor.id, "view_ticket", str(t.id))
    stage = Stage(t.stage or "")
    lead = actor.role == Role.UNIT and actor.unit == t.unit
    centre = actor.supervising or actor.id == t.owner
    suggestion = await services.loop.suggest(t) if stage is Stage.NEW and centre else None
    units = [u.name for u in await services.loop.units()] if centre or actor.supervising else []
    fields = [(label, t.fields.get(name, "")) for name, label in COMPLAINT_LABELS
              if t.fields.get(name) and (full or not name.startswith("complainant"))]
    return page(
        request, "ticket.html", t=t, stage=stage, stages=STAGE_NAMES, kinds=KIND_NAMES,
        matters=MATTER_NAMES, urgencies=URGENCY_NAMES, grades=GRADES, methods=METHODS,
        units=units, suggestion=suggestion, fields=fields, lead=lead, centre=centre,
        supervising=actor.supervising,
        can_call=services.callbacks is not None and services.callbacks.can_dial,
        caller=(t.caller_name, t.callback_number) if full else
        ("", mask_number(t.callback_number)),
        times={k: local(getattr(t, k), zone) for k in (
            "created_at", "sign_due_at", "due_at", "replied_at", "follow_up_due_at",
            "closed_at")},
        events=[{"at": local(e.at, zone), "by": e.by, "kind": e.kind,
                 "from": e.from_status or "", "to": e.to_status or "", "data": e.data}
                for e in t.events])


def _text(form: Form, name: str, limit: int = 2000) -> str:
    return str(form.get(name, "")).strip()[:limit]


def _int(form: Form, name: str) -> int:
    try:
        return int(str(form.get(name, "")))
    except ValueError:
        raise TicketError(f"{name}: a whole number is needed") from None


def _enum(form: Form, name: str, kind: Any, default: Any = None) -> Any:
    value = _text(form, name, 32)
    if not value and default is not None:
        return default
    try:
        return kind(value)
    except ValueError:
        raise TicketError(f"{name}: {value!r} is not one of the choices") from None


def _assisting(form: Form) -> list[str]:
    return [str(v).strip() for v in form.getall("assist", []) if str(v).strip()]


async def _dispatch(repo: LoopRepository, tid: int, a: Actor, now: datetime,
                    f: Form) -> LoopEvent:
    matter = _text(f, "matter", 32)
    return await repo.dispatch(tid, a, now, _text(f, "unit", 200), _assisting(f),
                               _text(f, "instructions"), _enum(f, "urgent", Urgency,
                                                               Urgency.NONE),
                               MatterKind(matter) if matter in set(MatterKind) else None)


async def _merge(repo: LoopRepository, tid: int, a: Actor, now: datetime,
                 f: Form) -> list[LoopEvent]:
    others = [int(x) for x in _text(f, "tickets", 200).replace("，", ",").split(",")
              if x.strip().isdigit()]
    return await repo.merge(tid, others, a, now)


ACTIONS: dict[str, Action] = {
    "dispatch": _dispatch,
    "sign": lambda r, t, a, n, f: r.sign(t, a, n),
    "return": lambda r, t, a, n, f: r.return_(t, a, n, _text(f, "reason")),
    "redispatch": lambda r, t, a, n, f: r.redispatch(
        t, a, n, _text(f, "unit", 200), _assisting(f), _text(f, "instructions")),
    "insist": lambda r, t, a, n, f: r.insist(t, a, n, _text(f, "note")),
    "extend-request": lambda r, t, a, n, f: r.request_extension(
        t, a, n, _int(f, "days"), _text(f, "reason")),
    "extend-decide": lambda r, t, a, n, f: r.decide_extension(
        t, a, n, _text(f, "decision", 16) == "approve", f.get("informed") == "yes",
        _text(f, "note")),
    "reply": lambda r, t, a, n, f: r.reply(t, a, n, _text(f, "text", 4000)),
    "follow-up": lambda r, t, a, n, f: r.follow_up(
        t, a, n, _text(f, "method", 8), f.get("reached") == "yes", _text(f, "grade", 8),
        _text(f, "opinion")),
    "send-back": lambda r, t, a, n, f: r.send_back(t, a, n, _text(f, "reason")),
    "close": lambda r, t, a, n, f: r.close(t, a, n, _text(f, "note")),
    "merge": _merge,
}


def _action_handler(name: str, action: Action) -> Callable[[web.Request], Awaitable[Any]]:
    async def handler(request: web.Request) -> web.Response:
        t, actor = await visible_ticket(request)
        form = await request.post()
        try:
            await action(request.app[SERVICES].loop, t.id, actor, datetime.now(UTC), form)
        except NotFoundError as exc:
            raise web.HTTPNotFound(text=str(exc)) from None
        except TicketError as exc:
            raise web.HTTPConflict(text=str(exc)) from None
        await request.app[USERS].audit(actor.id, f"ticket_{name.replace('-', '_')}",
                                       str(t.id))
        raise web.HTTPSeeOther(f"/tickets/{t.id}")

    return handler


for _name, _action in ACTIONS.items():
    routes.post(f"/tickets/{{id}}/{_name}")(_action_handler(_name, _action))


def row(t: Ticket, request: web.Request, now: datetime) -> dict[str, Any]:
    zone = tz(request)
    stage = Stage(t.stage or "")
    late = ((stage is Stage.DISPATCHED and t.sign_due_at is not None and now > t.sign_due_at)
            or (stage is Stage.SIGNED and now > t.due_at))
    return {"id": t.id, "kind": KIND_NAMES[TicketKind(t.kind)], "stage": STAGE_NAMES[stage],
            "unit": t.unit, "owner": t.owner, "summary": t.summary,
            "urgent": URGENCY_NAMES[Urgency(t.urgency or "")],
            "sign_due": local(t.sign_due_at, zone), "due": local(t.due_at, zone),
            "follow_up_due": local(t.follow_up_due_at, zone), "late": late,
            "extension": t.extension_request}


@routes.get("/supervision")
async def supervision(request: web.Request) -> web.Response:
    """督办: the supervisors' escalation list."""
    require(request, *SUPERVISING)
    loop = request.app[SERVICES].loop
    now, zone = datetime.now(UTC), tz(request)
    waiting = await loop.tickets(stages=[Stage.SIGNED])
    month = request.query.get("month", "")[:7] or now.astimezone(zone).strftime("%Y-%m")
    try:
        since, until = month_bounds(month, zone)
    except HotlineError:
        raise web.HTTPBadRequest(text="month: YYYY-MM") from None
    stats = await loop.unit_stats(since, until)
    return page(
        request, "supervision.html", month=month, unit_columns=UNIT_COLUMNS,
        unit_rows=stats.rows(),
        reminders=[{"ticket": r.ticket_id, "step": r.step, "unit": r.unit, "owner": r.owner,
                    "due": local(r.due_at, zone), "at": local(r.at, zone)}
                   for r in await loop.reminders()],
        returned=[row(t, request, now) for t in await loop.tickets(stages=[Stage.RETURNED])],
        extensions=[row(t, request, now) for t in waiting if t.extension_request],
        unsatisfied=[row(t, request, now)
                     for t in await loop.tickets(stages=[Stage.UNSATISFIED])])


@routes.get("/api/tickets")
async def api_tickets(request: web.Request) -> web.Response:
    """Tickets in id order, a page at a time (?page=1&per_page=50, at most 200): all for
    supervisors, an operator's own, a unit's (lead or assisting); ?since=T (ISO 8601):
    those changed since T (any event of theirs at or after it). Callers' numbers masked
    but for supervisors; each read audited."""
    session = session_of(request)
    actor = await actor_of(request, session)
    services = request.app[SERVICES]
    try:
        number = max(1, int(request.query.get("page", "1")))
        per_page = min(MAX_PAGE, max(1, int(request.query.get("per_page", "50"))))
    except ValueError:
        raise web.HTTPBadRequest(text="page and per_page are whole numbers") from None
    given = request.query.get("since", "")
    try:
        since = parse_since(given, services.timezone) if given else None
    except ValueError:
        raise web.HTTPBadRequest(text=f"since: {given[:40]!r} is not an ISO 8601 date or "
                                      "date-time (2026-12-01, 2026-12-01T08:00:00Z; a "
                                      "+ in the offset as %2B)") from None
    total, rows = await services.loop.page(
        offset=(number - 1) * per_page, limit=per_page, since=since,
        unit=actor.unit if actor.role == Role.UNIT else None,
        people=actor.id if actor.role == Role.OPERATOR else None)
    now = datetime.now(UTC)
    data = []
    for t in rows:
        item = ticket_json(t, services.timezone, now, full=True)
        if not actor.supervising:
            item["callback_number"] = mask_number(t.callback_number)
            item["fields"] = {k: v for k, v in t.fields.items()
                              if not k.startswith("complainant") and k != "recording"}
        data.append(item)
    await request.app[USERS].audit(actor.id, "api_tickets", f"page {number}",
                                   {"count": len(data), **({"since": given[:40]} if given else {})})
    return json_ok({"total": total, "page": number, "per_page": per_page,
                    "since": since.isoformat() if since else None, "tickets": data})
