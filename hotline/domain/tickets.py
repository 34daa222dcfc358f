"""Callback tickets (回复, 投诉, 留言, 转办): kinds, deadlines, and the lifecycle.

open → assigned → in_progress → replied → follow_up (回访) → closed. Every move is an event
(who, when, why). A complaint is answered within 2 working days (003 文明服务制); an
extension (延期, 003 限时办结) needs a reason and an approver, and the caller must be told.
Pure logic: the store keeps the tickets, this says what may happen to them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hotline.errors import HotlineError


class TicketKind(enum.StrEnum):
    CALLBACK = "callback"  # 回复
    COMPLAINT = "complaint"  # 投诉
    MESSAGE = "message"  # 留言
    REFERRAL = "referral"  # 转办


DEFAULT_DAYS = {TicketKind.COMPLAINT: 2, TicketKind.CALLBACK: 1, TicketKind.MESSAGE: 1,
                TicketKind.REFERRAL: 5}

KIND_NAMES = {TicketKind.CALLBACK: "回复", TicketKind.COMPLAINT: "投诉",
              TicketKind.MESSAGE: "留言", TicketKind.REFERRAL: "转办"}


class TicketStatus(enum.StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    REPLIED = "replied"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"


S = TicketStatus
ALLOWED: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.OPEN: frozenset({S.ASSIGNED, S.IN_PROGRESS}),
    S.ASSIGNED: frozenset({S.ASSIGNED, S.IN_PROGRESS}),  # re-assigning is allowed
    S.IN_PROGRESS: frozenset({S.REPLIED, S.ASSIGNED}),
    S.REPLIED: frozenset({S.FOLLOW_UP, S.IN_PROGRESS}),  # the caller was not satisfied
    S.FOLLOW_UP: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.CLOSED: frozenset(),
}

# The complaint registration form (003 附录A 行政服务中心投诉登记表).
COMPLAINT_FIELDS = (
    "complainant_name", "complainant_gender", "complainant_ethnicity", "complainant_age",
    "complainant_address", "complainant_phone", "respondent_unit", "respondent_name",
    "channel", "request", "materials", "recorder", "result", "closing_state",
)
COMPLAINT_LABELS = tuple(zip(COMPLAINT_FIELDS, (
    "投诉人姓名", "性别", "民族", "年龄", "工作单位(家庭住址)", "联系电话", "被投诉单位",
    "被投诉人", "投诉方式", "投诉请求与事由", "投诉人提供材料", "记录人", "处理结果", "办结状态"),
    strict=True))
COMPLAINT_REQUIRED = ("complainant_name", "complainant_phone", "respondent_unit", "request")
# Kept beside the form when the attendant takes a complaint: the recording of the matter,
# and whether the caller asked for confidentiality (GB/T 33358 要求个人信息保密).
COMPLAINT_EXTRAS = ("recording", "recording_s", "confidential")
COMPLAINT_CHANNELS = ("现场投诉", "电话投诉", "书面投诉", "网上投诉")


@dataclass(frozen=True)
class NewTicket:
    kind: TicketKind
    by: str  # who raises it (job number)
    call_id: int | None = None
    summary: str = ""
    caller_name: str = ""
    callback_number: str = ""
    department: str = ""
    fields: dict[str, Any] = field(default_factory=dict)


class TicketError(HotlineError):
    """A ticket operation that the rules do not allow; says which rule."""


@dataclass(frozen=True)
class Move:
    to: TicketStatus
    by: str
    note: str = ""


def check_move(kind: TicketKind, current: TicketStatus, move: Move, *,
               assignee: str | None = None, satisfaction: int | None = None,
               reply: str = "") -> None:
    if not move.by:
        raise TicketError("every move needs who made it (job number)")
    if move.to not in ALLOWED[current]:
        allowed = ", ".join(sorted(ALLOWED[current])) or "nothing (closed)"
        raise TicketError(f"a {current} ticket cannot become {move.to}; allowed: {allowed}")
    if move.to is S.ASSIGNED and not assignee:
        raise TicketError("assigning needs an assignee")
    if move.to is S.REPLIED and not reply.strip():
        raise TicketError("a reply needs its text (what the caller was told)")
    if move.to is S.CLOSED and satisfaction is None:
        raise TicketError("closing needs the follow-up visit's satisfaction (1-5)")
    if satisfaction is not None and not 1 <= satisfaction <= 5:
        raise TicketError("satisfaction is 1 (very dissatisfied) to 5 (very satisfied)")


def check_complaint(fields: dict[str, str]) -> None:
    unknown = sorted(set(fields) - set(COMPLAINT_FIELDS) - set(COMPLAINT_EXTRAS))
    if unknown:
        raise TicketError(f"unknown complaint fields: {', '.join(unknown)}; the form has "
                          f"{', '.join(COMPLAINT_FIELDS)}")
    missing = [f for f in COMPLAINT_REQUIRED if not str(fields.get(f, "")).strip()]
    if missing:
        raise TicketError(f"the complaint form needs {', '.join(missing)}")
    channel = fields.get("channel", "电话投诉")
    if channel not in COMPLAINT_CHANNELS:
        raise TicketError(f"channel {channel!r}: one of {', '.join(COMPLAINT_CHANNELS)}")


def check_extension(reason: str, approver: str, requested_by: str, informed: bool) -> None:
    if not reason.strip():
        raise TicketError("an extension needs a reason (003 限时办结: 延期办结理由)")
    if not approver.strip():
        raise TicketError("an extension needs an approver")
    if approver == requested_by:
        raise TicketError("the approver of an extension cannot be the one who asks for it")
    if not informed:
        raise TicketError("the caller must be told of the extension (书面告知); say so with "
                          "--informed once they have been")


UNANSWERED = frozenset({S.OPEN, S.ASSIGNED, S.IN_PROGRESS})  # no reply yet


def is_overdue(status: TicketStatus, due_at: datetime, now: datetime) -> bool:
    """Overdue: not yet answered (replied or later) by the due time."""
    return status in UNANSWERED and now > due_at


def sees_caller(fields: dict[str, object], owner: str, user: str, supervising: bool,
                assignee: str | None = None) -> bool:
    """Who may see a ticket's caller details (name, number, the recording of their voice):
    supervisors and the ticket's owner; its assignee too unless the caller asked for
    confidentiality (GB/T 33358 要求个人信息保密)."""
    if supervising or user == owner:
        return True
    return user == assignee and not fields.get("confidential")
