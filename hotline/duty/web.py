"""The console's /duty pages: the duty state with the A/B guard's confirmation, the duty log,
the shift handover (交接班记录) and its acknowledgement, a B post's stand-in list of its away
A post's open tickets, and the notice of what was done while the operator was away.
Thin handlers over hotline/duty/service.py; every change audited there."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from hotline.domain.duty import DutyError, PostGuard
from hotline.domain.loop.limits import GRADES, METHODS, URGENCY_NAMES, Urgency
from hotline.domain.loop.machine import STAGE_NAMES, Stage
from hotline.domain.seats import DutyState
from hotline.domain.tickets import KIND_NAMES, TicketError, TicketStatus
from hotline.duty.handover import SECTIONS
from hotline.duty.service import DutyService
from hotline.duty.setup import duty_service
from hotline.errors import NotFoundError
from hotline.store.models import Handover
from hotline.store.users_repo import Role
from hotline.web.auth import require
from hotline.web.console import SUPERVISING, local, page, tz
from hotline.web.keys import SERVICES
from hotline.web.sessions import Session

routes = web.RouteTableDef()
DUTY_NAMES = {DutyState.ON_DUTY.value: "在岗", DutyState.BREAK.value: "小休",
              DutyState.OFF.value: "离岗"}
STAND_IN_NAMES = {TicketStatus.IN_PROGRESS: "办理中", TicketStatus.REPLIED: "已答复"}


def service(request: web.Request) -> DutyService:
    s = request.app[SERVICES]
    return duty_service(s.db, s.operators, s.tickets, s.loop, s.users, s.callbacks)


def _staff(request: web.Request) -> Session:
    return require(request, Role.OPERATOR, *SUPERVISING)


async def change_duty(request: web.Request, session: Session, back_to: str) -> web.Response:
    """The duty form of the desk and of /duty: the change, or the A/B guard's question."""
    form = await request.post()
    state = str(form.get("duty", ""))
    if state not in DUTY_NAMES:
        raise web.HTTPBadRequest(text=f"duty: one of {', '.join(DUTY_NAMES)}")
    job = str(form.get("job", "")) or session.user
    if job != session.user and session.role not in SUPERVISING:
        raise web.HTTPForbidden(text="only a supervisor changes another seat's duty")
    try:
        await service(request).change(job, DutyState(state), session.user, datetime.now(UTC),
                                      confirm=form.get("confirm") == "yes",
                                      note=str(form.get("note", ""))[:200])
    except PostGuard as exc:
        response = page(request, "duty_confirm.html", job=job, duty=state, names=DUTY_NAMES,
                        backups=exc.backups, back_to=back_to)
        response.set_status(409)
        return response
    except NotFoundError:
        raise web.HTTPBadRequest(text=f"{job} has no operator seat") from None
    raise web.HTTPFound(back_to)


@routes.post("/duty/state")
async def duty_state(request: web.Request) -> web.Response:
    session = _staff(request)
    back = str((await request.post()).get("back", ""))
    return await change_duty(request, session, back if back in ("/desk", "/duty") else "/duty")


def _handover_row(h: Handover, zone: Any) -> dict[str, Any]:
    return {"id": h.id, "by": h.by, "to": h.to, "at": local(h.at, zone),
            "count": sum(len(v) for v in h.items.values()),
            "acknowledged_by": h.acknowledged_by, "acknowledged_at": local(h.acknowledged_at,
                                                                             zone)}


@routes.get("/duty")
async def duty_page(request: web.Request) -> web.Response:
    session = _staff(request)
    services = request.app[SERVICES]
    zone = tz(request)
    duty = service(request)
    supervising = session.role in SUPERVISING
    job = request.query.get("job", "")[:16] if supervising else session.user
    log = await duty.log.history(job_number=job or None, limit=200)
    posts, standing = await duty.stand_in(session.user)
    notice = await duty.back_notice(session.user)
    seats = await services.operators.all()
    return page(
        request, "duty.html", names=DUTY_NAMES, job=job, supervising=supervising,
        seats=[{"job_number": s.job_number, "name": s.name, "backup_of": s.backup_of,
                "duty": s.duty} for s in seats],
        uncovered=await duty.uncovered(),
        log=[{"at": local(c.at, zone), "job_number": c.job_number, "before": c.before.value,
              "to": c.to.value, "by": c.by, "note": c.note, "guard": c.guard}
             for c in reversed(log)],
        pending=[_handover_row(h, zone) for h in await duty.log.handovers(
            pending_for=session.user)],
        mine=[_handover_row(h, zone) for h in await duty.log.handovers(
            by=None if supervising else session.user, limit=20)],
        posts=posts, moves=STAND_IN_NAMES, kinds=KIND_NAMES, methods=METHODS, grades=GRADES,
        urgencies=URGENCY_NAMES,
        units=[u.name for u in await services.loop.units()] if standing else [],
        standing=[{"id": t.id, "kind": t.kind, "status": t.status, "owner": t.owner,
                   "stage": STAGE_NAMES[Stage(t.stage or "")], "loop": bool(t.stage),
                   "can_dispatch": not t.stage and t.status != "replied",
                   "can_follow_up": t.stage == Stage.REPLIED.value or (
                       not t.stage and t.status == "replied"),
                   "due": local(t.due_at, zone), "summary": t.summary} for t in standing],
        notice=notice and {"away": local(notice.away_at, zone),
                           "back": local(notice.back_at, zone),
                           "done": [d | {"at": local(d["at"], zone)} for d in notice.done]})


