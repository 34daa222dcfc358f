"""The loop as a state machine whose methods are its events (as wazo-calld's transfer
state): each checks the stage and who acts, changes the ticket's loop state, and returns
the event to record. An event in the wrong stage, or by someone who may not make it, is a
TicketError saying why."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hotline.domain.loop.limits import (
    METHODS,
    SATISFIED_FROM,
    Limits,
    MatterKind,
    Urgency,
    grade_of,
)
from hotline.domain.tickets import TicketError, TicketStatus


class Stage(enum.StrEnum):
    NEW = ""  # not dispatched: the centre has it
    DISPATCHED = "dispatched"  # 待签收
    RETURNED = "returned"  # 退单: the supervisor re-dispatches or insists
    SIGNED = "signed"  # 办理中
    REPLIED = "replied"  # 待回访
    UNSATISFIED = "unsatisfied"  # 回访不满意: the supervisor sends it back or closes it
    MERGED = "merged"  # 并单: follows its main ticket
    CLOSED = "closed"


STAGE_NAMES = {Stage.NEW: "未派单", Stage.DISPATCHED: "待签收", Stage.RETURNED: "已退单",
               Stage.SIGNED: "办理中", Stage.REPLIED: "待回访", Stage.UNSATISFIED: "回访不满意",
               Stage.MERGED: "已并单", Stage.CLOSED: "已办结"}
STATUS_OF = {Stage.DISPATCHED: TicketStatus.ASSIGNED, Stage.RETURNED: TicketStatus.ASSIGNED,
             Stage.SIGNED: TicketStatus.IN_PROGRESS, Stage.REPLIED: TicketStatus.REPLIED,
             Stage.UNSATISFIED: TicketStatus.FOLLOW_UP, Stage.CLOSED: TicketStatus.CLOSED}
SUPERVISORS = ("supervisor", "admin")
CENTRE = ("operator", *SUPERVISORS)


@dataclass(frozen=True)
class Actor:
    id: str
    role: str  # operator | supervisor | admin | unit
    unit: str = ""  # a unit user's unit
    for_post: str = ""  # 顶岗: the away A post a B post acts for (hotline/duty)

    @property
    def supervising(self) -> bool:
        return self.role in SUPERVISORS

    def acts_for(self, owner: str) -> bool:
        """The ticket's owner, or the B post standing in for it (003 AB岗)."""
        return owner in (self.id, self.for_post or None)


@dataclass
class LoopState:
    """A ticket as the loop sees it (the store maps it to and from the row)."""

    id: int
    owner: str
    status: TicketStatus
    stage: Stage = Stage.NEW
    matter: MatterKind = MatterKind.REQUEST
    unit: str = ""
    assisting: list[str] = field(default_factory=list)
    urgency: Urgency = Urgency.NONE
    round: int = 0
    sign_due_at: datetime | None = None
    due_at: datetime | None = None
    follow_up_due_at: datetime | None = None
    extension: dict[str, Any] | None = None  # a request waiting for a supervisor
    extensions: int = 0
    merged_into: int | None = None
    satisfaction: int | None = None
    reply: str = ""


@dataclass(frozen=True)
class LoopEvent:
    kind: str  # dispatched, signed, returned, redispatched, insisted, extension_requested…
    by: str
    at: datetime
    from_status: str
    to_status: str
    data: dict[str, Any]


