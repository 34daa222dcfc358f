"""Each operator's mean inspection score for a month: what the monthly appraisal (考核, 004
篇5 第五条: 日常考核 of 服务质量) takes from quality inspection.

    from hotline.inspection.scores import monthly_scores
    scores = await monthly_scores(db, "2026-11", ZoneInfo("Asia/Shanghai"))
    scores["1001"].mean         # 0-100, one decimal: the mean of the month's scorecards
    scores["1001"].inspections  # how many calls of the month were inspected

The month is the calls' (when they arrived, in ``zone``), not the day they were inspected,
so a call inspected early in the next month still counts for the month it was taken. An
operator with no inspected call that month is absent from the mapping (not a zero)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from hotline.inspection.repo import InspectionRepository, OperatorScore
from hotline.reports.ledger import month_bounds
from hotline.store.database import Database

__all__ = ["OperatorScore", "monthly_scores"]


async def monthly_scores(db: Database, month: str, zone: ZoneInfo) -> dict[str, OperatorScore]:
    """Job number -> its mean inspection score for ``month`` (YYYY-MM; HotlineError else)."""
    start, end = month_bounds(month, zone)
    return await InspectionRepository(db).mean_scores(start, end)
