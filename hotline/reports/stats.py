"""Statistics of a period's calls and tickets (pure: rows in, figures out), gathered a row at
a time so that a year of calls is read in chunks, never held whole. The monthly ledger's
statistics sheet and the supervisor console show the same figures."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

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
    waits: list[float] = field(default_factory=list, repr=False)

    def add_call(self, c: Any) -> None:
        self.calls += 1
        if c.answered_at is not None:
            self.answered += 1
            self.within_three_rings += 1 <= (c.rings or 0) <= 3
            self.waits.append((c.answered_at - c.arrived_at).total_seconds())
            self.by_operator[c.answered_by or "-"] += 1
        self.dispositions[c.disposition or "in progress"] += 1
        self.categories[c.category or "未分类"] += 1
        if c.satisfaction is not None:
            self.rated += 1
            self.satisfaction[c.satisfaction] += 1

    def add_ticket(self, t: Any, now: datetime) -> None:
        self.tickets += 1
        self.tickets_by_kind[t.kind] += 1
        self.tickets_by_status[t.status] += 1
        self.overdue += is_overdue(TicketStatus(t.status), t.due_at, now)
        self.answered_late += t.replied_at is not None and t.replied_at > t.due_at
        self.extended += t.extensions > 0

    def finish(self) -> PeriodStats:
        """The figures over everything added (the median, the mean)."""
        self.median_wait_s = round(statistics.median(self.waits), 2) if self.waits else None
        self.satisfaction_mean = round(sum(k * v for k, v in self.satisfaction.items())
                                       / self.rated, 2) if self.rated else None
        return self

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


def period_stats(calls: Iterable[Any], tickets: Iterable[Any], now: datetime) -> PeriodStats:
    s = PeriodStats()
    for c in calls:
        s.add_call(c)
    for t in tickets:
        s.add_ticket(t, now)
    return s.finish()


@dataclass
class ConsoleStats:
    """The supervisor console's figures on top of the ledger's: calls per hour and per day,
    handling time, first-contact resolution and satisfaction by operator. The console fills
    it with SQL aggregates (hotline/reports/stats_sql.py); ``add_call`` is the same a row at
    a time."""

    zone: ZoneInfo
    period: PeriodStats = field(default_factory=PeriodStats)
    per_hour: Counter[int] = field(default_factory=Counter)
    per_day: Counter[str] = field(default_factory=Counter)
    handle_s: float = 0.0
    handled: int = 0
    resolved_first: int = 0
    rating_sums: Counter[str] = field(default_factory=Counter)  # by operator
    rating_counts: Counter[str] = field(default_factory=Counter)
    told_calls: int = 0  # calls on which the operator marked items 已一次性告知
    told_items: int = 0

    def add_call(self, c: Any) -> None:
        self.period.add_call(c)
        local = c.arrived_at.astimezone(self.zone)
        self.per_hour[local.hour] += 1
        self.per_day[local.date().isoformat()] += 1
        if c.answered_at and c.ended_at:
            self.handle_s += (c.ended_at - c.answered_at).total_seconds()
            self.handled += 1
        if c.satisfaction is not None and c.answered_by:
            self.rating_sums[c.answered_by] += c.satisfaction
            self.rating_counts[c.answered_by] += 1
        self.resolved_first += c.disposition in ("resolved", "referred")

    def figures(self) -> dict[str, Any]:
        s = self.period.finish()
        return {
            "calls": s.calls, "answered": s.answered,
            "answered_within_three_rings": (s.within_three_rings / s.answered) if s.answered
            else None,
            "abandoned": s.dispositions.get("abandoned", 0),
            "silent": s.dispositions.get("silent", 0),
            "average_handle_s": round(self.handle_s / self.handled, 1) if self.handled
            else None,
            "first_contact_resolution": (self.resolved_first / s.answered) if s.answered
            else None,
            "satisfaction_mean": s.satisfaction_mean,
            "satisfaction_by_operator": {k: round(self.rating_sums[k] / n, 2)
                                         for k, n in self.rating_counts.items()},
            "complaints": s.tickets_by_kind.get("complaint", 0),
            "tickets": s.tickets, "overdue_tickets": s.overdue,
            "dispositions": dict(s.dispositions), "categories": dict(s.categories),
            "per_hour": {str(h): self.per_hour.get(h, 0) for h in range(24)},
            "per_day": dict(sorted(self.per_day.items())),
            "told_calls": self.told_calls, "told_items": self.told_items,
            "rows": [*s.rows(), ("一次性告知来电 calls told all at once", self.told_calls),
                     ("一次性告知事项 items told", self.told_items)],
        }
