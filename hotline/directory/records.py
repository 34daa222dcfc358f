"""Directory entries and the CSV they come in, validated row by row.

The CSV is UTF-8 with the header ``id,name,aliases,industry,district,address,phone,
transfer_to`` and optionally ``hot`` after them; ``aliases`` is ``|``-separated;
``transfer_to`` is an Asterisk dial string or empty (not registered for transfer); ``hot``
(1/0, yes/no, true/false, 是/否, or empty for no) marks what callers ask for most, for the
recogniser's vocabulary. A line starting with ``#`` outside a quoted field is a comment.
``transfer_to`` must match the allowed pattern
(HOTLINE_TRANSFER_PATTERN: by default the ``departments`` endpoint, with an optional number):
a directory row must not make a call dial an operator's seat, the carrier trunk or a Local
channel into another context. Every problem is reported with its line number in the file,
comments counted.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from hotline.errors import HotlineError

HEADER = ("id", "name", "aliases", "industry", "district", "address", "phone", "transfer_to")
OPTIONAL = ("hot",)  # may follow HEADER
_YES = frozenset({"1", "yes", "true", "是"})
_NO = frozenset({"", "0", "no", "false", "否"})
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
    hot: bool = False  # among what callers ask for most (the recogniser is told of it)

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


class _Lines:
    """The file's lines for the csv reader, a comment line (``#`` first, at the start of a
    record) given as an empty line so that the reader's line numbers stay the file's."""

    def __init__(self, text: str) -> None:
        self._lines = iter(io.StringIO(text, newline=""))
        self.at_record = True  # the reader's next line starts a record (the caller says)

    def __iter__(self) -> Iterator[str]:
        for line in self._lines:
            if self.at_record and line.startswith("#"):
                yield "\n"
                continue
            self.at_record = False
            yield line


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
    lines = _Lines(text)
    reader = csv.reader(lines)
    expected = ",".join(HEADER) + "[," + ",".join(OPTIONAL) + "]"
    header: list[str] = []
    try:
        while not any(c.strip() for c in header):  # comments and blank lines first
            header = next(reader)
            lines.at_record = True
    except StopIteration:
        return [], [(reader.line_num or 1, "empty file: expected the header " + expected)]
    except csv.Error as exc:
        return [], [(reader.line_num, f"unreadable header: {exc}")]
    columns = tuple(h.strip() for h in header)
    if columns[:len(HEADER)] != HEADER or columns[len(HEADER):] not in \
            {OPTIONAL[:n] for n in range(len(OPTIONAL) + 1)}:
        return [], [(reader.line_num, f"header must be {expected}; found {','.join(header)}")]
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append((reader.line_num, f"unreadable row: {exc}"))
            lines.at_record = True
            continue
        lines.at_record = True
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(columns):
            problems.append((line, f"expected {len(columns)} fields, found {len(row)}"))
            continue
        entry, problem = _entry(dict(zip(columns, row, strict=True)), allowed)
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


def _entry(row: dict[str, str], allowed: re.Pattern[str]) -> tuple[Entry | None, str]:
    v = {k: c.strip() for k, c in row.items()}
    for column, value in v.items():
        if len(value) > MAX_FIELD:
            return None, f"{column}: longer than {MAX_FIELD} characters"
        if any(ord(ch) < 32 for ch in value):
            return None, f"{column}: contains control characters"
    rid, name, phone, transfer = v["id"], v["name"], v["phone"], v["transfer_to"]
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
    hot = v.get("hot", "").lower()
    if hot not in _YES and hot not in _NO:
        return None, f"hot: {v['hot']!r} is not one of 1/0, yes/no, true/false, 是/否 (or empty)"
    alias_list = tuple(a.strip() for a in v["aliases"].split("|") if a.strip())
    return Entry(rid, name, alias_list, v["industry"], v["district"], v["address"], phone,
                 transfer, hot in _YES), ""


def check_entry(entry: Entry, transfer_pattern: str = DEFAULT_TRANSFER_PATTERN) -> Entry:
    """One entry typed in by hand, checked as an imported row would be (stripped the same
    way); raises HotlineError naming the field."""
    row = {"id": entry.id, "name": entry.name, "aliases": "|".join(entry.aliases),
           "industry": entry.industry, "district": entry.district, "address": entry.address,
           "phone": entry.phone, "transfer_to": entry.transfer_to,
           "hot": "1" if entry.hot else "0"}
    if any("|" in a for a in entry.aliases):
        raise HotlineError("aliases: an alias may not contain '|'")
    checked, problem = _entry(row, re.compile(transfer_pattern))
    if problem:
        raise HotlineError(problem)
    assert checked is not None
    return checked
