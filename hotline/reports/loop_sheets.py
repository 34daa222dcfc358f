"""The ledger's sheets of the loop with the handling units: the complaint register
(投诉登记, 003 附录A's fields), the follow-up visits (回访) and the per-unit figures
(承办单位, as LoopRepository.unit_stats counts them in SQL). Rows are appended as the
chunks come (write-only sheets), through the ledger's own row writer, so a cell beginning
with = + - @ is text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hotline.domain.tickets import COMPLAINT_LABELS, TicketKind
from hotline.reports.unit_stats import COLUMNS as UNIT_COLUMNS
from hotline.reports.unit_stats import UnitStats

COMPLAINT_COLUMNS = ("编号 id", "登记时间 registered", *(label for _, label in COMPLAINT_LABELS),
                     "承办单位 unit", "状态 status", "答复 reply")
FOLLOW_UP_COLUMNS = ("工单 ticket", "回访时间 at", "回访人 by", "首问责任人 owner",
                     "承办单位 unit", "方式 method", "联系上 reached", "评价 grade",
                     "满意度 satisfaction", "意见 opinion")

Sheet = Callable[[str, tuple[str, ...]], Any]
RowWriter = Callable[[Any, tuple[Any, ...]], None]


def _local(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    return value.astimezone(tz).replace(tzinfo=None) if value is not None else None


class LoopSheets:
    def __init__(self, sheet: Sheet, row: RowWriter, tz: ZoneInfo) -> None:
        self.sheet, self.row, self.tz = sheet, row, tz
        self.complaints: Any = None
        self.follow_ups: Any = None
        self.units = UnitStats()  # the month's figures, counted in SQL (LoopRepository)

    def open_complaints(self) -> None:
        if self.complaints is None:
            self.complaints = self.sheet("投诉登记", COMPLAINT_COLUMNS)

    def add_ticket(self, t: Any) -> None:
        if t.kind != TicketKind.COMPLAINT.value:
            return
        fields = t.fields or {}
        self.row(self.complaints, (
            t.id, _local(t.created_at, self.tz),
            *(str(fields.get(name, "")) for name, _ in COMPLAINT_LABELS),
            t.unit or "", t.status, t.reply))

    def add_follow_ups(self, rows: list[Any]) -> None:
        if self.follow_ups is None:
            self.follow_ups = self.sheet("回访", FOLLOW_UP_COLUMNS)
        for f in rows:
            self.row(self.follow_ups, (
                f.ticket_id, _local(f.at, self.tz), f.by, f.owner, f.unit, f.method,
                "是" if f.reached else "否", f.grade, f.satisfaction, f.opinion))

    def finish(self) -> None:
        """The sheets not written yet (an empty month has them too), then the units'."""
        self.open_complaints()
        if self.follow_ups is None:
            self.add_follow_ups([])
        ws = self.sheet("承办单位", UNIT_COLUMNS)
        for values in self.units.rows():
            self.row(ws, values)
