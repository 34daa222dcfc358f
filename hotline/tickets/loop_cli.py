"""`hotline tickets dispatch|sign|return|redispatch|extend-request|extend-approve|reply|remind|
merge|follow-up|send-back|close-unsatisfied|suggest|export`: the loop with the handling units
from the shell. ``--by`` is a console user (hotline users add): what they may do follows
their role, and a unit user's unit."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from hotline.config import Settings
from hotline.domain.loop.limits import GRADES, METHODS, MatterKind, Urgency
from hotline.domain.loop.machine import LoopEvent
from hotline.domain.tickets import TicketError
from hotline.store.database import Database
from hotline.store.loop_repo import LoopRepository
from hotline.tickets.setup import loop_repository

Work = Callable[[LoopRepository, datetime], Awaitable[Any]]


def register(cmds: Any) -> None:
    def verb(name: str, text: str, handler: Callable[..., int], ticket: bool = True,
             by: bool = True) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = cmds.add_parser(name, help=text)
        if ticket:
            p.add_argument("id", type=int)
        if by:
            p.add_argument("--by", required=True, help="who does it (a console user)")
        p.set_defaults(handler=handler)
        return p

    d = verb("dispatch", "派单: to a lead unit (主办), with assisting units (协办)", _dispatch)
    d.add_argument("--unit", required=True, help="the lead unit")
    d.add_argument("--assist", action="append", default=[], help="an assisting unit")
    d.add_argument("--instructions", default="")
    d.add_argument("--urgent", choices=[u.value for u in Urgency if u.value], default="",
                   help="life: danger to life or property; utility: water, power, gas, heat")
    d.add_argument("--matter", choices=[m.value for m in MatterKind],
                   help="the kind of matter (sets the reply deadline)")
    verb("sign", "签收, by the lead unit", _sign)
    r = verb("return", "退单, by the lead unit within the acceptance limit", _return)
    r.add_argument("--reason", required=True)
    rd = verb("redispatch", "改派 to another unit, or --insist on the same one (supervisor)",
              _redispatch)
    rd.add_argument("--unit", default="")
    rd.add_argument("--assist", action="append", default=[])
    rd.add_argument("--instructions", default="")
    rd.add_argument("--insist", default="", metavar="NOTE",
                    help="the unit must handle it after all: why")
    er = verb("extend-request", "延期申请, by the lead unit before the deadline", _ext_request)
    er.add_argument("--days", type=int, required=True)
    er.add_argument("--reason", required=True)
    ea = verb("extend-approve", "approve (or --refuse) the waiting extension (supervisor)",
              _ext_approve)
    ea.add_argument("--refuse", action="store_true")
    ea.add_argument("--informed", action="store_true", help="the caller has been told")
    ea.add_argument("--note", default="")
    rp = verb("reply", "答复, by the lead unit", _reply)
    rp.add_argument("--text", required=True)
    rm = verb("remind", "催办: one reminder per overdue step (of ID, or of every ticket)",
              _remind, ticket=False)
    rm.add_argument("id", type=int, nargs="?")
    mg = verb("merge", "并单: merge repeat tickets into ID (supervisor)", _merge)
    mg.add_argument("--with", dest="others", type=int, action="append", required=True)
    fu = verb("follow-up", "回访: the owner's (or a supervisor's) visit", _follow_up)
    fu.add_argument("--method", choices=METHODS, required=True)
    fu.add_argument("--not-reached", action="store_true", help="the caller was not reached")
    fu.add_argument("--grade", choices=GRADES, default="")
    fu.add_argument("--opinion", default="")
    sb = verb("send-back", "重办: an unsatisfied ticket back to its unit (supervisor)",
              _send_back)
    sb.add_argument("--reason", required=True)
    cu = verb("close-unsatisfied", "close an unsatisfied ticket without 重办 (supervisor)",
              _close)
    cu.add_argument("--note", required=True)
    sg = verb("suggest", "the dispatch catalogue's lead unit for the ticket", _suggest,
              by=False)
    sg.add_argument("--category", default="")
    ex = verb("export", "tickets changed since T (any event: raised, moved, dispatched…), "
                        "one JSON object a line", _export,
              ticket=False, by=False)
    ex.add_argument("--since", required=True,
                    help="ISO 8601 date or date-time (local time without an offset)")
    ex.add_argument("--unit", help="only this unit's tickets (lead or assisting)")
    ex.add_argument("--jsonl", action="store_true", required=True)


def _run(settings: Settings, work: Work) -> int:
    async def go() -> int:
        db = Database(settings.effective_db_url)
        try:
            await work(loop_repository(db, settings), datetime.now(UTC))
            return 0
        finally:
            await db.close()

    return asyncio.run(go())


def _event(settings: Settings, args: argparse.Namespace,
           call: Callable[[LoopRepository], Callable[..., Awaitable[LoopEvent]]], *extra: Any,
           **kw: Any) -> int:
    async def work(repo: LoopRepository, now: datetime) -> None:
        actor = await repo.actor(args.by)
        e = await call(repo)(args.id, actor, now, *extra, **kw)
        print(f"ticket {args.id}: {e.kind} by {e.by} ({e.from_status} -> {e.to_status}) "
              f"{json.dumps(e.data, ensure_ascii=False)}")

    return _run(settings, work)


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    return _event(settings, args, lambda r: r.dispatch, args.unit, args.assist,
                  args.instructions, Urgency(args.urgent),
                  MatterKind(args.matter) if args.matter else None)


def _sign(args: argparse.Namespace, settings: Settings) -> int:
    return _event(settings, args, lambda r: r.sign)


def _return(args: argparse.Namespace, settings: Settings) -> int:
    return _event(settings, args, lambda r: r.return_, args.reason)


def _redispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.insist:
        if args.unit:
            raise TicketError("--insist keeps the same unit: give --unit or --insist")
        return _event(settings, args, lambda r: r.insist, args.insist)
    if not args.unit:
        raise TicketError("redispatch needs --unit (改派) or --insist NOTE")
    return _event(settings, args, lambda r: r.redispatch, args.unit, args.assist,
                  args.instructions)


def _ext_request(args: argparse.Namespace, settings: Settings) -> int:
    return _event(settings, args, lambda r: r.request_extension, args.days, args.reason)


def _ext_approve(args: argparse.Namespace, settings: Settings) -> int:
    return _event(settings, args, lambda r: r.decide_extension, not args.refuse,
                  args.informed, args.note)


def _reply(args: argparse.Namespace, settings: Settings) -> int:
    return _event(settings, args, lambda r: r.reply, args.text)


def _follow_up(args: argparse.Namespace, settings: Settings) -> int:
    if not args.not_reached and not args.grade:
        raise TicketError("a reached caller's follow-up needs --grade")
    return _event(settings, args, lambda r: r.follow_up, args.method, not args.not_reached,
                  args.grade, args.opinion)


def _send_back(args: argparse.Namespace, settings: Settings) -> int:
    return _event(settings, args, lambda r: r.send_back, args.reason)


def _close(args: argparse.Namespace, settings: Settings) -> int:
    return _event(settings, args, lambda r: r.close, args.note)


def _merge(args: argparse.Namespace, settings: Settings) -> int:
    async def work(repo: LoopRepository, now: datetime) -> None:
        events = await repo.merge(args.id, args.others, await repo.actor(args.by), now)
        print(f"ticket {args.id}: merged {', '.join(str(o) for o in args.others)} "
              f"({len(events)})")

    return _run(settings, work)


def _remind(args: argparse.Namespace, settings: Settings) -> int:
    async def work(repo: LoopRepository, now: datetime) -> None:
        await repo.actor(args.by)
        for r in await repo.remind(now, args.by, args.id):
            print(f"ticket {r.ticket_id}: 催办 {r.step} to {r.unit} (due {r.due_at.isoformat()})")

    return _run(settings, work)


def _suggest(args: argparse.Namespace, settings: Settings) -> int:
    async def work(repo: LoopRepository, now: datetime) -> None:
        from hotline.tickets.setup import ticket_repository

        ticket = await ticket_repository(repo.db, settings).get(args.id)
        rule = await repo.suggest(ticket, args.category)
        if rule is None:
            raise TicketError(f"the dispatch catalogue has no unit for ticket {args.id}")
        print(f"{rule.unit}\t({rule.category}: {'|'.join(rule.keywords)})")

    return _run(settings, work)


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.tickets.cli import parse_since, ticket_json

    try:
        since = parse_since(args.since, settings.timezone)
    except ValueError:
        raise TicketError(f"--since {args.since!r}: not an ISO 8601 date or date-time") from None

    async def work(repo: LoopRepository, now: datetime) -> None:
        offset = 0
        while True:  # each page's histories in one query (the repository's batch load)
            _, rows = await repo.page(offset=offset, limit=500, since=since, unit=args.unit)
            for t in rows:
                print(json.dumps(ticket_json(t, settings.timezone, now, full=True),
                                 ensure_ascii=False))
            if len(rows) < 500:
                return
            offset += len(rows)

    return _run(settings, work)
