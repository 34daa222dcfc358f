"""The inspection ledger's sheet of the monthly workbook (巡查记录, 003 巡查制度 第六条: the
time, who, what was found, and the rectification and its follow-through)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hotline.inspection.checklist import RESULT_NAMES, Result

SHEET = "质检台账"
COLUMNS = ("编号 id", "来电 call", "来电时间 call time", "工号 operator", "质检员 inspector",
           "质检时间 inspected", "评分表 checklist", "得分 score", "各项 items",
           "发现问题 findings", "备注 remarks", "整改要求 rectification",
           "整改落实 follow-up", "落实时间 rectified", "落实确认人 confirmed by")


def _local(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    return value.astimezone(tz).replace(tzinfo=None) if value is not None else None


def items_text(results: dict[str, Any]) -> str:
    """'开头语…：合格；报工号…：不合格（未报工号）' in the checklist's order."""
    parts = []
    for r in results.values():
        name = RESULT_NAMES.get(Result(r.get("result", "na")), "")
        note = f"（{r['note']}）" if r.get("note") else ""
        parts.append(f"{r.get('title', '')}：{name}{note}")
    return "；".join(parts)


def findings_text(findings: dict[str, Any]) -> str:
    return "；".join(f"服务禁语“{f['phrase']}”@{float(f['offset_s']):.1f}s：{f['text']}"
                    for f in findings.get("forbidden", []))


def row(i: Any, tz: ZoneInfo) -> tuple[Any, ...]:
    """One inspection (a record or a row of the inspections table) as the sheet's row."""
    return (i.id, i.call_id, _local(i.call_at, tz), i.operator, i.inspector, _local(i.at, tz),
            i.checklist, i.score, items_text(i.results), findings_text(i.findings), i.remarks,
            i.rectification, i.follow_up, _local(i.rectified_at, tz), i.rectified_by or "")
