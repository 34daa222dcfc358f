"""`hotline db upgrade` and `hotline calls list|show`."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hotline.config import Settings
from hotline.domain.calls import CATEGORIES
from hotline.errors import HotlineError
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database, upgrade
from hotline.store.models import Call
from hotline.tickets.setup import ticket_repository


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("db", help="database migrations")
    p.add_argument("action", choices=["upgrade"])
    p.set_defaults(handler=run_db)
    c = sub.add_parser("calls", help="call records (first-question records)")
    csub = c.add_subparsers(dest="calls_action", required=True)
    ls = csub.add_parser("list", help="newest first")
    ls.add_argument("--json", action="store_true")
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--since", type=datetime.fromisoformat, default=None,
                    help="ISO date or datetime")
    ls.set_defaults(handler=run_calls)
    show = csub.add_parser("show", help="one record in full")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=run_calls)
    note = csub.add_parser("annotate", help="the operator's notes on a record")
    note.add_argument("id", type=int)
    note.add_argument("--by", required=True, help="job number of who writes")
    note.add_argument("--category", choices=CATEGORIES)
    note.add_argument("--summary")
    note.add_argument("--caller-name")
    note.add_argument("--caller-title", help="how the caller likes to be addressed (先生, 女士…)")
    note.add_argument("--callback-number")
    note.set_defaults(handler=run_annotate)


def run_db(args: argparse.Namespace, settings: Settings) -> int:
    upgrade(settings.effective_db_url)
    print("database is at the latest revision")
    return 0


def iso(value: datetime | None, tz: str) -> str | None:
    return value.astimezone(ZoneInfo(tz)).isoformat() if value is not None else None


def call_json(row: Call, tz: str, full: bool = False,
              tickets: list[int] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": row.id, "caller": row.caller, "called": row.called,
        "arrived_at": iso(row.arrived_at, tz), "answered_at": iso(row.answered_at, tz),
        "answered_by": row.answered_by, "rings": row.rings, "ended_at": iso(row.ended_at, tz),
        "disposition": row.disposition, "satisfaction": row.satisfaction,
        "category": row.category, "summary": row.summary, "owner": row.owner, "node": row.node,
        "channel": row.channel,
        "tickets": tickets or [],
    }
    if full:
        data.update(caller_name=row.caller_name, caller_title=row.caller_title,
                    callback_number=row.callback_number, recording=row.recording,
                    state=row.state)
        kinds = {"lookup": "lookups", "unmatched_query": "unmatched_queries",
                 "transcript": "transcript", "transferred": "transfers"}
        for kind, key in kinds.items():
            data[key] = [e.data for e in row.events if e.kind == kind]
        data["legs"] = [e.data for e in row.events if e.kind == "seat_leg"]
        data["events"] = [{"at": iso(e.at, tz), "kind": e.kind, "data": e.data}
                          for e in row.events]
    return data


def run_annotate(args: argparse.Namespace, settings: Settings) -> int:
    fields = {k: v for k in ("category", "summary", "caller_name", "caller_title",
                             "callback_number") if (v := getattr(args, k)) is not None}
    if not fields:
        raise HotlineError("nothing to write: give --category, --summary, --caller-name, "
                           "--caller-title or --callback-number")
    if len(fields.get("summary", "")) > 2000:
        raise HotlineError("--summary: at most 2000 characters")

    async def go() -> int:
        db = Database(settings.effective_db_url)
        repo = CallRepository(db)
        try:
            await repo.annotate(args.id, args.by, fields)
        finally:
            await db.close()
        print(f"call {args.id}: {', '.join(sorted(fields))} written")
        return 0

    return asyncio.run(go())


def run_calls(args: argparse.Namespace, settings: Settings) -> int:
    async def go() -> int:
        db = Database(settings.effective_db_url)
        repo = CallRepository(db)
        tickets = ticket_repository(db, settings)
        try:
            if args.calls_action == "list":
                since = args.since
                if since is not None and since.tzinfo is None:
                    since = since.replace(tzinfo=ZoneInfo(settings.timezone))
                calls = await repo.recent(args.limit, since)
                by_call = await tickets.by_calls([c.id for c in calls])
                rows = [call_json(r, settings.timezone, tickets=by_call.get(r.id))
                        for r in calls]
                if args.json:
                    print(json.dumps(rows, ensure_ascii=False, indent=1))
                else:
                    for r in rows:
                        print(f"{r['id']:>6} {r['arrived_at']} {r['caller']:>14} "
                              f"{r['answered_by'] or '-':>6} rings={r['rings']} "
                              f"{r['disposition'] or 'in progress'}")
                return 0
            by_call = await tickets.by_calls([args.id])
            data = call_json(await repo.get(args.id), settings.timezone, full=True,
                             tickets=by_call.get(args.id))
            if args.json:
                print(json.dumps(data, ensure_ascii=False, indent=1))
            else:
                for key, value in data.items():
                    if key != "events":
                        print(f"{key:>12}: {value}")
                for e in data["events"]:
                    print(f"  {e['at']} {e['kind']} {json.dumps(e['data'], ensure_ascii=False)}")
            return 0
        finally:
            await db.close()

    return asyncio.run(go())
