"""`hotline units add|list|catalogue`: the handling units and the dispatch catalogue."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hotline.config import Settings
from hotline.store.database import Database
from hotline.store.loop_repo import LoopRepository
from hotline.tickets.setup import loop_repository
from hotline.units.catalogue_file import read_catalogue


def register(sub: Any) -> None:
    u = sub.add_parser("units", help="handling units (承办单位) and the dispatch catalogue")
    cmds = u.add_subparsers(dest="units_action", required=True)
    add = cmds.add_parser("add", help="register a handling unit")
    add.add_argument("name")
    add.add_argument("--parent", default="", help="the unit it belongs to")
    add.add_argument("--contact", default="", help="who or what number to contact")
    add.set_defaults(handler=_add)
    cmds.add_parser("list", help="the units").set_defaults(handler=_list)
    cat = cmds.add_parser("catalogue", help="load the dispatch catalogue (派单目录), CSV or "
                          "YAML; replaces the one loaded, or nothing if any row is bad")
    cat.add_argument("file", type=Path)
    cat.set_defaults(handler=_catalogue)


def _run(settings: Settings, work: Callable[[LoopRepository], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        db = Database(settings.effective_db_url)
        try:
            await db.upgrade()
            return await work(loop_repository(db, settings))
        finally:
            await db.close()

    return asyncio.run(go())


def _add(args: argparse.Namespace, settings: Settings) -> int:
    _run(settings, lambda repo: repo.add_unit(args.name, datetime.now(UTC), args.parent,
                                              args.contact))
    print(f"unit {args.name} added")
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    for unit in _run(settings, lambda repo: repo.units()):
        print(f"{unit.name}\t{unit.parent}\t{unit.contact}")
    return 0


def _catalogue(args: argparse.Namespace, settings: Settings) -> int:
    async def work(repo: LoopRepository) -> int:
        rules = read_catalogue(args.file, await repo.unit_names())
        return await repo.replace_catalogue(rules)

    print(f"dispatch catalogue: {_run(settings, work)} rows loaded from {args.file}")
    return 0
