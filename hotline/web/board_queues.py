"""What the ticket board shows beside the tickets: the follow-up queue (回访, the owner's;
every one for supervisors) and the reminders (催办) of the tickets one owns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from hotline.domain.tickets import KIND_NAMES, TicketKind
from hotline.store.users_repo import Role
from hotline.web.keys import SERVICES
from hotline.web.sessions import Session


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if value else ""


async def board_queues(request: web.Request, session: Session) -> dict[str, Any]:
    if session.role == Role.UNIT:
        return {"follow_ups": [], "reminders": []}
    services = request.app[SERVICES]
    zone = ZoneInfo(services.timezone)
    mine = None if session.role in (Role.SUPERVISOR, Role.ADMIN) else session.user
    now = datetime.now(UTC)
    queue = await services.loop.tickets(owner=mine, follow_up=True)
    return {
        "follow_ups": [{"id": t.id, "kind": KIND_NAMES[TicketKind(t.kind)], "unit": t.unit,
                        "owner": t.owner, "summary": t.summary,
                        "due": _local(t.follow_up_due_at, zone),
                        "late": t.follow_up_due_at is not None and now > t.follow_up_due_at}
                       for t in queue],
        "reminders": [{"ticket": r.ticket_id, "step": r.step, "unit": r.unit,
                       "due": _local(r.due_at, zone), "at": _local(r.at, zone)}
                      for r in await services.loop.reminders(owner=mine)]}
