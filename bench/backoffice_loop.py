"""The loop's share of the back-office bench (bench/backoffice.py): 40 handling units, a unit
user, and for each ticket the loop state, events, follow-up visits and reminders the loop
(hotline/domain/loop/machine.py) would have left, written in bulk. Of every 20 tickets: 3
stay with the centre, 3 wait to be signed for, 1 was returned, 3 are being handled (one
signed late, one with an approved extension), 1 was returned and re-dispatched and is being
handled, 3 wait for their follow-up (one replied late), 5 were closed after a satisfied
follow-up (one reached at the second attempt) and 1 was graded unsatisfied. What is overdue
at ``now`` (not signed for, not replied) has its reminder (催办). Every 100th call has a
quality inspection."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from hotline.domain.loop.limits import matter_of
from hotline.domain.tickets import TicketKind
from hotline.store.database import Database
from hotline.store.loop_models import FollowUp, HandlingUnit, Reminder
from hotline.store.models import TicketEvent
from hotline.store.users_repo import Role, UserRepository

UNITS = [f"承办单位{i:02d}" for i in range(40)]
UNIT_USER, UNIT_PASSWORD = "unit01", "unit-pass-12345"
HOUR = timedelta(hours=1)


async def add_units(db: Database, at: datetime) -> None:
    async with db.unit() as s:
        await s.execute(insert(HandlingUnit), [
            {"name": name, "parent": "", "contact": "", "created_at": at} for name in UNITS])
    await UserRepository(db).add(UNIT_USER, Role.UNIT, UNIT_PASSWORD, unit=UNITS[0])


def _event(tid: int, at: datetime, by: str, kind: str, before: str, after: str,
           **data: Any) -> dict[str, Any]:
    return {"ticket_id": tid, "at": at, "by": by, "kind": kind, "from_status": before,
            "to_status": after, "data": data}


class LoopRows:
    """The rows that go with one batch of tickets (events, follow-ups, reminders)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.follow_ups: list[dict[str, Any]] = []
        self.reminders: list[dict[str, Any]] = []

    def ticket(self, n: int, t: dict[str, Any], now: datetime) -> None:
        """Ticket ``n`` (id n + 1; ``t`` its row, changed here) through the loop."""
        tid, at, owner = n + 1, t["created_at"], t["owner"]
        self.events.append(_event(tid, at, owner, "created", "", "open",
                                  due_at=t["due_at"].isoformat()))
        r = n % 20
        if r < 3:
            return
        unit = UNITS[(n // 20) % len(UNITS)]
        user = f"{unit}-1"
        matter = matter_of(TicketKind(t["kind"])).value
        sent, sign_due = at + HOUR, at + HOUR + timedelta(days=1)
        due = at + timedelta(days=15 if matter == "complaint" else 10)
        t.update(stage="dispatched", status="assigned", unit=unit, assignee=unit,
                 matter=matter, loop_round=1, sign_due_at=sign_due, due_at=due,
                 replied_at=None, closed_at=None, satisfaction=None)
        self.events.append(_event(tid, sent, owner, "dispatched", "open", "assigned",
                                  unit=unit, matter=matter, sign_due=sign_due.isoformat(),
                                  due=due.isoformat()))
        if r < 6:  # waiting to be signed for
            self._overdue(tid, t, "sign:1", sign_due, now)
            return
        back = sent + 2 * HOUR
        if r in (6, 11):
            self.events.append(_event(tid, back, user, "returned", "assigned", "assigned",
                                      unit=unit, reason="不属本单位职责"))
            if r == 6:
                t["stage"] = "returned"
                return
            first = unit
            unit, sign_due = UNITS[(n // 20 + 1) % len(UNITS)], back + HOUR + timedelta(days=1)
            user = f"{unit}-1"
            t.update(unit=unit, assignee=unit, loop_round=2, sign_due_at=sign_due)
            self.events.append(_event(tid, back + HOUR, "8001", "redispatched", "assigned",
                                      "assigned", unit=unit, previous=first,
                                      sign_due=sign_due.isoformat()))
        signed = at + (30 if r == 9 else 5) * HOUR
        t.update(stage="signed", status="in_progress")
        self.events.append(_event(tid, signed, user, "signed", "assigned", "in_progress",
                                  unit=unit, late=signed > sign_due))
        if r == 8:  # an extension asked for and approved
            t["due_at"], t["extensions"] = due + timedelta(days=5), 1
            self.events.append(_event(tid, signed + HOUR, user, "extension_requested",
                                      "in_progress", "in_progress", days=5, reason="需现场勘查"))
            self.events.append(_event(tid, signed + 2 * HOUR, "8001", "extension_approved",
                                      "in_progress", "in_progress", days=5, reason="需现场勘查",
                                      caller_informed=True, due_before=due.isoformat(),
                                      due_after=t["due_at"].isoformat()))
        if r < 12:  # being handled
            self._overdue(tid, t, f"reply:{t['loop_round']}", t["due_at"], now)
            return
        replied = at + timedelta(days=12 if r == 14 else 3)
        follow_due = replied + timedelta(days=1)
        t.update(stage="replied", status="replied", replied_at=replied, reply="已处理",
                 follow_up_due_at=follow_due)
        self.events.append(_event(tid, replied, user, "replied", "in_progress", "replied",
                                  reply="已处理", unit=unit, late=replied > t["due_at"],
                                  follow_up_due=follow_due.isoformat()))
        if r < 15:  # waiting for the follow-up
            return
        visit = replied + timedelta(hours=20)
        if r == 16:  # not reached at the first attempt
            self._visit(tid, t, visit - 2 * HOUR, None, "replied")
        grade, satisfaction = (("不满意", 2) if r == 19 else
                               (("非常满意", "满意", "基本满意")[n % 3], 5 - n % 3))
        t.update(stage="unsatisfied" if r == 19 else "closed",
                 status="follow_up" if r == 19 else "closed", satisfaction=satisfaction,
                 closed_at=None if r == 19 else visit)
        self._visit(tid, t, visit, (grade, satisfaction), t["status"])

    def _visit(self, tid: int, t: dict[str, Any], at: datetime,
               graded: tuple[str, int] | None, after: str) -> None:
        grade, satisfaction = graded or ("", None)
        self.follow_ups.append({
            "ticket_id": tid, "at": at, "by": t["owner"], "owner": t["owner"],
            "unit": t["unit"], "method": "电话", "reached": graded is not None, "grade": grade,
            "satisfaction": satisfaction, "opinion": ""})
        data: dict[str, Any] = {"method": "电话", "reached": graded is not None}
        if graded is not None:
            data |= {"grade": grade, "satisfaction": satisfaction}
        self.events.append(_event(tid, at, t["owner"], "follow_up", "replied", after, **data))

    def _overdue(self, tid: int, t: dict[str, Any], step: str, due: datetime,
                 now: datetime) -> None:
        if due >= now:
            return
        at = due + HOUR
        self.reminders.append({"ticket_id": tid, "step": step, "unit": t["unit"],
                               "owner": t["owner"], "due_at": due, "at": at, "by": "system"})
        self.events.append(_event(tid, at, "system", "reminded", t["status"], t["status"],
                                  step=step, unit=t["unit"], due=due.isoformat()))

    async def write(self, db: Database) -> None:
        async with db.unit() as s:
            for model, rows in ((TicketEvent, self.events), (FollowUp, self.follow_ups),
                                (Reminder, self.reminders)):
                for first in range(0, len(rows), 5000):
                    await s.execute(insert(model), rows[first:first + 5000])


def inspections(first_call: int, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A scored inspection of every 100th call of a batch (call ids from ``first_call``)."""
    return [{"call_id": first_call + i, "call_at": c["arrived_at"],
             "operator": c["answered_by"], "inspector": "8001",
             "at": c["ended_at"] + timedelta(days=1), "checklist": "通用",
             "score": 80 + (first_call + i) % 20,
             "results": {"greeting": {"title": "开头语", "result": "pass"}},
             "findings": {}, "remarks": "", "rectification": "", "follow_up": ""}
            for i, c in enumerate(calls) if (first_call + i) % 100 == 0]
