"""A write-only workbook whose plain rows are written as one XML element each: openpyxl's
write-only sheet makes a cell object for every value and writes it through a dozen Python
calls, which is most of the monthly ledger's time (100k calls of 16 columns). A row of
numbers, text, naive datetimes and empty cells is built here as the very XML openpyxl
writes for it (the same cell types, the same date style, the same number text); any other
row (a styled or quote-prefixed cell, a bool, an error code, a formula) is left to openpyxl
as before. Relies on openpyxl 3.1's write-only internals (the version is pinned; the test
compares the sheets cell by cell with openpyxl's own)."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.xml.functions import fromstring

MAX_TEXT = 32767  # a cell's text is cut there (openpyxl does the same)


class _Fallback(Exception):
    """A value this writer leaves to openpyxl."""


class FastRowsSheet(WriteOnlyWorksheet):  # type: ignore[misc]
    def __init__(self, parent: Workbook, title: str) -> None:
        super().__init__(parent, title)
        self._letters: list[str] = []
        self._date_style: str | None = None

    def _letter(self, column: int) -> str:
        while len(self._letters) <= column:
            self._letters.append(get_column_letter(len(self._letters) + 1))
        return self._letters[column]

    def _date_style_id(self) -> str:
        """The style openpyxl gives a datetime cell (its number format), registered once."""
        if self._date_style is None:
            self._date_style = str(WriteOnlyCell(self, value=datetime(2000, 1, 1)).style_id)
        return self._date_style

    def _row_element(self, values: Sequence[Any], row: int) -> Any:
        """The row's XML, as text (fast to join) parsed by lxml (in C) for the writer."""
        parts = [f'<row r="{row}">']
        for column, value in enumerate(values):
            if value is None:
                continue
            kind = type(value)
            ref = f"{self._letter(column)}{row}"
            if kind is str:
                text = value[:MAX_TEXT]
                if (not text or text in ERROR_CODES or (len(text) > 1 and text[0] == "=")
                        or "\r" in text or ILLEGAL_CHARACTERS_RE.search(text)):
                    raise _Fallback  # (an illegal character: openpyxl raises its error)
                space = ' xml:space="preserve"' if text != text.strip() else ""
                parts.append(f'<c r="{ref}" t="inlineStr"><is><t{space}>{escape(text)}</t>'
                             "</is></c>")
            elif kind is int or kind is float:
                parts.append(f'<c r="{ref}" t="n"><v>{_number(value)}</v></c>')
            elif kind is datetime and value.tzinfo is None and not self.parent.iso_dates:
                parts.append(f'<c r="{ref}" s="{self._date_style_id()}" t="n"><v>'
                             f"{_number(to_excel(value, self.parent.epoch))}</v></c>")
            else:
                raise _Fallback
        parts.append("</row>")
        return fromstring("".join(parts))

    def _write_rows(self) -> Generator[None, Sequence[Any], None]:
        """openpyxl's row loop (WriteOnlyWorksheet._write_rows), a plain row as one element."""
        xf = self._writer.xf.send(True)
        with xf.element("sheetData"):
            row = 1
            try:
                while True:
                    values = yield
                    try:
                        xf.write(self._row_element(values, row))
                    except _Fallback:
                        self._writer.write_row(xf, self._values_to_row(values, row), row)
                    row += 1
            except GeneratorExit:
                pass
        self._writer.xf.send(None)


def _number(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        raise _Fallback  # openpyxl writes these as empty values
    return f"{value:.16g}"


def fast_sheet(wb: Workbook, title: str) -> FastRowsSheet:
    """A new sheet of the write-only ``wb`` (as wb.create_sheet) that writes plain rows fast."""
    ws = FastRowsSheet(wb, title)
    wb._add_sheet(ws)
    return ws

