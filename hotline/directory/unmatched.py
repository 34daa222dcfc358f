"""What callers asked for that the directory has nothing registered for: the list the
directory keepers work through (`hotline directory unmatched`, the console's
/directory/unmatched). The same period and the same JSON for both."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hotline.store.calls_repo import UnmatchedQuery

DEFAULT_DAYS = 30  # without a start: the last 30 days, as the statistics
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # fromisoformat also takes 2026-W47-1


def since_day(value: str | None, zone: ZoneInfo, today: date | None = None) -> datetime:
    """Local midnight at the start of ``value`` (YYYY-MM-DD), or DEFAULT_DAYS before today.
    ValueError if ``value`` is not such a date."""
    if value is None or not value.strip():
        day = (today or datetime.now(zone).date()) - timedelta(days=DEFAULT_DAYS)
    else:
        text = value.strip()
        if not _DAY.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
        if not 1970 <= day.year <= 9998:  # in UTC, year 1 or 9999 may not exist
            raise ValueError(text)
    return datetime.combine(day, time.min, zone)


def unmatched_json(rows: list[UnmatchedQuery], since: datetime,
                   zone: ZoneInfo) -> dict[str, Any]:
    """The list with its start; times in the hotline's timezone. No caller numbers."""
    return {"since": since.date().isoformat(), "unmatched": [
        {"query": r.query, "count": r.count, "first_at": r.first_at.astimezone(zone).isoformat(),
         "last_at": r.last_at.astimezone(zone).isoformat()} for r in rows]}
