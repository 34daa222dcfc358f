"""Duty changes with the A/B guard, handovers, stand-in work (bare moves, and the loop's
派单 and 回访 on the A post's behalf) and the back-from-away notice:
one service the desk, the /duty pages and `hotline duty` share, each step audited."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hotline.callbacks.service import CallbackService
from hotline.domain.duty import (
    DutyChange,
    DutyError,
    PostGuard,
    backups_of,
    needs_confirmation,
    standing_in_for,
    uncovered_posts,
)
from hotline.domain.loop.limits import Urgency
from hotline.domain.loop.machine import Actor
from hotline.domain.seats import DutyState
from hotline.domain.tickets import Move, TicketStatus
from hotline.duty.handover import handover_items, missed_items
from hotline.duty.store import DutyLog
from hotline.store.loop_repo import LoopRepository
from hotline.store.models import Ticket
from hotline.store.operators_repo import OperatorRepository
from hotline.store.tickets_repo import TicketRepository
from hotline.store.users_repo import Role

Audit = Callable[[str, str, str, dict[str, Any]], Awaitable[None]]
# what a B post may do to its A post's open ticket while standing in
STAND_IN_MOVES = (TicketStatus.IN_PROGRESS, TicketStatus.REPLIED)


@dataclass(frozen=True)
class BackNotice:
    """What others did on an operator's tickets while they were away (003: the A post is
    told when it is back)."""

    away_at: datetime
    back_at: datetime
    done: list[dict[str, Any]]


def stand_in_actor(job_number: str, a_post: str) -> Actor:
    """A B post in the loop while standing in: an operator acting for its A post."""
    return Actor(job_number, Role.OPERATOR.value, for_post=a_post)


class DutyService:
    def __init__(self, log: DutyLog, operators: OperatorRepository, tickets: TicketRepository,
                 loop: LoopRepository, audit: Audit,
                 callbacks: CallbackService | None = None) -> None:
        self.log = log
        self.operators = operators
        self.tickets = tickets
        self.loop = loop
        self.audit = audit
        self.callbacks = callbacks  # the missed-call list, for the handover (None: not here)

    async def change(self, job_number: str, to: DutyState, by: str, now: datetime, *,
                     confirm: bool = False, note: str = "") -> DutyChange:
        """The duty change, logged and audited. PostGuard when an A post would leave its
        post with nobody on duty and ``confirm`` is not given; with it, the change is
        logged with guard "confirmed" and audited as such."""
        seats = await self.operators.seats()
        guarded = needs_confirmation(seats, job_number, to)
        if guarded and not confirm:
            raise PostGuard(job_number, backups_of(seats, job_number))
        change = await self.operators.set_duty(job_number, to, by=by, at=now, note=note,
                                               guard="confirmed" if guarded else "")
        await self.audit(by, "duty", job_number, {"duty": to.value,
                                                  "before": change.before.value})
        if guarded:
            await self.audit(by, "duty_post_uncovered", job_number,
                             {"duty": to.value, "backups": backups_of(seats, job_number)})
        return change

    async def uncovered(self) -> list[str]:
        return uncovered_posts(await self.operators.seats())

    # -- handover -----------------------------------------------------------------------------
    async def draft(self, job_number: str, now: datetime, zone: ZoneInfo) -> dict[str, Any]:
        """The handover form's pre-fill: the operator's open tickets, by what they are, and
        the missed calls still to call back (漏接回拨, the centre's list)."""
        items = handover_items(await self.log.open_tickets([job_number]), now, zone)
        items["missed"] = missed_items((await self.callbacks.current()).entries, zone) \
            if self.callbacks is not None else []
        return items

    async def hand_over(self, job_number: str, to: str, note: str, now: datetime,
                        zone: ZoneInfo) -> int:
        if to and to == job_number:
            raise DutyError("a handover goes to the next operator, not to oneself")
        if to:
            await self.operators.get(to)  # NotFoundError for a job number with no seat
        items = await self.draft(job_number, now, zone)
        handover_id = await self.log.add_handover(job_number, now, to, items, note[:2000])
        await self.audit(job_number, "handover", str(handover_id),
                         {"to": to, "tickets": sum(len(v) for v in items.values())})
        return handover_id

    async def acknowledge(self, handover_id: int, by: str, note: str, now: datetime) -> None:
        await self.log.acknowledge(handover_id, by, now, note[:2000])
        await self.audit(by, "handover_ack", str(handover_id), {})

    # -- A/B stand-in ------------------------------------------------------------------------
    async def stand_in(self, job_number: str) -> tuple[list[str], list[Ticket]]:
        """The A posts this seat stands in for now, and their open tickets."""
        posts = standing_in_for(await self.operators.seats(), job_number)
        return posts, (await self.log.open_tickets(posts) if posts else [])

    async def _standing(self, job_number: str, ticket_id: int) -> tuple[Ticket, str]:
        """The away A post's open ticket this B post may work now, and that A post."""
        posts, tickets = await self.stand_in(job_number)
        ticket = next((t for t in tickets if t.id == ticket_id), None)
        if ticket is None:
            raise DutyError(f"ticket {ticket_id} is not an open ticket of an A post "
                            f"{job_number} stands in for now")
        return ticket, ticket.owner if ticket.owner in posts else str(ticket.assignee)

    async def work_for(self, job_number: str, ticket_id: int, to: TicketStatus, reply: str,
                       now: datetime) -> str:
        """A B post moves its away A post's ticket (one not in the loop): the move is the
        B post's, its note says for whom (顶岗). Returns the A post."""
        if to not in STAND_IN_MOVES:
            raise DutyError(f"standing in, a ticket may become "
                            f"{' or '.join(STAND_IN_MOVES)}")
        ticket, a_post = await self._standing(job_number, ticket_id)
        if ticket.stage:
            raise DutyError(f"ticket {ticket_id} is in the loop ({ticket.stage}): standing "
                            "in, dispatch it or follow it up (回访) instead")
        await self.tickets.move(ticket_id, Move(to, job_number, f"顶岗 for {a_post}"), now,
                                reply=reply)
        await self.audit(job_number, "stand_in_move", str(ticket_id),
                         {"for": a_post, "to": to.value})
        return a_post

    async def dispatch_for(self, job_number: str, ticket_id: int, now: datetime, unit: str,
                           assisting: Sequence[str] = (), instructions: str = "",
                           urgency: Urgency = Urgency.NONE) -> str:
        """派单 of the away A post's ticket by its B post, through the loop: the event is the
        B post's (``by``), done for the A post (``stand_in_for``, the 顶岗 note)."""
        ticket, a_post = await self._standing(job_number, ticket_id)
        await self.loop.dispatch(ticket.id, stand_in_actor(job_number, a_post), now, unit,
                                 assisting, instructions, urgency)
        await self.audit(job_number, "stand_in_dispatch", str(ticket_id),
                         {"for": a_post, "unit": unit})
        return a_post

    async def follow_up_for(self, job_number: str, ticket_id: int, now: datetime,
                            method: str, reached: bool, grade: str, opinion: str) -> str:
        """回访 of the away A post's replied ticket by its B post, through the loop (a
        satisfied visit closes it), recorded as done for the A post."""
        ticket, a_post = await self._standing(job_number, ticket_id)
        e = await self.loop.follow_up(ticket.id, stand_in_actor(job_number, a_post), now,
                                      method, reached, grade, opinion)
        await self.audit(job_number, "stand_in_follow_up", str(ticket_id),
                         {"for": a_post, "to": e.to_status})
        return a_post

    async def back_notice(self, job_number: str) -> BackNotice | None:
        """While the operator is on duty again after being away: what others did on their
        tickets meanwhile (None if their last change was not a return to duty)."""
        history = await self.log.history(job_number=job_number, limit=50)
        if not history or history[-1].to is not DutyState.ON_DUTY:
            return None
        back = history[-1]
        if back.before is DutyState.ON_DUTY:
            return None
        away = next((c for c in reversed(history[:-1])
                     if c.before is DutyState.ON_DUTY), None)
        if away is None:
            return None
        done = [{"ticket": t.id, "at": e.at, "by": e.by, "kind": e.kind,
                 "to": e.to_status, "note": str(e.data.get("note", ""))}
                for e, t in await self.log.done_by_others(job_number, away.at, back.at)]
        return BackNotice(away.at, back.at, done)
