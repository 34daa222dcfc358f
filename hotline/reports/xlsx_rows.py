"""A write-only sheet whose plain rows are written fast: openpyxl's write-only sheet makes a
cell object for every value and writes it through a dozen Python calls, which was most of
the monthly ledger's time (100k calls of 16 columns). A row of numbers, text, naive
datetimes and empty cells is put here as the very XML openpyxl writes for it (the same cell
types, the same date style, the same number text), parsed by lxml a batch of rows at a time
and written as elements; any other row (a styled or quote-prefixed cell, a bool, an error
code, a formula) is left to openpyxl as before, in its place. Relies on openpyxl 3.1's
write-only internals (the version is pinned; the test compares the workbook byte for byte
with openpyxl's own)."""

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
COLUMNS = 40  # a wider row is left to openpyxl
BATCH = 200  # rows parsed at once


class _Fallback(Exception):
    """A value this writer leaves to openpyxl."""


class FastRowsSheet(WriteOnlyWorksheet):  # type: ignore[misc]
    def __init__(self, parent: Workbook, title: str) -> None:
        super().__init__(parent, title)
        self._letters = [get_column_letter(n) for n in range(1, COLUMNS + 1)]
        self._date_style: str | None = None

    def _date_style_id(self) -> str:
        """The style openpyxl gives a datetime cell (its number format), registered once."""
        if self._date_style is None:
            self._date_style = str(WriteOnlyCell(self, value=datetime(2000, 1, 1)).style_id)
        return self._date_style

    def _row_xml(self, values: Sequence[Any], row: int) -> str:
        """The row's XML as openpyxl writes it; _Fallback for a value left to openpyxl."""
        if len(values) > COLUMNS:
            raise _Fallback
        parts = [f'<row r="{row}">']
        letters = self._letters
        for column, value in enumerate(values):
            if value is None:
                continue
            kind = type(value)
            if kind is str:
                text = value[:MAX_TEXT]
                if (not text or text in ERROR_CODES or (len(text) > 1 and text[0] == "=")
                        or "\r" in text or ILLEGAL_CHARACTERS_RE.search(text)):
                    raise _Fallback  # (an illegal character: openpyxl raises its error)
                space = ' xml:space="preserve"' if text != text.strip() else ""
                if "&" in text or "<" in text or ">" in text:
                    text = escape(text)
                parts.append(f'<c r="{letters[column]}{row}" t="inlineStr"><is><t{space}>'
                             f"{text}</t></is></c>")
            elif kind is int or kind is float:
                parts.append(f'<c r="{letters[column]}{row}" t="n"><v>{_number(value)}</v></c>')
            elif kind is datetime and value.tzinfo is None and not self.parent.iso_dates:
                parts.append(f'<c r="{letters[column]}{row}" s="{self._date_style_id()}" t="n">'
                             f"<v>{_number(to_excel(value, self.parent.epoch))}</v></c>")
            else:
                raise _Fallback
        parts.append("</row>")
        return "".join(parts)

    def _write_rows(self) -> Generator[None, Sequence[Any], None]:
        """openpyxl's row loop (WriteOnlyWorksheet._write_rows), the plain rows parsed by
        lxml (in C) a batch at a time and written as elements."""
        xf = self._writer.xf.send(True)
        batch: list[str] = []

        def flush() -> None:
            if batch:
                for element in fromstring(f"<rows>{''.join(batch)}</rows>"):
                    xf.write(element)
                batch.clear()

        with xf.element("sheetData"):
            row = 1
            try:
                while True:
                    values = yield
                    try:
                        batch.append(self._row_xml(values, row))
                    except _Fallback:
                        flush()
                        self._writer.write_row(xf, self._values_to_row(values, row), row)
                    if len(batch) == BATCH:
                        flush()
                    row += 1
            except GeneratorExit:
                flush()
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

