"""Deadlines in working days on the Chinese statutory calendar (003 限时办结, 文明服务制).

A matter received on day D is due at close of business on the N-th working day after D.
Working days are the statutory calendar's (weekends off, public holidays off, make-up
workdays 调休 on), with local overrides: extra days off and extra working days. Pure logic;
the statutory calendar comes in as a function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_MAX_SEARCH_DAYS = 400


def statutory_workday(day: date) -> bool:
    """The national calendar (chinese-calendar); outside its years, Monday to Friday."""
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


@dataclass(frozen=True)
class WorkCalendar:
    timezone: ZoneInfo
    close_of_business: time = time(17, 30)
    days_off: frozenset[date] = field(default_factory=frozenset)  # local holidays
    extra_workdays: frozenset[date] = field(default_factory=frozenset)
    statutory: Callable[[date], bool] = statutory_workday

    def is_workday(self, day: date) -> bool:
        if day in self.days_off:
            return False
        return day in self.extra_workdays or self.statutory(day)

    def nth_workday_after(self, day: date, n: int) -> date:
        if n < 0:
            raise ValueError("a number of working days cannot be negative")
        found = 0
        for step in range(1, _MAX_SEARCH_DAYS):
            d = day + timedelta(days=step)
            if self.is_workday(d):
                found += 1
                if found == n:
                    return d
        raise ValueError(f"no {n} working days within {_MAX_SEARCH_DAYS} days of {day}")

    def due_at(self, received: datetime, working_days: int) -> datetime:
        """Close of business on the N-th working day after the day ``received`` (local);
        with N = 0, close of business of that day (or the next working day)."""
        if received.tzinfo is None:
            received = received.replace(tzinfo=self.timezone)
        local = received.astimezone(self.timezone)
        if working_days == 0:
            day = local.date()
            while not self.is_workday(day):
                day += timedelta(days=1)
        else:
            day = self.nth_workday_after(local.date(), working_days)
        return datetime.combine(day, self.close_of_business, tzinfo=self.timezone)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end``."""
        return sum(self.is_workday(start + timedelta(days=i))
                   for i in range(1, (end - start).days + 1))


def parse_dates(values: Iterable[str], key: str) -> frozenset[date]:
    out = set()
    for v in values:
        v = v.strip()
        if not v:
            continue
        try:
            out.add(date.fromisoformat(v))
        except ValueError:
            raise ValueError(f"{key}: {v!r} is not an ISO date (YYYY-MM-DD)") from None
    return frozenset(out)
