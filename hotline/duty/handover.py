"""The handover form's pre-fill (交接班记录): an operator's open tickets sorted into what the
next operator must pick up, and the missed calls still to call back. Pure: ticket rows and
callback-list entries in, the form's lists out."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hotline.privacy import mask_number

# the statuses waiting for the follow-up visit (回访); another status not closed is open work
FOLLOW_UP_STATUSES = frozenset({"replied", "follow_up"})
SECTIONS = {"messages": "留言", "callbacks": "待回复", "follow_ups": "待回访",
            "open": "在办工单", "missed": "漏接回拨"}
TICKET_SECTIONS = ("messages", "callbacks", "follow_ups", "open")


def section(kind: str, status: str) -> str:
    if status in FOLLOW_UP_STATUSES:
        return "follow_ups"
    if kind == "message":
        return "messages"
    if kind == "callback":
        return "callbacks"
    return "open"


def handover_items(tickets: Iterable[Any], now: datetime, zone: ZoneInfo
                   ) -> dict[str, list[dict[str, Any]]]:
    """Each ticket once, in the first section that fits; each with its due time (local) and
    whether it is past it: for one waiting for its follow-up visit (待回访), the visit's due
    time, else the reply's."""
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in TICKET_SECTIONS}
    for t in tickets:
        key = section(t.kind, t.status)
        visit = t.follow_up_due_at if key == "follow_ups" else None
        due, late = (visit, visit < now) if visit is not None else (
            t.due_at, key != "follow_ups" and t.due_at < now)
        out[key].append({
            "id": t.id, "kind": t.kind, "status": t.status, "summary": t.summary[:120],
            "due": due.astimezone(zone).strftime("%Y-%m-%d %H:%M"), "overdue": late})
    return out


def missed_items(entries: Iterable[Any], zone: ZoneInfo) -> list[dict[str, Any]]:
    """The callback list's open entries (hotline/domain/callbacks.py Entry) as handover
    rows, the oldest first: the caller's number masked (the form is kept), how often they
    were missed, and the last attempt's outcome."""
    def at(value: datetime) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    return [{"id": e.id, "number": mask_number(e.number), "missed": e.missed,
             "first": at(e.first_at), "last": at(e.last_at),
             "reasons": [str(r) for r in e.reasons], "attempts": len(e.attempts),
             "outcome": e.attempts[-1].outcome if e.attempts else ""} for e in entries]
