"""`hotline directory import|search|unmatched` (and add|edit|remove, in edit_cli)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from hotline.config import Settings
from hotline.directory import edit_cli
from hotline.directory.importer import import_csv
from hotline.directory.index import DirectoryIndex, result_json
from hotline.directory.live import LiveIndex
from hotline.directory.records import CsvProblems
from hotline.directory.service import DirectoryService
from hotline.directory.unmatched import DEFAULT_DAYS, since_day, unmatched_json
from hotline.errors import HotlineError
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database, upgrade


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("directory", help="the enterprise directory: import, search, and what "
                                         "callers asked for that it lacks")
    dsub = p.add_subparsers(dest="directory_action", required=True)
    imp = dsub.add_parser("import", help="import a UTF-8 CSV (all rows or none)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--replace", action="store_true", help="replace the whole directory")
    search = dsub.add_parser("search", help="pinyin-aware fuzzy lookup")
    search.add_argument("query", nargs="?", default=None)
    search.add_argument("--limit", type=int, default=5)
    search.add_argument("--json", action="store_true")
    search.add_argument("--batch", metavar="FILE|-",
                        help="one query per line, or JSON Lines with a 'query' field; "
                             "prints JSON Lines in order")
    unmatched = dsub.add_parser("unmatched", help="what callers asked for that is not "
                                                  "registered, most recently asked first")
    unmatched.add_argument("--since", metavar="YYYY-MM-DD",
                           help=f"from this day on (default: the last {DEFAULT_DAYS} days)")
    unmatched.add_argument("--json", action="store_true")
    unmatched.add_argument("--limit", type=int, default=100)
    edit_cli.register(dsub)
    p.set_defaults(handler=run)


def timed_search(index: DirectoryIndex | LiveIndex, query: str, limit: int) -> dict[str, Any]:
    t = time.perf_counter()
    r = index.search(query, limit=limit)
    return result_json(r, (time.perf_counter() - t) * 1000)


def batch_queries(stream: TextIO) -> list[str]:
    out: list[str] = []
    for n, line in enumerate(stream, 1):
        text = line.rstrip("\r\n")
        if text.lstrip().startswith("{"):
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise HotlineError(f"batch line {n}: not valid JSON ({exc.msg})") from None
            if not isinstance(obj, dict) or not isinstance(obj.get("query"), str):
                raise HotlineError(f"batch line {n}: a JSON line needs a string 'query'")
            text = obj["query"]
        out.append(text)
    return out


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.directory_action == "unmatched":
        since = _since(args, settings)  # the caller's errors before touching the database
        upgrade(settings.effective_db_url)
        return asyncio.run(_unmatched(args, settings, since))
    upgrade(settings.effective_db_url)
    if args.directory_action in ("add", "edit", "remove"):
        return edit_cli.run_edit(args, settings)
    if args.directory_action == "import":
        return asyncio.run(_import(args, settings))
    if args.batch is None and args.query is None:
        print("hotline: error: give a QUERY or --batch FILE|-", file=sys.stderr)
        return 2
    if args.limit < 1:
        print("hotline: error: --limit must be at least 1", file=sys.stderr)
        return 2
    if args.batch is not None:
        if args.batch == "-":
            queries = batch_queries(sys.stdin)
        else:
            try:
                with open(args.batch, encoding="utf-8") as f:
                    queries = batch_queries(f)
            except (OSError, UnicodeDecodeError) as exc:
                raise HotlineError(f"cannot read {args.batch}: {exc}") from None
    index = asyncio.run(_index(settings))
    if args.batch is not None:
        for q in queries:
            print(json.dumps(timed_search(index, q, args.limit), ensure_ascii=False))
        return 0
    data = timed_search(index, args.query, args.limit)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
        return 0
    mark = "confident" if data["confident"] else "not confident"
    print(f"{args.query!r}: {mark} ({data['elapsed_ms']:.1f} ms)")
    for r in data["results"]:
        print(f"  {r['score']:6.1f}  {r['name']}  {r['phone']}  [{r['industry']} "
              f"{r['district']}]" + ("  hot" if r["hot"] else ""))
    return 0


async def _index(settings: Settings) -> LiveIndex:
    """The saved index (rebuilt first if it is missing or stale), as `serve` uses it."""
    db = Database(settings.effective_db_url)
    try:
        service = DirectoryService(path=settings.directory_index_path)
        await service.start(db, settings.home_district)
    finally:
        await db.close()
    if not len(service.live):
        raise HotlineError("the directory is empty: run `hotline directory import FILE.csv`")
    return service.live


def _since(args: argparse.Namespace, settings: Settings) -> datetime:
    try:
        since = since_day(args.since, ZoneInfo(settings.timezone))
    except ValueError:
        raise HotlineError(f"--since: expected a date YYYY-MM-DD, not {args.since!r}") from None
    if args.limit < 1:
        raise HotlineError("--limit must be at least 1")
    return since


async def _unmatched(args: argparse.Namespace, settings: Settings, since: datetime) -> int:
    zone = ZoneInfo(settings.timezone)
    db = Database(settings.effective_db_url)
    try:
        rows = await CallRepository(db).unmatched_queries(since, args.limit)
    finally:
        await db.close()
    data = unmatched_json(rows, since, zone)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
    elif not rows:
        print(f"no unmatched queries since {data['since']}")
    else:
        print(f"{'count':>5}  {'last_asked':<16}  query")
        for r in rows:
            print(f"{r.count:>5}  {r.last_at.astimezone(zone):%Y-%m-%d %H:%M}  {r.query}")
    return 0


async def _import(args: argparse.Namespace, settings: Settings) -> int:
    db = Database(settings.effective_db_url)
    try:
        t = time.perf_counter()
        rows = await import_csv(db, args.file, replace=args.replace,
                                transfer_pattern=settings.transfer_pattern)
        print(f"imported {rows} entries from {args.file} in {time.perf_counter() - t:.1f} s")
        return 0
    except CsvProblems as exc:
        print(f"hotline: error: {exc}", file=sys.stderr)
        return 2
    finally:
        await db.close()
