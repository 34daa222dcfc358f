"""`hotline journal list|retry|drop`: the dead letters, the writes the database refused."""

from __future__ import annotations

import argparse
import asyncio
import json

from hotline.config import Settings
from hotline.errors import HotlineError, StoreUnavailable
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.journal.apply import apply_entry
from hotline.store.journal.deadletters import DeadLetter, DeadLetters
from hotline.store.journal.store import dead_letters_path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("journal", help="call-record writes the database refused (dead letters)")
    jsub = p.add_subparsers(dest="journal_action", required=True)
    ls = jsub.add_parser("list", help="the dead letters, oldest first")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=run_journal)
    for name, what in (("retry", "write them to the database again (once the cause is "
                                 "mended); those written are removed"),
                       ("drop", "remove them for good")):
        c = jsub.add_parser(name, help=what)
        c.add_argument("ids", nargs="*", help="dead-letter ids (from `hotline journal list`)")
        c.add_argument("--all", action="store_true", help="every dead letter")
        c.set_defaults(handler=run_journal)


def _chosen(letters: list[DeadLetter], args: argparse.Namespace) -> list[DeadLetter]:
    if args.all == bool(args.ids):
        raise HotlineError(f"journal {args.journal_action}: give dead-letter ids or --all")
    if args.all:
        return letters
    known = {d.id for d in letters}
    unknown = [i for i in args.ids if i not in known]
    if unknown:
        raise HotlineError(f"journal {args.journal_action}: no dead letter {', '.join(unknown)}"
                           " (see `hotline journal list`)")
    return [d for d in letters if d.id in set(args.ids)]


def _describe(d: DeadLetter) -> str:
    e = d.entry or {}
    op = e.get("op", "unreadable")
    record = e.get("id", e.get("provisional", "?"))
    what = e.get("kind") or ",".join(sorted(e.get("fields", {}))) or ""
    return f"{d.id}  {d.at[:19]}  {op:<6} record {record} {what}  -- {d.reason}"


def run_journal(args: argparse.Namespace, settings: Settings) -> int:
    dead = DeadLetters(dead_letters_path(settings.journal_path))
    letters = dead.all()
    if args.journal_action == "list":
        if args.json:
            print(json.dumps([d.as_json() for d in letters], ensure_ascii=False, indent=1))
        else:
            for d in letters:
                print(_describe(d))
            print(f"{len(letters)} dead letters in {dead.path}")
        return 0
    chosen = _chosen(letters, args)
    if args.journal_action == "drop":
        print(f"{dead.settle({d.id for d in chosen})} dead letters dropped")
        return 0
    return asyncio.run(_retry(dead, chosen, settings))


async def _retry(dead: DeadLetters, chosen: list[DeadLetter], settings: Settings) -> int:
    db = Database(settings.effective_db_url)
    repo = CallRepository(db)
    ids: dict[int, int] = {}  # the provisional ids of openings retried here
    done: set[str] = set()
    reasons: dict[str, str] = {}
    try:
        for d in chosen:
            try:
                if d.entry is None:
                    raise HotlineError("an unreadable journal line: only `drop` applies")
                await apply_entry(repo, ids, d.entry)
            except StoreUnavailable:
                raise
            except Exception as exc:  # refused again: kept, with the new reason
                reasons[d.id] = str(exc).splitlines()[0][:300] if str(exc) else \
                    type(exc).__name__
                print(f"{d.id}: refused again: {reasons[d.id]}")
                continue
            done.add(d.id)
            print(f"{d.id}: written")
    finally:
        await db.close()
        dead.settle(done, reasons)
    print(f"{len(done)} of {len(chosen)} dead letters written")
    return 0 if len(done) == len(chosen) else 1
