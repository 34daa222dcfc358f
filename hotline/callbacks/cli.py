"""`hotline callbacks list|attempt`: the missed-call callback list from the shell, and the
result of a callback made from a phone outside the console (the console's one-click call
records its own)."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any
from zoneinfo import ZoneInfo

from hotline.callbacks.service import CallbackService
from hotline.callbacks.store import CallbackStore
from hotline.config import Settings
from hotline.domain.callbacks import FINAL, Outcome
from hotline.privacy import mask_number
from hotline.server.root import SystemClock
from hotline.store.database import Database
from hotline.store.users_repo import UserRepository


def register(sub: Any) -> None:
    c = sub.add_parser("callbacks", help="missed calls to call back (漏接回拨)")
    cmds = c.add_subparsers(dest="callbacks_action", required=True)
    ls = cmds.add_parser("list", help="the open entries, the oldest first")
    ls.add_argument("--json", action="store_true", help="one JSON object per entry")
    ls.add_argument("--full", action="store_true",
                    help="callers' numbers in full (written to the audit log)")
    ls.add_argument("--by", default="cli", help="who reads them in full (the audit log)")
    ls.set_defaults(handler=_list)
    at = cmds.add_parser("attempt", help="record a callback's result (reached clears it)")
    at.add_argument("id", type=int, help="the entry (its first missed call)")
    at.add_argument("--by", required=True, help="job number of who called")
    at.add_argument("--outcome", required=True, choices=sorted(FINAL))
    at.add_argument("--talk-s", type=int, help="how long they talked (reached)")
    at.set_defaults(handler=_attempt)


def _service(db: Database, settings: Settings) -> CallbackService:
    return CallbackService(CallbackStore(db), SystemClock(), settings.callback_window_days)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> int:
        db = Database(settings.effective_db_url)
        try:
            listed = await _service(db, settings).current()
            if args.full:
                await UserRepository(db).audit(args.by[:32], "view_callbacks", "",
                                               {"entries": len(listed.entries),
                                                "full_numbers": True, "via": "cli"})
        finally:
            await db.close()
        zone = ZoneInfo(settings.timezone)
        for e in listed.entries:
            number = e.number if args.full else mask_number(e.number)
            row: dict[str, Any] = {"id": e.id, "number": number, "missed": e.missed,
                   "first_at": e.first_at.astimezone(zone).isoformat(),
                   "last_at": e.last_at.astimezone(zone).isoformat(),
                   "reasons": [str(r) for r in e.reasons],
                   "attempts": [{"id": a.id, "by": a.by, "outcome": a.outcome,
                                 "at": a.started_at.astimezone(zone).isoformat()}
                                for a in e.attempts]}
            if args.json:
                print(json.dumps(row, ensure_ascii=False))
            else:
                tried = ", ".join(f"{a['by']} {a['outcome']}" for a in row["attempts"])
                print(f"{e.id}\t{number}\t{e.missed} missed\t{row['last_at']}\t"
                      f"{','.join(row['reasons'])}\t{tried or '-'}")
        if not args.json:
            print(f"{len(listed.entries)} to call back")
        return 0
    return asyncio.run(run())


def _attempt(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> int:
        db = Database(settings.effective_db_url)
        try:
            service = _service(db, settings)
            number = await service.target("", missed_id=args.id, ticket_id=None)
            now = service.clock.now()
            attempt_id = await service.store.start(number, args.by, now, missed_id=args.id,
                                                   ticket_id=None)
            await service.store.finish(attempt_id, Outcome(args.outcome), now, args.talk_s)
        finally:
            await db.close()
        cleared = " (the entry is cleared)" if args.outcome == Outcome.REACHED else ""
        print(f"attempt {attempt_id} on entry {args.id}: {args.outcome}{cleared}")
        return 0
    return asyncio.run(run())
