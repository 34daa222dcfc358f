"""`hotline tickets due|open|move|extend|list|show`: callback tickets from the shell."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hotline.config import Settings
from hotline.domain.tickets import (
    Move,
    NewTicket,
    TicketError,
    TicketKind,
    TicketStatus,
    is_overdue,
)
from hotline.store.database import Database
from hotline.store.models import Ticket
from hotline.tickets import loop_cli
from hotline.tickets.setup import deadline_days, ticket_repository, work_calendar

KINDS = [k.value for k in TicketKind]


def register(sub: Any) -> None:
    t = sub.add_parser("tickets", help="callback, complaint, message and referral tickets")
    cmds = t.add_subparsers(dest="tickets_action", required=True)
    due = cmds.add_parser("due", help="when a matter received at --from falls due")
    due.add_argument("--kind", choices=KINDS, required=True)
    due.add_argument("--from", dest="received", required=True, help="ISO 8601 date-time")
    due.set_defaults(handler=_due)
    op = cmds.add_parser("open", help="raise a ticket (from a call record with --call)")
    op.add_argument("--kind", choices=KINDS, required=True)
    op.add_argument("--by", required=True, help="job number of who raises it")
    op.add_argument("--call", type=int)
    op.add_argument("--summary", default="")
    op.add_argument("--caller-name", default="")
    op.add_argument("--callback-number", default="")
    op.add_argument("--department", default="", help="for a referral (转办)")
    op.add_argument("--field", action="append", default=[], metavar="NAME=VALUE",
                    help="complaint form fields (003 附录A), or text=… for a message")
    op.set_defaults(handler=_open)
    mv = cmds.add_parser("move", help="move a ticket along its lifecycle")
    mv.add_argument("id", type=int)
    mv.add_argument("status", choices=[s.value for s in TicketStatus if s != "open"])
    mv.add_argument("--by", required=True)
    mv.add_argument("--to", dest="assignee", help="the assignee (assigned)")
    mv.add_argument("--reply", default="", help="what the caller was told (replied)")
    mv.add_argument("--satisfaction", type=int, help="1-5, at the follow-up visit")
    mv.add_argument("--note", default="")
    mv.set_defaults(handler=_move)
    ext = cmds.add_parser("extend", help="延期: more working days, with reason and approver")
    ext.add_argument("id", type=int)
    ext.add_argument("--days", type=int, required=True)
    ext.add_argument("--reason", required=True)
    ext.add_argument("--approver", required=True)
    ext.add_argument("--by", required=True)
    ext.add_argument("--informed", action="store_true", help="the caller has been told")
    ext.set_defaults(handler=_extend)
    ls = cmds.add_parser("list", help="tickets by due time")
    ls.add_argument("--overdue", action="store_true")
    ls.add_argument("--json", action="store_true")
    ls.add_argument("--limit", type=int, default=200)
    ls.set_defaults(handler=_list)
    show = cmds.add_parser("show", help="one ticket with its history")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)
    loop_cli.register(cmds)


def _iso(value: datetime | None, tz: str) -> str | None:
    return value.astimezone(ZoneInfo(tz)).isoformat() if value is not None else None


def ticket_json(t: Ticket, tz: str, now: datetime, full: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": t.id, "call_id": t.call_id, "kind": t.kind, "status": t.status,
        "summary": t.summary, "owner": t.owner, "assignee": t.assignee,
        "department": t.department, "caller_name": t.caller_name,
        "callback_number": t.callback_number, "created_at": _iso(t.created_at, tz),
        "due_at": _iso(t.due_at, tz), "replied_at": _iso(t.replied_at, tz),
        "closed_at": _iso(t.closed_at, tz), "satisfaction": t.satisfaction,
        "extensions": t.extensions, "stage": t.stage, "unit": t.unit,
        "assisting": t.assisting, "urgency": t.urgency, "matter": t.matter,
        "sign_due_at": _iso(t.sign_due_at, tz), "follow_up_due_at": _iso(t.follow_up_due_at, tz),
        "merged_into": t.merged_into, "extension_request": t.extension_request,
        "overdue": is_overdue(TicketStatus(t.status), t.due_at, now)}
    if full:  # with its history: the last change is its latest event
        data["changed_at"] = _iso(max((e.at for e in t.events), default=t.created_at), tz)
        data["fields"] = t.fields
        data["reply"] = t.reply
        data["events"] = [{"at": _iso(e.at, tz), "by": e.by, "kind": e.kind,
                           "from": e.from_status, "to": e.to_status, "data": e.data}
                          for e in t.events]
    return data


def parse_since(text: str, tz: str) -> datetime:
    """``since`` of the API and the export: an ISO 8601 date or date-time, local (``tz``)
    without an offset. ValueError if it is neither."""
    since = datetime.fromisoformat(text.strip())
    return since if since.tzinfo is not None else since.replace(tzinfo=ZoneInfo(tz))


def _due(args: argparse.Namespace, settings: Settings) -> int:
    try:
        received = datetime.fromisoformat(args.received)
    except ValueError:
        raise TicketError(f"--from {args.received!r}: not an ISO 8601 date-time") from None
    kind = TicketKind(args.kind)
    print(work_calendar(settings).due_at(received, deadline_days(settings)[kind]).isoformat())
    return 0


def _run(settings: Settings, work: Any) -> int:
    async def go() -> int:
        db = Database(settings.effective_db_url)
        try:
            return int(await work(ticket_repository(db, settings), datetime.now(UTC)))
        finally:
            await db.close()

    return asyncio.run(go())


def _fields(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise TicketError(f"--field {pair!r}: expected NAME=VALUE")
        out[name.strip()] = value
    return out


def _open(args: argparse.Namespace, settings: Settings) -> int:
    async def work(repo: Any, now: datetime) -> int:
        tid = await repo.open(NewTicket(
            TicketKind(args.kind), args.by, args.call, args.summary, args.caller_name,
            args.callback_number, args.department, _fields(args.field)), now)
        t = await repo.get(tid)
        print(f"ticket {tid} ({args.kind}) due {_iso(t.due_at, settings.timezone)}")
        return 0

    return _run(settings, work)


def _move(args: argparse.Namespace, settings: Settings) -> int:
    async def work(repo: Any, now: datetime) -> int:
        await repo.move(args.id, Move(TicketStatus(args.status), args.by, args.note), now,
                        assignee=args.assignee, reply=args.reply,
                        satisfaction=args.satisfaction)
        print(f"ticket {args.id} is {args.status}")
        return 0

    return _run(settings, work)


def _extend(args: argparse.Namespace, settings: Settings) -> int:
    async def work(repo: Any, now: datetime) -> int:
        due = await repo.extend(args.id, args.days, args.reason, args.approver, args.by,
                                args.informed, now)
        print(f"ticket {args.id} now due {_iso(due, settings.timezone)}")
        return 0

    return _run(settings, work)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(repo: Any, now: datetime) -> int:
        rows = await repo.find(overdue_at=now if args.overdue else None, limit=args.limit)
        data = [ticket_json(t, settings.timezone, now) for t in rows]
        if args.json:
            print(json.dumps(data, ensure_ascii=False, indent=1))
            return 0
        for d in data:
            flag = "OVERDUE" if d["overdue"] else ""
            print(f"{d['id']:>6} {d['kind']:<9} {d['status']:<11} due {d['due_at']} "
                  f"owner {d['owner']:<6} {flag} {d['summary'][:40]}")
        return 0

    return _run(settings, work)


def _show(args: argparse.Namespace, settings: Settings) -> int:
    async def work(repo: Any, now: datetime) -> int:
        data = ticket_json(await repo.get(args.id), settings.timezone, now, full=True)
        if args.json:
            print(json.dumps(data, ensure_ascii=False, indent=1))
            return 0
        for key, value in data.items():
            if key != "events":
                print(f"{key:>15}: {value}")
        for e in data["events"]:
            print(f"  {e['at']} {e['by']:<6} {e['kind']:<8} {e['from'] or ''}->{e['to'] or ''}"
                  f" {json.dumps(e['data'], ensure_ascii=False)}")
        return 0

    return _run(settings, work)
