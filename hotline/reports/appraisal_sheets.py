"""The monthly ledger's appraisal (考核) and duty/attendance (值班考勤) sheets, written into
the ledger's write-only workbook (hotline/reports/ledger.py) through its text-safe rows."""

from __future__ import annotations

from typing import Any

from hotline.domain.appraisal import DAILY_PARTS, PART_NAMES
from hotline.reports.appraisal import MonthAppraisal

APPRAISAL_COLUMNS = (
    "工号 job", "姓名 name", "总分 total", "满意度 satisfaction", "日常考核 daily",
    *(f"{PART_NAMES[p]} {p}" for p in DAILY_PARTS),
    "接听 answered", "三声内 within 3 rings", "平均处理(秒) mean handle (s)",
    "评价数 ratings", "平均评价 mean rating", "在岗(小时) on duty (h)",
    "被投诉 complaints against", "忌语 phrases flagged", "一次办结率 first-contact resolution",
    "一次办结计数 counted")
ATTENDANCE_COLUMNS = ("工号 job", "日期 day", "在岗(小时) on duty (h)", "小休(小时) break (h)",
                      "首次上岗 first on", "最后离岗 last off", "状态变更 changes")


def write_sheets(book: Any, result: MonthAppraisal) -> None:
    """Both sheets, after the tickets and before the statistics (CPU work: off the loop)."""
    ws = book._sheet("考核", APPRAISAL_COLUMNS)
    for a in sorted(result.appraisals, key=lambda a: a.job_number):
        f = a.figures
        book._row(ws, (a.job_number, a.name, a.total, a.satisfaction, a.daily,
                       *(a.parts[p] for p in DAILY_PARTS), f["answered"],
                       f["within_three_rings"], f["mean_handle_s"], f["ratings"],
                       f["mean_rating"], f["duty_h"], f["complaints_against"],
                       f["phrases_flagged"], f["fcr"], f["fcr_counted"]))
    ws = book._sheet("值班考勤", ATTENDANCE_COLUMNS)
    tz = book.tz
    for d in sorted(result.attendance.days.values(), key=lambda d: (d.job_number, d.day)):
        book._row(ws, (d.job_number, d.day.isoformat(), d.on_duty_h,
                       round(d.break_s / 3600, 2),
                       d.first_on.astimezone(tz).replace(tzinfo=None) if d.first_on else None,
                       d.last_off.astimezone(tz).replace(tzinfo=None) if d.last_off else None,
                       d.changes))
