"""A knowledge-base item (一次性告知: 依据、时限、程序、所需的全部材料、不予办理的理由) and its
validation: pure, no I/O. One problem names the row and the field it is about."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# field -> (Chinese label, required, at most characters)
TEXT_FIELDS: dict[str, tuple[str, bool, int]] = {
    "title": ("事项名称", True, 80), "unit": ("责任单位", True, 80),
    "basis": ("依据", True, 2000), "time_limit": ("时限", True, 200),
    "procedure": ("程序", True, 2000), "fees": ("收费", True, 500),
    "where_when": ("地点和时间", True, 500), "refusal": ("不予办理的情形", True, 1000)}
LIST_FIELDS: dict[str, tuple[str, bool, int]] = {
    "materials": ("所需材料", True, 60), "keywords": ("关键词", False, 40)}
DATE_FIELDS: dict[str, tuple[str, bool]] = {  # both required
    "effective": ("生效日期", True), "review": ("复核日期", True)}
LABELS = {k: v[0] for k, v in (TEXT_FIELDS | LIST_FIELDS).items()} | \
    {k: v[0] for k, v in DATE_FIELDS.items()} | {"id": "编号"}
# the Chinese headers an XLSX may use for the same fields
HEADERS = {v: k for k, v in LABELS.items()}
SPLIT = re.compile(r"[\n；;]+")


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    unit: str
    basis: str
    time_limit: str
    procedure: str
    materials: tuple[str, ...]
    fees: str
    where_when: str
    refusal: str
    effective: date
    review: date
    keywords: tuple[str, ...] = ()
    version: int = 1

    def data(self) -> dict[str, Any]:
        """The item as stored (JSON): dates as ISO strings, lists as lists."""
        d = asdict(self)
        d.pop("version")
        d["materials"], d["keywords"] = list(self.materials), list(self.keywords)
        d["effective"], d["review"] = self.effective.isoformat(), self.review.isoformat()
        return d

    def overdue(self, today: date) -> bool:
        """Past its review date: the keepers are to check it again."""
        return self.review < today


@dataclass(frozen=True)
class Problem:
    where: str  # "row 3" / "item 3 (hukou-qianru)"
    field: str
    message: str

    def __str__(self) -> str:
        label = LABELS.get(self.field, self.field)
        return f"{self.where}, field {self.field} ({label}): {self.message}"


@dataclass
class ItemProblems(Exception):
    source: str
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        shown = "\n  ".join(str(p) for p in self.problems[:50])
        more = f"\n  … and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        return f"{self.source}: {len(self.problems)} problem(s), nothing imported:\n  " \
               f"{shown}{more}"


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return [p.strip() for p in SPLIT.split(str(value)) if p.strip()]


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value if type(value) is date else value.date()  # type: ignore[attr-defined]
    return date.fromisoformat(str(value).strip())


def parse_item(raw: Any, where: str) -> tuple[Item | None, list[Problem]]:
    """One item from a mapping (a YAML item, an XLSX row, a console form)."""
    if not isinstance(raw, dict):
        return None, [Problem(where, "-", "expected a mapping of fields")]
    problems: list[Problem] = []
    unknown = sorted(str(k) for k in raw if k not in LABELS and k != "version")
    problems += [Problem(where, k, "unknown field") for k in unknown]
    item_id = str(raw.get("id") or "").strip()
    if not ID.match(item_id):
        problems.append(Problem(where, "id", "required: letters, digits, - _ . (at most 64)"))
    values: dict[str, Any] = {"id": item_id}
    for name, (_, required, limit) in TEXT_FIELDS.items():
        v = raw.get(name)
        text = "" if v is None else str(v).strip()
        if required and not text:
            problems.append(Problem(where, name, "required"))
        elif len(text) > limit:
            problems.append(Problem(where, name, f"at most {limit} characters"))
        values[name] = text
    for name, (_, required, limit) in LIST_FIELDS.items():
        got = _as_list(raw.get(name))
        if required and not got:
            problems.append(Problem(where, name, "required: at least one"))
        long = [x for x in got if len(x) > limit * 5]
        if long or len(got) > limit:
            problems.append(Problem(where, name, f"at most {limit} entries of "
                                                 f"{limit * 5} characters"))
        values[name] = tuple(got)
    for name in DATE_FIELDS:
        v = raw.get(name)
        if v is None or str(v).strip() == "":
            problems.append(Problem(where, name, "required: a date YYYY-MM-DD"))
            continue
        try:
            values[name] = _as_date(v)
        except ValueError:
            problems.append(Problem(where, name, f"not a date YYYY-MM-DD: {str(v)[:20]!r}"))
    if not problems and values["review"] < values["effective"]:
        problems.append(Problem(where, "review", "before the effective date"))
    if problems:
        return None, problems
    return Item(**values), []


def parse_items(rows: list[tuple[str, Any]], source: str) -> list[Item]:
    """Every row valid, with distinct ids, or ItemProblems listing every problem."""
    items: list[Item] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for where, raw in rows:
        item, found = parse_item(raw, where)
        problems += found
        if item is None:
            continue
        if item.id in seen:
            problems.append(Problem(where, "id", f"{item.id} again (first at {seen[item.id]})"))
            continue
        seen[item.id] = where
        items.append(item)
    if not rows:
        problems.append(Problem("file", "-", "no items"))
    if problems:
        raise ItemProblems(source, problems)
    return items


def item_from_data(data: dict[str, Any], version: int) -> Item:
    """An item as stored back into an Item (trusted: it was validated on the way in)."""
    d = dict(data)
    d["materials"], d["keywords"] = tuple(d["materials"]), tuple(d.get("keywords") or ())
    d["effective"], d["review"] = date.fromisoformat(d["effective"]), \
        date.fromisoformat(d["review"])
    return Item(**d, version=version)