def _text(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise TicketError(f"{what} is needed")
    return value


class LoopMachine:
    def __init__(self, state: LoopState, limits: Limits) -> None:
        self.s = state
        self.limits = limits

    # -- helpers ------------------------------------------------------------------------------
    def _expect(self, *stages: Stage) -> None:
        if self.s.stage not in stages:
            names = " or ".join(f"{st.value or 'new'}" for st in stages)
            raise TicketError(f"ticket {self.s.id} is {self.s.stage.value or 'not dispatched'}"
                              f"; this needs it {names}")

    def _unit_only(self, actor: Actor) -> None:
        if actor.role != "unit" or actor.unit != self.s.unit:
            raise TicketError(f"only the lead unit {self.s.unit} may do this "
                              f"({actor.id} is {actor.role} {actor.unit})".rstrip())

    def _supervisor_only(self, actor: Actor) -> None:
        if not actor.supervising:
            raise TicketError(f"only a supervisor may do this ({actor.id} is {actor.role})")

    def _event(self, kind: str, actor: Actor, now: datetime, stage: Stage,
               **data: Any) -> LoopEvent:
        before = self.s.status
        self.s.stage = stage
        self.s.status = STATUS_OF.get(stage, self.s.status)
        if actor.for_post:  # done by the B post (``by``) on its A post's behalf
            data = {**data, "stand_in_for": actor.for_post,
                    "note": data.get("note") or f"顶岗 for {actor.for_post}"}
        return LoopEvent(kind, actor.id, now, before.value, self.s.status.value,
                         {k: v for k, v in data.items() if v not in (None, "", [])})

    def _send(self, unit: str, assisting: list[str], urgency: Urgency, now: datetime) -> None:
        unit = _text(unit, "the lead unit (主办单位)")
        assisting = [a.strip() for a in assisting if a.strip()]
        if unit in assisting:
            raise TicketError(f"{unit} cannot be both the lead and an assisting unit")
        self.s.unit, self.s.assisting, self.s.urgency = unit, assisting, urgency
        self.s.round += 1
        self.s.sign_due_at = self.limits.sign_due(now, urgency)

    # -- the events ---------------------------------------------------------------------------
    def dispatch(self, actor: Actor, now: datetime, unit: str, assisting: list[str],
                 instructions: str = "", urgency: Urgency = Urgency.NONE,
                 matter: MatterKind | None = None) -> LoopEvent:
        """派单, by the ticket's owner or a supervisor."""
        self._expect(Stage.NEW)
        if self.s.status is TicketStatus.CLOSED:
            raise TicketError(f"ticket {self.s.id} is closed")
        if not (actor.supervising or (actor.role in CENTRE and actor.acts_for(self.s.owner))):
            raise TicketError(f"only the ticket's owner ({self.s.owner}) or a supervisor "
                              "may dispatch it")
        self.s.matter = matter or self.s.matter
        self._send(unit, assisting, urgency, now)
        self.s.due_at = self.limits.reply_due(now, self.s.matter)
        return self._event("dispatched", actor, now, Stage.DISPATCHED, unit=self.s.unit,
                           assisting=self.s.assisting, instructions=instructions.strip(),
                           urgent=urgency.value, matter=self.s.matter.value,
                           sign_due=self._iso(self.s.sign_due_at),
                           due=self._iso(self.s.due_at))

    def sign(self, actor: Actor, now: datetime) -> LoopEvent:
        """签收, by the lead unit."""
        self._expect(Stage.DISPATCHED)
        self._unit_only(actor)
        late = self.s.sign_due_at is not None and now > self.s.sign_due_at
        return self._event("signed", actor, now, Stage.SIGNED, unit=self.s.unit,
                           late=late)

    def return_(self, actor: Actor, now: datetime, reason: str) -> LoopEvent:
        """退单, by the lead unit, within the acceptance limit, with a reason."""
        self._expect(Stage.DISPATCHED)
        self._unit_only(actor)
        reason = _text(reason, "the reason for returning it (退单理由)")
        if self.s.sign_due_at is not None and now > self.s.sign_due_at:
            raise TicketError(f"the acceptance limit ({self._iso(self.s.sign_due_at)}) has "
                              "passed: the ticket can only be signed for now")
        return self._event("returned", actor, now, Stage.RETURNED, unit=self.s.unit,
                           reason=reason)

    def redispatch(self, actor: Actor, now: datetime, unit: str, assisting: list[str],
                   instructions: str = "") -> LoopEvent:
        """改派, by a supervisor: a returned ticket (or one not yet signed) to another unit."""
        self._expect(Stage.RETURNED, Stage.DISPATCHED)
        self._supervisor_only(actor)
        before = self.s.unit
        self._send(unit, assisting, self.s.urgency, now)
        return self._event("redispatched", actor, now, Stage.DISPATCHED, unit=self.s.unit,
                           previous=before, assisting=self.s.assisting,
                           instructions=instructions.strip(),
                           sign_due=self._iso(self.s.sign_due_at))

    def insist(self, actor: Actor, now: datetime, note: str) -> LoopEvent:
        """The supervisor refuses the return: the same unit must sign for it."""
        self._expect(Stage.RETURNED)
        self._supervisor_only(actor)
        note = _text(note, "why the unit must handle it")
        self._send(self.s.unit, self.s.assisting, self.s.urgency, now)
        return self._event("insisted", actor, now, Stage.DISPATCHED, unit=self.s.unit,
                           note=note, sign_due=self._iso(self.s.sign_due_at))

    def request_extension(self, actor: Actor, now: datetime, days: int,
                          reason: str) -> LoopEvent:
        """延期申请, by the lead unit before the reply is due."""
        self._expect(Stage.SIGNED)
        self._unit_only(actor)
        reason = _text(reason, "the reason for the extension (延期办结理由)")
        if days < 1:
            raise TicketError("an extension is at least one working day")
        if self.s.extension is not None:
            raise TicketError("an extension request is already waiting for a supervisor")
        if self.s.due_at is not None and now > self.s.due_at:
            raise TicketError(f"the reply was due {self._iso(self.s.due_at)}: an extension "
                              "is asked for before the deadline")
        self.s.extension = {"days": days, "reason": reason, "by": actor.id}
        return self._event("extension_requested", actor, now, self.s.stage, days=days,
                           reason=reason)

    def decide_extension(self, actor: Actor, now: datetime, approve: bool,
                         informed: bool, note: str = "") -> LoopEvent:
        """A supervisor approves (the due time moves; the caller must have been told) or
        refuses the waiting request."""
        self._supervisor_only(actor)
        request = self.s.extension
        if request is None:
            raise TicketError(f"ticket {self.s.id} has no extension request waiting")
        if actor.id == request["by"]:
            raise TicketError("the approver of an extension cannot be the one who asks for it")
        if approve and not informed:
            raise TicketError("the caller must be told of the extension (书面告知) before it "
                              "is approved")
        self.s.extension = None
        before = self.s.due_at
        if approve and before is not None:
            self.s.due_at = self.limits.extended(before, int(request["days"]))
            self.s.extensions += 1
        return self._event("extension_approved" if approve else "extension_refused", actor,
                           now, self.s.stage, days=request["days"], reason=request["reason"],
                           caller_informed=informed, note=note.strip(),
                           due_before=self._iso(before) if approve else None,
                           due_after=self._iso(self.s.due_at) if approve else None)

    def reply(self, actor: Actor, now: datetime, text: str, sampled: bool) -> LoopEvent:
        """答复, by the lead unit. A ticket in the follow-up sample goes to its owner's queue,
        due the next working day; one outside it is closed."""
        self._expect(Stage.SIGNED)
        self._unit_only(actor)
        self.s.reply = _text(text, "the reply (答复内容)")
        self.s.extension = None
        late = self.s.due_at is not None and now > self.s.due_at
        if not sampled:
            return self._event("replied", actor, now, Stage.CLOSED, reply=self.s.reply,
                               unit=self.s.unit, late=late, follow_up="not sampled")
        self.s.follow_up_due_at = self.limits.follow_up_due(now)
        return self._event("replied", actor, now, Stage.REPLIED, reply=self.s.reply,
                           unit=self.s.unit, late=late,
                           follow_up_due=self._iso(self.s.follow_up_due_at))

    def follow_up(self, actor: Actor, now: datetime, method: str, reached: bool,
                  grade: str, opinion: str) -> LoopEvent:
        """回访, by the ticket's owner or a supervisor: not reached stays in the queue;
        satisfied (基本满意 or better) closes it; otherwise a supervisor decides."""
        if not (self.s.stage is Stage.NEW and self.s.status is TicketStatus.REPLIED):
            self._expect(Stage.REPLIED)  # (or one the centre answered itself)
        if not (actor.supervising or actor.acts_for(self.s.owner)):
            raise TicketError(f"the follow-up is the owner's ({self.s.owner}) or a "
                              "supervisor's")
        if method not in METHODS:
            raise TicketError(f"method {method!r}: one of {', '.join(METHODS)}")
        if not reached:
            return self._event("follow_up", actor, now, self.s.stage, method=method,
                               reached=False, opinion=opinion.strip())
        satisfaction = grade_of(grade)
        self.s.satisfaction = satisfaction
        stage = Stage.CLOSED if satisfaction >= SATISFIED_FROM else Stage.UNSATISFIED
        return self._event("follow_up", actor, now, stage, method=method, reached=True,
                           grade=grade, satisfaction=satisfaction, opinion=opinion.strip())

    def send_back(self, actor: Actor, now: datetime, reason: str) -> LoopEvent:
        """重办, by a supervisor: an unsatisfied ticket goes back to its unit, signed for,
        with a new reply deadline (one the centre answered itself: back to the centre, in
        progress, to be answered again or dispatched)."""
        self._expect(Stage.UNSATISFIED)
        self._supervisor_only(actor)
        reason = _text(reason, "what the unit must do again (重办理由)")
        self.s.round += 1
        self.s.due_at = self.limits.reply_due(now, self.s.matter)
        self.s.follow_up_due_at = None
        if not self.s.unit:
            e = self._event("sent_back", actor, now, Stage.NEW, reason=reason,
                            due=self._iso(self.s.due_at))
            self.s.status = TicketStatus.IN_PROGRESS
            return LoopEvent(e.kind, e.by, e.at, e.from_status, self.s.status.value, e.data)
        return self._event("sent_back", actor, now, Stage.SIGNED, unit=self.s.unit,
                           reason=reason, due=self._iso(self.s.due_at))

    def close(self, actor: Actor, now: datetime, note: str) -> LoopEvent:
        """A supervisor closes an unsatisfied ticket without 重办 (with why)."""
        self._expect(Stage.UNSATISFIED)
        self._supervisor_only(actor)
        return self._event("closed", actor, now, Stage.CLOSED,
                           note=_text(note, "why it closes unsatisfied"))

    def merge_into(self, actor: Actor, now: datetime, main: LoopState) -> LoopEvent:
        """并单, by a supervisor: this ticket follows ``main`` (its caller still gets the
        reply and the follow-up)."""
        self._supervisor_only(actor)
        if main.id == self.s.id:
            raise TicketError("a ticket cannot be merged into itself")
        if main.stage in (Stage.MERGED, Stage.CLOSED):
            raise TicketError(f"ticket {main.id} is {main.stage.value}: merge into an open one")
        self._expect(Stage.NEW, Stage.DISPATCHED, Stage.RETURNED, Stage.SIGNED)
        self.s.merged_into = main.id
        self.s.unit, self.s.assisting, self.s.due_at = main.unit, main.assisting, main.due_at
        self.s.matter = main.matter
        return self._event("merged", actor, now, Stage.MERGED, into=main.id)

    def follow_main(self, actor: Actor, now: datetime, main: LoopState,
                    sampled: bool) -> LoopEvent:
        """The main ticket was replied: a merged one takes its reply and goes to its own
        owner's follow-up queue (every caller is followed up)."""
        self._expect(Stage.MERGED)
        self.s.reply = main.reply
        self.s.follow_up_due_at = self.limits.follow_up_due(now) if sampled else None
        return self._event("replied", actor, now, Stage.REPLIED if sampled else Stage.CLOSED,
                           reply=main.reply, main=main.id,
                           follow_up_due=self._iso(self.s.follow_up_due_at))

    # -- 催办 --------------------------------------------------------------------------------
    def overdue_step(self, now: datetime) -> str | None:
        """The step overdue now, named so each is reminded of once: ``sign:R`` (not signed
        for by its acceptance limit) or ``reply:R`` (not replied by its deadline), R the
        dispatch round."""
        if (self.s.stage is Stage.DISPATCHED and self.s.sign_due_at is not None
                and now > self.s.sign_due_at):
            return f"sign:{self.s.round}"
        if self.s.stage is Stage.SIGNED and self.s.due_at is not None and now > self.s.due_at:
            return f"reply:{self.s.round}"
        return None

    @staticmethod
    def _iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None
