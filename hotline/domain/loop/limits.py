"""The loop's time limits and grades: signing (签收) within minutes of clock time for an
urgent matter and one working day otherwise, the reply (答复) in working days by the kind
of matter, the follow-up (回访) the next working day, sampled by kind."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hotline.domain.tickets import TicketError, TicketKind
from hotline.domain.workdays import WorkCalendar


class MatterKind(enum.StrEnum):
    """诉求类型: what the caller asks, which sets the unit's working days to reply."""

    CONSULTATION = "consultation"  # 咨询
    REQUEST = "request"  # 求助
    SUGGESTION = "suggestion"  # 建议
    COMPLAINT = "complaint"  # 投诉
    REPORT = "report"  # 举报


MATTER_NAMES = {MatterKind.CONSULTATION: "咨询", MatterKind.REQUEST: "求助",
                MatterKind.SUGGESTION: "建议", MatterKind.COMPLAINT: "投诉",
                MatterKind.REPORT: "举报"}
REPLY_DAYS = {MatterKind.CONSULTATION: 2, MatterKind.REQUEST: 10, MatterKind.SUGGESTION: 10,
              MatterKind.COMPLAINT: 15, MatterKind.REPORT: 15}
FOLLOW_UP_SHARE = {MatterKind.CONSULTATION: 30, MatterKind.REQUEST: 30,
                   MatterKind.SUGGESTION: 30, MatterKind.COMPLAINT: 100, MatterKind.REPORT: 100}


def matter_of(kind: TicketKind) -> MatterKind:
    """The matter a ticket raised at the hotline is, unless the dispatcher says otherwise."""
    return MatterKind.COMPLAINT if kind is TicketKind.COMPLAINT else MatterKind.REQUEST


class Urgency(enum.StrEnum):
    """急件: signed for in minutes of clock time, whatever the day."""

    NONE = ""
    LIFE = "life"  # 危及生命财产安全
    UTILITY = "utility"  # 水电气暖


URGENCY_NAMES = {Urgency.NONE: "", Urgency.LIFE: "紧急(生命财产)",
                 Urgency.UTILITY: "紧急(水电气暖)"}

# 好差评's five grades, best first, and the satisfaction (5..1) each is kept as.
GRADES = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
SATISFACTION = {g: 5 - i for i, g in enumerate(GRADES)}
SATISFIED_FROM = 3  # 基本满意 and better close the ticket
METHODS = ("电话", "走访", "短信")


@dataclass(frozen=True)
class Limits:
    calendar: WorkCalendar
    urgent_minutes: dict[Urgency, int] = field(default_factory=lambda: {
        Urgency.LIFE: 15, Urgency.UTILITY: 30})
    sign_workdays: int = 1
    reply_days: dict[MatterKind, int] = field(default_factory=lambda: dict(REPLY_DAYS))
    follow_up_share: dict[MatterKind, int] = field(
        default_factory=lambda: dict(FOLLOW_UP_SHARE))

    def sign_due(self, dispatched: datetime, urgency: Urgency) -> datetime:
        if urgency is not Urgency.NONE:
            return dispatched + timedelta(minutes=self.urgent_minutes[urgency])
        return self.calendar.due_at(dispatched, self.sign_workdays)

    def reply_due(self, start: datetime, matter: MatterKind) -> datetime:
        return self.calendar.due_at(start, self.reply_days[matter])

    def follow_up_due(self, replied: datetime) -> datetime:
        return self.calendar.due_at(replied, 1)

    def extended(self, due: datetime, working_days: int) -> datetime:
        local = due.astimezone(self.calendar.timezone)
        day = self.calendar.nth_workday_after(local.date(), working_days)
        return due + timedelta(days=(day - local.date()).days)

    def sampled(self, ticket_id: int, matter: MatterKind) -> bool:
        """Whether this ticket is in the follow-up sample: a share of 100 takes every one;
        otherwise an even spread over ticket numbers (the same answer every time)."""
        share = self.follow_up_share[matter]
        return share >= 100 or (ticket_id * 2654435761) % 4294967296 % 100 < share


def parse_by_matter(value: str, key: str, low: int, high: int) -> dict[MatterKind, int]:
    """``complaint=15,request=10`` -> the defaults with those replaced; ValueError names the
    bad part."""
    out: dict[MatterKind, int] = {}
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        name, sep, number = part.partition("=")
        try:
            matter = MatterKind(name.strip())
            n = int(number)
        except ValueError:
            raise ValueError(f"{key}: {part!r}: expected KIND=NUMBER, KIND one of "
                             f"{', '.join(m.value for m in MatterKind)}") from None
        if not sep or not low <= n <= high:
            raise ValueError(f"{key}: {part!r}: the number is {low}..{high}")
        out[matter] = n
    return out


def parse_urgent(value: str, key: str) -> dict[Urgency, int]:
    """``life=15,utility=30`` -> minutes to sign for an urgent matter of each kind."""
    out = {Urgency.LIFE: 15, Urgency.UTILITY: 30}
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        name, _, number = part.partition("=")
        try:
            urgency = Urgency(name.strip())
            minutes = int(number)
        except ValueError:
            urgency, minutes = Urgency.NONE, 0
        if urgency is Urgency.NONE or not 1 <= minutes <= 1440:
            raise ValueError(f"{key}: {part!r}: expected life=MINUTES or utility=MINUTES "
                             "(1..1440)")
        out[urgency] = minutes
    return out


def grade_of(value: str) -> int:
    if value not in SATISFACTION:
        raise TicketError(f"satisfaction {value!r}: one of {', '.join(GRADES)}")
    return SATISFACTION[value]
