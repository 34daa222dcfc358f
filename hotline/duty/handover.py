"""The handover form's pre-fill (交接班记录): an operator's open tickets sorted into what the
next operator must pick up. Pure: ticket rows in, the form's lists out."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

# the statuses waiting for the follow-up visit (回访); another status not closed is open work
FOLLOW_UP_STATUSES = frozenset({"replied", "follow_up"})
SECTIONS = {"messages": "留言", "callbacks": "待回复", "follow_ups": "待回访",
            "open": "在办工单"}


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
    whether it is past it."""
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in SECTIONS}
    for t in tickets:
        out[section(t.kind, t.status)].append({
            "id": t.id, "kind": t.kind, "status": t.status, "summary": t.summary[:120],
            "due": t.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            "overdue": t.due_at < now and t.status not in FOLLOW_UP_STATUSES})
    return out
