"""The ledger's fast rows (hotline/reports/xlsx_rows.py) write the very workbook openpyxl's
write-only sheet writes, byte for byte: numbers, text (padded, escaped, Chinese, too long,
with a carriage return), datetimes, empty cells; and the rows it leaves to openpyxl (a
bool, an error code, a formula, a styled or quote-prefixed cell, NaN, a date)."""

from __future__ import annotations

import io
import math
import zipfile
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils.exceptions import IllegalCharacterError

from hotline.reports.xlsx_rows import FastRowsSheet, fast_sheet

ROWS: list[list[Any]] = [
    [1, "abc", datetime(2026, 11, 3, 8, 0, 3, 120000), None, 2.5, " pad ", 0, -3],
    ["中文 <&> \"'", 1e20, 123456789012345678, 0.1 + 0.2, "x" * 40000, "\t"],
    ["a\r\nb"], [True, "plain"], ["#N/A", 1], ["=SUM(A1)", 2], [math.nan, 3],
    [date(2026, 1, 1), 4], [datetime(1999, 12, 31, 23, 59, 59, 999999), None, "tail"],
    ["", "x"],
]


def _book(fast: bool) -> dict[str, bytes]:
    wb = Workbook(write_only=True)
    for title in ("一", "二"):
        ws = fast_sheet(wb, title) if fast else wb.create_sheet(title)
        ws.append([WriteOnlyCell(ws, "header")])
        ws.append([_bold(ws), 1])
        for row in ROWS:
            ws.append(list(row))
        quoted = WriteOnlyCell(ws, "=1+1")
        quoted.data_type, quoted.quotePrefix = "s", True
        ws.append([quoted, datetime(2026, 1, 1)])
    out = io.BytesIO()
    wb.save(out)
    archive = zipfile.ZipFile(out)
    return {n: archive.read(n) for n in archive.namelist() if n != "docProps/core.xml"}


def _bold(ws: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, "bold")
    cell.font = Font(bold=True)
    return cell


def test_the_fast_rows_write_what_openpyxl_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[int] = []
    make = FastRowsSheet._row_xml

    def counted(ws: FastRowsSheet, values: Any, row: int) -> Any:
        element = make(ws, values, row)
        built.append(row)
        return element

    monkeypatch.setattr(FastRowsSheet, "_row_xml", counted)
    fast, plain = _book(fast=True), _book(fast=False)
    assert built == [3, 4, 11] * 2  # the plain rows; the rest were openpyxl's
    assert list(fast) == list(plain)
    assert [n for n in fast if fast[n] != plain[n]] == []
    assert b"&lt;&amp;&gt;" in fast["xl/worksheets/sheet1.xml"]


def test_an_illegal_character_is_openpyxls_error() -> None:
    ws = fast_sheet(Workbook(write_only=True), "x")
    with pytest.raises(IllegalCharacterError):
        ws.append(["bell \x07"])