@routes.get("/duty/handover")
async def handover_form(request: web.Request) -> web.Response:
    session = _staff(request)
    services = request.app[SERVICES]
    draft = await service(request).draft(session.user, datetime.now(UTC), tz(request))
    others = [s.job_number for s in await services.operators.all()
              if s.job_number != session.user]
    return page(request, "handover.html", items=draft, sections=SECTIONS, kinds=KIND_NAMES,
                others=others, h=None)


@routes.post("/duty/handover")
async def handover_submit(request: web.Request) -> web.Response:
    session = _staff(request)
    form = await request.post()
    try:
        handover_id = await service(request).hand_over(
            session.user, str(form.get("to", "")).strip()[:16],
            str(form.get("note", "")).strip(), datetime.now(UTC), tz(request))
    except NotFoundError:
        raise web.HTTPBadRequest(text=f"to: no operator {str(form.get('to'))!r}") from None
    except DutyError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    raise web.HTTPSeeOther(f"/duty/handover/{handover_id}")


async def visible_handover(request: web.Request, session: Session) -> Handover:
    """A handover for supervisors, its author, whoever it is for (anyone while it names
    nobody and waits) and whoever acknowledged it; 404 to others."""
    try:
        h = await service(request).log.handover(int(request.match_info["id"]))
    except (ValueError, NotFoundError):
        raise web.HTTPNotFound(text="no such handover") from None
    waiting_for_anyone = not h.to and not h.acknowledged_by
    if session.role not in SUPERVISING and session.user not in (
            h.by, h.to, h.acknowledged_by) and not waiting_for_anyone:
        raise web.HTTPNotFound(text="no such handover")
    return h


@routes.get("/duty/handover/{id}")
async def handover_view(request: web.Request) -> web.Response:
    session = _staff(request)
    h = await visible_handover(request, session)
    return page(request, "handover.html", items=h.items, sections=SECTIONS, kinds=KIND_NAMES,
                others=[], h=_handover_row(h, tz(request)) | {"note": h.note,
                                                             "ack_note": h.ack_note})


@routes.post("/duty/handover/{id}/ack")
async def handover_ack(request: web.Request) -> web.Response:
    session = _staff(request)
    h = await visible_handover(request, session)
    form = await request.post()
    try:
        await service(request).acknowledge(h.id, session.user,
                                           str(form.get("note", "")).strip(),
                                           datetime.now(UTC))
    except DutyError as exc:
        raise web.HTTPConflict(text=str(exc)) from None
    raise web.HTTPSeeOther(f"/duty/handover/{h.id}")


@routes.post("/duty/stand-in/{id}")
async def stand_in_move(request: web.Request) -> web.Response:
    """A B post works its away A post's ticket (003 AB岗: B岗工作人员应接替工作): a bare move,
    or in the loop 派单 (?action=dispatch) and 回访 (?action=follow-up), done for the A post."""
    session = _staff(request)
    duty = service(request)
    try:
        ticket_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound(text="no such ticket") from None
    _, open_tickets = await duty.stand_in(session.user)
    if ticket_id not in {t.id for t in open_tickets}:  # not even whether it exists
        raise web.HTTPNotFound(text="no such ticket among the A posts you stand in for")
    form = await request.post()
    action, now = request.query.get("action", "move"), datetime.now(UTC)

    def text(name: str, limit: int = 2000) -> str:
        return str(form.get(name, "")).strip()[:limit]

    try:
        if action == "dispatch":
            await duty.dispatch_for(session.user, ticket_id, now, text("unit", 200),
                                    [str(a).strip() for a in form.getall("assist", [])
                                     if str(a).strip()], text("instructions"),
                                    _urgency(text("urgent", 16)))
        elif action == "follow-up":
            await duty.follow_up_for(session.user, ticket_id, now, text("method", 8),
                                     form.get("reached") == "yes", text("grade", 8),
                                     text("opinion"))
        elif action == "move":
            await duty.work_for(session.user, ticket_id, _move_to(text("to", 16)),
                                text("reply"), now)
        else:
            raise web.HTTPBadRequest(text="action: move, dispatch or follow-up")
    except (DutyError, TicketError) as exc:
        raise web.HTTPConflict(text=str(exc)) from None
    raise web.HTTPSeeOther("/duty")


def _move_to(value: str) -> TicketStatus:
    try:
        return TicketStatus(value)
    except ValueError:
        raise web.HTTPBadRequest(text="to: in_progress or replied") from None


def _urgency(value: str) -> Urgency:
    try:
        return Urgency(value)
    except ValueError:
        raise web.HTTPBadRequest(text=f"urgent: one of {', '.join(Urgency)}") from None
