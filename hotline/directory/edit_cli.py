"""`hotline directory add|edit|remove`: one entry by hand. The running hotline lays the change
over its saved index within a second (its change log poll); the next rebuild folds it in."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass

from hotline.config import Settings
from hotline.directory.edits import entry_by_id, remove_entry, save_entry
from hotline.directory.records import Entry
from hotline.errors import HotlineError
from hotline.store.database import Database

_FIELDS = ("name", "aliases", "industry", "district", "address", "phone", "transfer_to")


def register(dsub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for action, helptext in (("add", "add one entry"),
                             ("edit", "change the given fields of one entry")):
        p = dsub.add_parser(action, help=helptext)
        p.add_argument("id")
        for f in _FIELDS:
            p.add_argument(f"--{f.replace('_', '-')}", dest=f, default=None,
                           help="'|'-separated" if f == "aliases" else None)
        p.add_argument("--hot", choices=("yes", "no"), default=None)
    rm = dsub.add_parser("remove", help="remove one entry")
    rm.add_argument("id")


def run_edit(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_edit(args, settings))


async def _edit(args: argparse.Namespace, settings: Settings) -> int:
    db = Database(settings.effective_db_url)
    by = f"cli:{getpass.getuser()}"
    try:
        if args.directory_action == "remove":
            await remove_entry(db, args.id, by=by)
            print(f"removed {args.id}")
            return 0
        given = {f: getattr(args, f) for f in _FIELDS if getattr(args, f) is not None}
        if "aliases" in given:
            given["aliases"] = tuple(a.strip() for a in given["aliases"].split("|")
                                     if a.strip())
        if args.hot is not None:
            given["hot"] = args.hot == "yes"
        if args.directory_action == "add":
            entry = Entry(args.id, **{"name": "", **given})
        else:
            old = await entry_by_id(db, args.id)
            if old is None:
                raise HotlineError(f"no directory entry with id {args.id!r}")
            entry = dataclasses.replace(old, **given)
        action = await save_entry(db, entry, by=by, must_exist=args.directory_action == "edit",
                                  transfer_pattern=settings.transfer_pattern)
        print(f"{'added' if action == 'add' else 'changed'} {args.id}")
        return 0
    finally:
        await db.close()
