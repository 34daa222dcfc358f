"""`hotline inspection check [FILE]` (a checklist validated, errors with line and field) and
`hotline inspection scores --month YYYY-MM [--json]` (each operator's mean inspection score,
what the monthly appraisal takes)."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hotline.config import Settings
from hotline.inspection.checklist import load_checklist
from hotline.inspection.scores import OperatorScore, monthly_scores
from hotline.store.database import Database


def register(sub: Any) -> None:
    p = sub.add_parser("inspection", help="quality inspection (质检): checklist and scores")
    cmds = p.add_subparsers(dest="inspection_action", required=True)
    check = cmds.add_parser("check", help="validate a checklist file (default: the one in "
                                          "use, HOTLINE_INSPECTION_CHECKLIST or the shipped)")
    check.add_argument("file", nargs="?", default="")
    check.set_defaults(handler=_check)
    scores = cmds.add_parser("scores", help="each operator's mean inspection score of a month")
    scores.add_argument("--month", required=True, help="YYYY-MM (the calls' month)")
    scores.add_argument("--json", action="store_true")
    scores.set_defaults(handler=_scores)


def _check(args: argparse.Namespace, settings: Settings) -> int:
    given = args.file or settings.inspection_checklist
    checklist = load_checklist(Path(given) if given else None)
    total = sum(i.weight for i in checklist.items)
    print(f"{checklist.name}: {len(checklist.items)} items, weights {total:g}, "
          f"pass mark {checklist.pass_score:g}")
    for i in checklist.items:
        extra = ", ".join(x for x in (f"precheck {i.precheck}" if i.precheck else "",
                                      "optional" if i.optional else "") if x)
        print(f"  {i.id:<14} {i.weight:>5g}  {i.title}" + (f"  ({extra})" if extra else ""))
    return 0


def _scores(args: argparse.Namespace, settings: Settings) -> int:
    async def read() -> dict[str, OperatorScore]:
        db = Database(settings.effective_db_url)
        try:
            return await monthly_scores(db, args.month, ZoneInfo(settings.timezone))
        finally:
            await db.close()

    found = asyncio.run(read())
    rows = [{"operator": s.operator, "mean": s.mean, "inspections": s.inspections}
            for s in sorted(found.values(), key=lambda s: s.operator)]
    if args.json:
        print(json.dumps({"month": args.month, "scores": rows}, ensure_ascii=False))
    else:
        for r in rows:
            print(f"{r['operator']}\t{r['mean']}\t{r['inspections']}")
    return 0
