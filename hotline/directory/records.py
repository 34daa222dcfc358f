"""Directory entries and the CSV they come in, validated row by row.

The CSV is UTF-8 with the header ``id,name,aliases,industry,district,address,phone,
transfer_to``; ``aliases`` is ``|``-separated; ``transfer_to`` is an Asterisk dial string
matching the allowed pattern (HOTLINE_TRANSFER_PATTERN: by default the ``departments``
endpoint, with an optional number) or empty (not registered for transfer): a directory row
must not make a call dial an operator's seat, the carrier trunk or a Local channel into
another context. Every problem is reported with its line number.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from hotline.errors import HotlineError

HEADER = ("id", "name", "aliases", "industry", "district", "address", "phone", "transfer_to")
_PHONE = re.compile(r"^\+?[0-9][0-9\-]{2,19}$")
_DIAL = re.compile(r"^[A-Za-z0-9_]+/[^\s,]+$")
MAX_FIELD = 200
DEFAULT_TRANSFER_PATTERN = r"PJSIP/([0-9]{1,32}@)?departments"


@dataclass(frozen=True)
class Entry:
    id: str
    name: str
    aliases: tuple[str, ...] = ()
    industry: str = ""
    district: str = ""
    address: str = ""
    phone: str = ""
    transfer_to: str = ""

    @property
    def transferable(self) -> bool:
        return bool(self.transfer_to)


@dataclass
class CsvProblems(HotlineError):
    """Every bad row of a CSV, as (line, message)."""

    path: str
    problems: list[tuple[int, str]] = field(default_factory=list)

    def __str__(self) -> str:
        shown = "\n".join(f"  {self.path}:{line}: {msg}" for line, msg in self.problems[:20])
        more = len(self.problems) - 20
        tail = f"\n  ... and {more} more" if more > 0 else ""
        return f"{len(self.problems)} bad row(s), nothing imported:\n{shown}{tail}"


def parse_csv(data: bytes, path: str = "<csv>",
              transfer_pattern: str = DEFAULT_TRANSFER_PATTERN
              ) -> tuple[list[Entry], list[tuple[int, str]]]:
    allowed = re.compile(transfer_pattern)
    problems: list[tuple[int, str]] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return [], [(line, f"not UTF-8 (byte {exc.start}: {data[exc.start]:#04x})")]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return [], [(1, "empty file: expected the header " + ",".join(HEADER))]
    except csv.Error as exc:
        return [], [(1, f"unreadable header: {exc}")]
    if tuple(h.strip() for h in header) != HEADER:
        return [], [(1, f"header must be {','.join(HEADER)}; found {','.join(header)}")]
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append((reader.line_num, f"unreadable row: {exc}"))
            continue
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(HEADER):
            problems.append((line, f"expected {len(HEADER)} fields, found {len(row)}"))
            continue
        entry, problem = _entry(row, allowed)
        if problem:
            problems.append((line, problem))
            continue
        assert entry is not None
        if entry.id in seen:
            problems.append((line, f"id {entry.id!r} repeats line {seen[entry.id]}"))
            continue
        seen[entry.id] = line
        entries.append(entry)
    return entries, problems


def _entry(row: list[str], allowed: re.Pattern[str]) -> tuple[Entry | None, str]:
    v = [c.strip() for c in row]
    rid, name, aliases, industry, district, address, phone, transfer = v
    for column, value in zip(HEADER, v, strict=True):
        if len(value) > MAX_FIELD:
            return None, f"{column}: longer than {MAX_FIELD} characters"
        if any(ord(ch) < 32 for ch in value):
            return None, f"{column}: contains control characters"
    if not rid:
        return None, "id: empty"
    if not name:
        return None, "name: empty"
    if phone and not _PHONE.match(phone):
        return None, f"phone: {phone!r} is not a phone number"
    if not phone and not transfer:
        return None, "phone: empty (an entry needs a phone number or a transfer target)"
    if transfer and not _DIAL.match(transfer):
        return None, f"transfer_to: {transfer!r} is not an Asterisk dial string (TECH/resource)"
    if transfer and not allowed.fullmatch(transfer):
        return None, (f"transfer_to: {transfer!r} is not allowed (HOTLINE_TRANSFER_PATTERN: "
                      f"{allowed.pattern})")
    alias_list = tuple(a.strip() for a in aliases.split("|") if a.strip())
    return Entry(rid, name, alias_list, industry, district, address, phone, transfer), ""
