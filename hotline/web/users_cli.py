"""`hotline users add ID --role operator|supervisor|admin --password-stdin`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from hotline.config import Settings
from hotline.store.database import Database
from hotline.store.users_repo import Role, UserError, UserRepository


def register(sub: Any) -> None:
    u = sub.add_parser("users", help="console users")
    cmds = u.add_subparsers(dest="users_action", required=True)
    add = cmds.add_parser("add", help="create a user; the password is read from stdin")
    add.add_argument("id")
    add.add_argument("--role", choices=[r.value for r in Role], required=True)
    add.add_argument("--password-stdin", action="store_true", required=True,
                     help="read the password from standard input (never from arguments)")
    add.set_defaults(handler=_add)


def _add(args: argparse.Namespace, settings: Settings) -> int:
    password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise UserError("no password on standard input")

    async def go() -> None:
        db = Database(settings.effective_db_url)
        try:
            await db.upgrade()
            await UserRepository(db).add(args.id, Role(args.role), password)
        finally:
            await db.close()

    asyncio.run(go())
    print(f"user {args.id} ({args.role}) added")
    return 0
