"""派单目录: which unit leads on a matter, by its category and the words it mentions.

Rows come from a CSV or YAML file (hotline/units/catalogue_file.py reads them): ``category``
(the matter's field, e.g. 供水), ``keywords`` (|-separated words of the matter, e.g.
停水|水压) and ``unit`` (the lead unit, one of the registered units). Every bad row and field
is reported at once; the suggestion is the rule with the most keywords found in the matter's
text, the category counting as a keyword too."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hotline.domain.tickets import TicketError

COLUMNS = ("category", "keywords", "unit")


class CatalogueError(TicketError):
    """A dispatch catalogue that cannot be used; lists every row and field at fault."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("the dispatch catalogue has errors:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Rule:
    category: str
    keywords: tuple[str, ...]
    unit: str

    def score(self, category: str, text: str) -> int:
        hits = sum(1 for k in self.keywords if k in text)
        if category and category == self.category:
            hits += 2
        elif self.category and self.category in text:
            hits += 1
        return hits


def rules_of(rows: Iterable[Mapping[str, object]], units: set[str],
             first_row: int = 1) -> list[Rule]:
    """The rules; CatalogueError naming every row (counted from ``first_row``) and field
    that is missing, empty, unknown or names an unregistered unit."""
    problems: list[str] = []
    rules: list[Rule] = []
    for n, row in enumerate(rows, start=first_row):
        if not isinstance(row, Mapping):
            problems.append(f"row {n}: expected {', '.join(COLUMNS)}")
            continue
        extra = sorted(set(map(str, row)) - set(COLUMNS))
        if extra:
            problems.append(f"row {n}: unknown field(s) {', '.join(extra)}; the fields are "
                            f"{', '.join(COLUMNS)}")
        values = {c: str(row.get(c) or "").strip() for c in COLUMNS}
        keywords = tuple(k.strip() for k in values["keywords"].split("|") if k.strip())
        for column in ("category", "unit"):
            if not values[column]:
                problems.append(f"row {n}, field {column}: empty")
        if not keywords:
            problems.append(f"row {n}, field keywords: no keyword (|-separated words)")
        if values["unit"] and values["unit"] not in units:
            problems.append(f"row {n}, field unit: {values['unit']!r} is not a registered "
                            "unit (hotline units add)")
        rules.append(Rule(values["category"], keywords, values["unit"]))
    if not rules and not problems:
        problems.append("no rows")
    if problems:
        raise CatalogueError(problems)
    return rules


def suggest(rules: Iterable[Rule], category: str, text: str) -> Rule | None:
    """The best rule for the matter (the first of equals), or None when nothing matches."""
    best, best_score = None, 0
    for rule in rules:
        score = rule.score(category, text)
        if score > best_score:
            best, best_score = rule, score
    return best
