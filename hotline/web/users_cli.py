"""`hotline users add|passwd|disable|enable|remove|list`. passwd, disable and remove end the
user's console sessions on every node: the rows go, and with PostgreSQL every running node is
told at once (hotline/live/pg_revocations.py), so it refuses the sessions and closes their
live feeds then, as after a logout on the console (a SQLite node reads the rows again within
its recheck, 30 s). Passwords are read from stdin, never from arguments."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from hotline.config import Settings
from hotline.live.pg_revocations import announce_from_cli
from hotline.store.database import Database
from hotline.store.users_repo import Role, UserError, UserRepository

ACTOR = "cli"  # the audit log's actor for changes made here


def register(sub: Any) -> None:
    u = sub.add_parser("users", help="console users")
    cmds = u.add_subparsers(dest="users_action", required=True)
    add = cmds.add_parser("add", help="create a user; the password is read from stdin")
    add.add_argument("id")
    add.add_argument("--role", choices=[r.value for r in Role], required=True)
    add.add_argument("--unit", default="", help="the handling unit of a unit user")
    add.add_argument("--password-stdin", action="store_true", required=True,
                     help="read the password from standard input (never from arguments)")
    add.set_defaults(handler=_add)
    pw = cmds.add_parser("passwd", help="set a new password (from stdin); ends their sessions")
    pw.add_argument("id")
    pw.add_argument("--password-stdin", action="store_true", required=True,
                    help="read the password from standard input (never from arguments)")
    pw.set_defaults(handler=_passwd)
    for name, handler, text in (("disable", _disable, "refuse their logins; ends their sessions"),
                                ("enable", _enable, "allow a disabled user to log in again"),
                                ("remove", _remove, "delete the user; ends their sessions")):
        p = cmds.add_parser(name, help=text)
        p.add_argument("id")
        p.set_defaults(handler=handler)
    cmds.add_parser("list", help="the users, their roles and states").set_defaults(
        handler=_list)


def _password() -> str:
    password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise UserError("no password on standard input")
    return password


def _run(settings: Settings, action: Callable[[UserRepository], Awaitable[Any]],
         revokes: str = "") -> Any:
    """``revokes``: the user whose sessions the action ends, announced to the nodes."""
    async def go() -> Any:
        db = Database(settings.effective_db_url)
        try:
            await db.upgrade()
            done = await action(UserRepository(db))
            if revokes:
                await announce_from_cli(db, revokes)
            return done
        finally:
            await db.close()

    return asyncio.run(go())


def _add(args: argparse.Namespace, settings: Settings) -> int:
    password = _password()
    _run(settings, lambda users: users.add(args.id, Role(args.role), password,
                                                 args.unit))
    print(f"user {args.id} ({args.role}) added")
    return 0


def _passwd(args: argparse.Namespace, settings: Settings) -> int:
    password = _password()
    _run(settings, lambda users: users.set_password(args.id, password, by=ACTOR),
         revokes=args.id)
    print(f"user {args.id}: password changed, their sessions ended")
    return 0


def _disable(args: argparse.Namespace, settings: Settings) -> int:
    _run(settings, lambda users: users.set_disabled(args.id, True, by=ACTOR),
         revokes=args.id)
    print(f"user {args.id} disabled, their sessions ended")
    return 0


def _enable(args: argparse.Namespace, settings: Settings) -> int:
    _run(settings, lambda users: users.set_disabled(args.id, False, by=ACTOR))
    print(f"user {args.id} enabled")
    return 0


def _remove(args: argparse.Namespace, settings: Settings) -> int:
    _run(settings, lambda users: users.remove(args.id, by=ACTOR), revokes=args.id)
    print(f"user {args.id} removed, their sessions ended")
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    for user in _run(settings, lambda users: users.all()):
        print(f"{user.id:<12} {user.role:<11} {'disabled' if user.disabled else 'active'}"
              f"{' ' + user.unit if user.unit else ''}")
    return 0
