"""The inspection checklist (质检评分表): items with weights, loaded from YAML and validated
with the line and the field of every error; and the weighted score of a scorecard. Domain
code: no I/O beyond reading the file it is given."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml

from hotline.errors import HotlineError

DEFAULT_CHECKLIST = Path(__file__).with_name("default_checklist.yaml")
# what precheck.py can pre-fill
PRECHECKS = ("opening", "identity", "forbidden", "closing", "once_told")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_ITEM_KEYS = {"id", "title", "weight", "precheck", "optional"}
_ROOT_KEYS = {"name", "pass_score", "items"}


class ChecklistError(HotlineError):
    """A checklist file that cannot be used: where (line, field) and why."""

    def __init__(self, source: str, line: int | None, field: str, problem: str) -> None:
        self.source, self.line, self.field, self.problem = source, line, field, problem
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {field}: {problem}" if field else f"{where}: {problem}")


class Result(StrEnum):
    PASS = "pass"  # 合格
    FAIL = "fail"  # 不合格
    NA = "na"  # 不适用 (only for an optional item: nothing was due on this call)


RESULT_NAMES = {Result.PASS: "合格", Result.FAIL: "不合格", Result.NA: "不适用"}


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    weight: float
    precheck: str = ""  # one of PRECHECKS, or "" (the inspector alone judges it)
    optional: bool = False


@dataclass(frozen=True)
class Checklist:
    name: str
    items: tuple[Item, ...]
    pass_score: float = 80.0

    def item(self, item_id: str) -> Item:
        for i in self.items:
            if i.id == item_id:
                return i
        raise KeyError(item_id)

    def score(self, results: dict[str, Result]) -> float:
        """The weighted score out of 100 over the items that apply: passed weight / weight of
        the items not marked 不适用. ValueError naming the item for a missing result, or 不适用
        on an item that always applies."""
        passed = total = 0.0
        for i in self.items:
            r = results.get(i.id)
            if r is None:
                raise ValueError(f"{i.id} ({i.title}): no result given")
            if r is Result.NA:
                if not i.optional:
                    raise ValueError(f"{i.id} ({i.title}): always applies, cannot be 不适用")
                continue
            total += i.weight
            passed += i.weight if r is Result.PASS else 0.0
        unknown = set(results) - {i.id for i in self.items}
        if unknown:
            raise ValueError(f"{sorted(unknown)}: not items of the checklist {self.name!r}")
        if total == 0:
            raise ValueError("every item is 不适用: nothing to score")
        return round(100.0 * passed / total, 1)


def _scalar(node: yaml.Node, source: str, field: str) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise ChecklistError(source, node.start_mark.line + 1, field, "must be a single value")
    return str(node.value)


def _number(node: yaml.Node, source: str, field: str, low: float, high: float) -> float:
    text = _scalar(node, source, field)
    try:
        value = float(text)
    except ValueError:
        raise ChecklistError(source, node.start_mark.line + 1, field,
                             f"{text!r} is not a number") from None
    if not low < value <= high:
        raise ChecklistError(source, node.start_mark.line + 1, field,
                             f"{text} must be more than {low:g} and at most {high:g}")
    return value


def _item(node: yaml.Node, source: str, n: int, seen: dict[str, int]) -> Item:
    line = node.start_mark.line + 1
    where = f"items[{n}]"
    if not isinstance(node, yaml.MappingNode):
        raise ChecklistError(source, line, where, "each item must be a mapping (id, title, "
                             "weight…)")
    values: dict[str, yaml.Node] = {}
    for key, value in node.value:
        name = str(key.value)
        if name not in _ITEM_KEYS:
            raise ChecklistError(source, key.start_mark.line + 1, f"{where}.{name}",
                                 f"unknown field; allowed {sorted(_ITEM_KEYS)}")
        values[name] = value
    for need in ("id", "title", "weight"):
        if need not in values:
            raise ChecklistError(source, line, f"{where}.{need}", "missing")
    item_id = _scalar(values["id"], source, f"{where}.id")
    id_line = values["id"].start_mark.line + 1
    if not _ID.match(item_id):
        raise ChecklistError(source, id_line, f"{where}.id",
                             f"{item_id!r}: lower-case letters, digits and _ only")
    if item_id in seen:
        raise ChecklistError(source, id_line, f"{where}.id",
                             f"duplicate id {item_id!r} (first at line {seen[item_id]})")
    seen[item_id] = id_line
    title = _scalar(values["title"], source, f"{where}.title").strip()
    if not title:
        raise ChecklistError(source, values["title"].start_mark.line + 1, f"{where}.title",
                             "must not be empty")
    weight = _number(values["weight"], source, f"{where}.weight", 0, 100)
    precheck = ""
    if "precheck" in values:
        precheck = _scalar(values["precheck"], source, f"{where}.precheck")
        if precheck not in PRECHECKS:
            raise ChecklistError(source, values["precheck"].start_mark.line + 1,
                                 f"{where}.precheck",
                                 f"{precheck!r}: one of {', '.join(PRECHECKS)}")
    optional = False
    if "optional" in values:
        flag = _scalar(values["optional"], source, f"{where}.optional").lower()
        if flag not in ("true", "false"):
            raise ChecklistError(source, values["optional"].start_mark.line + 1,
                                 f"{where}.optional", f"true or false, not {flag!r}")
        optional = flag == "true"
    return Item(item_id, title, weight, precheck, optional)


def parse_checklist(text: str, source: str = "checklist.yaml") -> Checklist:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ChecklistError(source, mark.line + 1 if mark is not None else None, "",
                             f"not valid YAML: {getattr(exc, 'problem', None) or exc}"
                             ) from None
    if not isinstance(root, yaml.MappingNode):
        raise ChecklistError(source, 1, "", "the file must be a mapping with name and items")
    values: dict[str, yaml.Node] = {}
    for key, value in root.value:
        if str(key.value) not in _ROOT_KEYS:
            raise ChecklistError(source, key.start_mark.line + 1, str(key.value),
                                 f"unknown field; allowed {sorted(_ROOT_KEYS)}")
        values[str(key.value)] = value
    if "name" not in values:
        raise ChecklistError(source, 1, "name", "missing")
    name = _scalar(values["name"], source, "name").strip()
    if not name:
        raise ChecklistError(source, values["name"].start_mark.line + 1, "name",
                             "must not be empty")
    pass_score = 80.0
    if "pass_score" in values:
        pass_score = _number(values["pass_score"], source, "pass_score", -1, 100)
    items_node = values.get("items")
    if not isinstance(items_node, yaml.SequenceNode) or not items_node.value:
        line = items_node.start_mark.line + 1 if items_node is not None else 1
        raise ChecklistError(source, line, "items", "a non-empty list of items")
    seen: dict[str, int] = {}
    items = tuple(_item(node, source, n, seen) for n, node in enumerate(items_node.value))
    return Checklist(name, items, pass_score)


def load_checklist(path: Path | None = None) -> Checklist:
    """The checklist at ``path`` (None: the shipped default)."""
    path = path or DEFAULT_CHECKLIST
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ChecklistError(str(path), None, "", f"not UTF-8: {exc}") from None
    except OSError as exc:
        raise ChecklistError(str(path), None, "", f"cannot read: {exc.strerror}") from None
    return parse_checklist(text, str(path))
