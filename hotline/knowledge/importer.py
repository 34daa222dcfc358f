"""`hotline knowledge import FILE`: a YAML file (a list of items, or ``items:`` holding one)
or an XLSX workbook (the first sheet: a header row of field names, English or Chinese, then
one item a row; lists one entry a line or separated by ；). Everything is validated before
anything is written, and the write is one transaction: all the items or none."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from hotline.knowledge.items import HEADERS, LABELS, Item, ItemProblems, Problem, parse_items
from hotline.knowledge.store import KnowledgeStore, Saved


def read_rows(path: Path) -> list[tuple[str, Any]]:
    """(where, raw mapping) for each item of the file; ItemProblems if it cannot be read."""
    source = str(path)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            return _xlsx_rows(path)
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ItemProblems(source, [Problem("file", "-", f"cannot read: {exc.strerror}")]) \
            from None
    except UnicodeDecodeError:
        raise ItemProblems(source, [Problem("file", "-", "not UTF-8 text")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "file"
        raise ItemProblems(source, [Problem(where, "-", f"not valid YAML: "
                                                        f"{getattr(exc, 'problem', exc)}")]) \
            from None
    if isinstance(data, dict) and "items" in data:
        data = data["items"]
    if not isinstance(data, list):
        raise ItemProblems(source, [Problem("file", "-", "expected a list of items "
                                                         "(or 'items:' holding one)")])
    rows: list[tuple[str, Any]] = []
    for n, raw in enumerate(data, 1):
        label = raw.get("id") if isinstance(raw, dict) else None
        rows.append((f"item {n}" + (f" ({label})" if label else ""), raw))
    return rows


def _xlsx_rows(path: Path) -> list[tuple[str, Any]]:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError) as exc:
        raise ItemProblems(str(path), [Problem("file", "-", f"not an XLSX workbook ({exc})")]) \
            from None
    try:
        sheet = wb.worksheets[0]
        it = sheet.iter_rows(values_only=True)
        header = next(it, None)
        if header is None:
            raise ItemProblems(str(path), [Problem("row 1", "-", "no header row")])
        names: list[str | None] = []
        problems: list[Problem] = []
        for col, h in enumerate(header, 1):
            name = None if h is None else str(h).strip()
            if name:
                name = HEADERS.get(name, name)
                if name not in LABELS:
                    problems.append(Problem("row 1", name, f"unknown column {col}"))
            names.append(name or None)
        if problems:
            raise ItemProblems(str(path), problems)
        rows: list[tuple[str, Any]] = []
        for n, values in enumerate(it, 2):
            if all(v is None or str(v).strip() == "" for v in values):
                continue
            raw = {k: v for k, v in zip(names, values, strict=False) if k}
            rows.append((f"row {n}", raw))
        return rows
    finally:
        wb.close()


async def import_file(store: KnowledgeStore, path: Path, by: str, now: datetime
                      ) -> tuple[list[Item], Saved]:
    """Validate then save every item of ``path``; ItemProblems (nothing written) if any
    row is wrong."""
    rows = await asyncio.to_thread(read_rows, path)
    items = parse_items(rows, str(path))
    return items, await store.save(items, by, path.name, now)
