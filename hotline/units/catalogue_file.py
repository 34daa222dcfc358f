"""Read a dispatch catalogue file: CSV (a header row category,keywords,unit; ``#`` lines are
comments) or YAML (a list of mappings with those keys). Rows are numbered as the file's
lines (CSV) or its list items (YAML), so an error points at the row to fix."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import yaml

from hotline.domain.loop.catalogue import CatalogueError, Rule, rules_of


def read_catalogue(path: Path, units: set[str]) -> list[Rule]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError([f"{path}: {exc}"]) from None
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CatalogueError([f"{path}: not YAML: {exc}"]) from None
        if not isinstance(data, list):
            raise CatalogueError([f"{path}: expected a list of rows (category, keywords, unit)"])
        return rules_of(data, units)
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()
                  and not line.lstrip().startswith("#")), None)
    if first is None:
        raise CatalogueError([f"{path}: empty"])
    reader = csv.DictReader(io.StringIO("\n".join(lines[first:])))
    missing = {"category", "keywords", "unit"} - set(reader.fieldnames or ())
    if missing:
        raise CatalogueError([f"line {first + 1}: the header lacks {', '.join(sorted(missing))}"])
    rows = [row for row in reader if any((v or "").strip() for v in row.values())]
    if any(None in row for row in rows):
        bad = next(n for n, row in enumerate(rows, start=first + 2) if None in row)
        raise CatalogueError([f"line {bad}: more fields than the header"])
    return rules_of(rows, units, first_row=first + 2)
