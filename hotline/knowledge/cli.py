"""`hotline knowledge import FILE | search [--limit K] [--json] [--unit U] QUESTION`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from hotline.config import Settings
from hotline.knowledge.importer import import_file
from hotline.knowledge.items import ItemProblems
from hotline.knowledge.search import search
from hotline.knowledge.store import KnowledgeStore
from hotline.store.database import Database, upgrade


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("knowledge", help="the knowledge base for 一次性告知: import, search")
    ksub = p.add_subparsers(dest="knowledge_action", required=True)
    imp = ksub.add_parser("import", help="import a YAML or XLSX file (all items or none); "
                                         "a changed item gets a new version")
    imp.add_argument("file", type=Path)
    s = ksub.add_parser("search", help="search by Chinese text, pinyin or initials")
    s.add_argument("question")
    s.add_argument("--limit", type=int, default=5)
    s.add_argument("--unit", default="", help="only this unit's items")
    s.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.knowledge_action == "search" and args.limit < 1:
        print("hotline: error: --limit must be at least 1", file=sys.stderr)
        return 2
    upgrade(settings.effective_db_url)
    return asyncio.run(_run(args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    db = Database(settings.effective_db_url)
    store = KnowledgeStore(db)
    try:
        if args.knowledge_action == "import":
            try:
                items, saved = await import_file(store, args.file, "cli", datetime.now(UTC))
            except ItemProblems as exc:
                print(f"hotline: error: {exc}", file=sys.stderr)
                return 2
            print(f"imported {len(items)} items from {args.file}: {saved.added} new, "
                  f"{saved.changed} changed (new version), {saved.unchanged} unchanged")
            return 0
        result = await search(store, args.question, args.limit, args.unit)
    finally:
        await db.close()
    data = result.json()
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
        return 0
    print(f"{args.question!r} ({data['elapsed_ms']:.1f} ms)")
    for r in data["results"]:
        print(f"  {r['score']:7.2f}  {r['title']}  [{r['unit']}]  {r['id']}")
    if not data["results"]:
        print("  (nothing found)")
    return 0
