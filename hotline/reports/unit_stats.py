"""Per handling unit, over a period (pure: the loop's events and follow-ups in, figures out,
a row at a time): on-time signing (签收及时率), on-time completion (按时办结率), the return
rate (退单率) and satisfaction (满意率, 基本满意 and better, of the callers reached).

- assigned: dispatches, re-dispatches and insists that named the unit;
- signed / on time: its 签收, not after the acceptance limit;
- returned: its 退单; the return rate is returned / assigned;
- replied / on time: its 答复 (a merged ticket's copy of the main one's is not counted),
  not after the completion deadline;
- followed up: follow-ups that reached the caller, of the unit's tickets; satisfied: graded
  基本满意 or better; the mean of the satisfaction (5 非常满意 … 1 非常不满意)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hotline.domain.loop.limits import SATISFIED_FROM

ASSIGNING = frozenset({"dispatched", "redispatched", "insisted"})
EVENT_KINDS = (*sorted(ASSIGNING), "signed", "returned", "replied")
COLUMNS = ("承办单位 unit", "派单 assigned", "签收 signed", "按时签收 signed on time",
           "签收及时率 on-time signing", "退单 returned", "退单率 return rate",
           "答复 replied", "按时答复 replied on time", "按时办结率 on-time completion",
           "回访 followed up", "满意 satisfied", "满意率 satisfaction", "满意度均值 mean")


@dataclass
class UnitFigures:
    assigned: int = 0
    signed: int = 0
    signed_on_time: int = 0
    returned: int = 0
    replied: int = 0
    replied_on_time: int = 0
    followed_up: int = 0
    satisfied: int = 0
    satisfaction_sum: int = 0


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else ""


class UnitStats:
    def __init__(self) -> None:
        self.units: dict[str, UnitFigures] = {}

    def _of(self, unit: str) -> UnitFigures:
        return self.units.setdefault(unit, UnitFigures())

    def add_event(self, kind: str, data: Mapping[str, Any], n: int = 1) -> None:
        """An event of the loop (``n`` alike: the SQL aggregate's count)."""
        unit = str(data.get("unit") or "")
        if not unit:
            return
        f = self._of(unit)
        on_time = 0 if data.get("late") else n
        if kind in ASSIGNING:
            f.assigned += n
        elif kind == "signed":
            f.signed += n
            f.signed_on_time += on_time
        elif kind == "returned":
            f.returned += n
        elif kind == "replied" and "main" not in data:
            f.replied += n
            f.replied_on_time += on_time

    def add_follow_up(self, unit: str, reached: bool, satisfaction: int | None,
                      n: int = 1) -> None:
        if not unit or not reached or satisfaction is None:
            return
        f = self._of(unit)
        f.followed_up += n
        f.satisfied += n if satisfaction >= SATISFIED_FROM else 0
        f.satisfaction_sum += satisfaction * n

    def rows(self) -> list[tuple[Any, ...]]:
        out = []
        for unit in sorted(self.units):
            f = self.units[unit]
            out.append((
                unit, f.assigned, f.signed, f.signed_on_time, share(f.signed_on_time, f.signed),
                f.returned, share(f.returned, f.assigned), f.replied, f.replied_on_time,
                share(f.replied_on_time, f.replied), f.followed_up, f.satisfied,
                share(f.satisfied, f.followed_up),
                round(f.satisfaction_sum / f.followed_up, 2) if f.followed_up else ""))
        return out
