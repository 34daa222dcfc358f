"""Statistics of a period's calls and tickets (pure: rows in, figures out). The monthly
ledger's statistics sheet and the supervisor console show the same figures."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hotline.domain.tickets import TicketStatus, is_overdue


@dataclass
class PeriodStats:
    calls: int = 0
    answered: int = 0
    within_three_rings: int = 0
    median_wait_s: float | None = None
    dispositions: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)
    rated: int = 0
    satisfaction_mean: float | None = None
    satisfaction: Counter[int] = field(default_factory=Counter)
    by_operator: Counter[str] = field(default_factory=Counter)
    tickets: int = 0
    tickets_by_kind: Counter[str] = field(default_factory=Counter)
    tickets_by_status: Counter[str] = field(default_factory=Counter)
    overdue: int = 0
    answered_late: int = 0
    extended: int = 0

    def rows(self) -> list[tuple[str, Any]]:
        pct = (f"{self.within_three_rings / self.answered:.1%}" if self.answered else "-")
        out: list[tuple[str, Any]] = [
            ("来电总数 calls", self.calls), ("接通 answered", self.answered),
            ("三声内接听 answered within 3 rings", pct),
            ("等待中位数(秒) median wait (s)", self.median_wait_s),
            ("评价数 rated", self.rated), ("满意度均值 mean satisfaction",
                                        self.satisfaction_mean),
            ("工单总数 tickets", self.tickets), ("超期 overdue", self.overdue),
            ("逾期答复 answered late", self.answered_late), ("延期 extended", self.extended)]
        out += [(f"结果 disposition: {k}", v) for k, v in sorted(self.dispositions.items())]
        out += [(f"类别 category: {k}", v) for k, v in sorted(self.categories.items())]
        out += [(f"满意度 rating {k}", v) for k, v in sorted(self.satisfaction.items())]
        out += [(f"话务员 operator {k}", v) for k, v in sorted(self.by_operator.items())]
        out += [(f"工单类型 ticket kind: {k}", v) for k, v in sorted(self.tickets_by_kind.items())]
        out += [(f"工单状态 ticket status: {k}", v)
                for k, v in sorted(self.tickets_by_status.items())]
        return out


def period_stats(calls: list[Any], tickets: list[Any], now: datetime) -> PeriodStats:
    s = PeriodStats(calls=len(calls))
    waits = []
    for c in calls:
        if c.answered_at is not None:
            s.answered += 1
            s.within_three_rings += 1 <= (c.rings or 0) <= 3
            waits.append((c.answered_at - c.arrived_at).total_seconds())
            s.by_operator[c.answered_by or "-"] += 1
        s.dispositions[c.disposition or "in progress"] += 1
        s.categories[c.category or "未分类"] += 1
        if c.satisfaction is not None:
            s.rated += 1
            s.satisfaction[c.satisfaction] += 1
    if waits:
        s.median_wait_s = round(statistics.median(waits), 2)
    if s.rated:
        s.satisfaction_mean = round(sum(k * v for k, v in s.satisfaction.items()) / s.rated, 2)
    s.tickets = len(tickets)
    for t in tickets:
        s.tickets_by_kind[t.kind] += 1
        s.tickets_by_status[t.status] += 1
        s.overdue += is_overdue(TicketStatus(t.status), t.due_at, now)
        s.answered_late += t.replied_at is not None and t.replied_at > t.due_at
        s.extended += t.extensions > 0
    return s
