"""`hotline duty set|log|handover|ack|attendance|appraisal`: the duty log, shift handovers,
attendance and the monthly appraisal from the command line (the same service as /duty)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hotline.config import Settings
from hotline.domain.seats import DutyState
from hotline.duty.setup import appraisal_rules, settings_duty_service
from hotline.duty.store import DutyLog
from hotline.errors import HotlineError
from hotline.reports.appraisal import month_appraisal, parse_inspection
from hotline.reports.ledger import month_bounds
from hotline.store.database import Database, upgrade
from hotline.store.operators_repo import OperatorRepository

DUTY_WORDS = {"on": DutyState.ON_DUTY, "on_duty": DutyState.ON_DUTY,
              "break": DutyState.BREAK, "off": DutyState.OFF}


def cli_actor() -> str:
    """Who made a change from the command line, for the log and the audit."""
    return f"cli:{getpass.getuser()}"[:32]


def register(sub: Any) -> None:
    p = sub.add_parser("duty", help="the duty log, handovers, attendance, the appraisal")
    cmds = p.add_subparsers(dest="duty_action", required=True)
    st = cmds.add_parser("set", help="change an operator's duty state (logged, audited)")
    st.add_argument("job_number")
    st.add_argument("state", choices=sorted(DUTY_WORDS))
    st.add_argument("--confirm", action="store_true",
                    help="leave an A post with nobody on duty (none of its B posts is on)")
    st.add_argument("--note", default="")
    log = cmds.add_parser("log", help="the duty changes (值班记录)")
    log.add_argument("--job", default=None)
    log.add_argument("--month", default=None, help="YYYY-MM (default: the latest changes)")
    log.add_argument("--json", action="store_true")
    ho = cmds.add_parser("handover", help="hand over at the end of a shift (交接班记录)")
    ho.add_argument("job_number")
    ho.add_argument("--to", default="", help="the next operator (default: whoever comes)")
    ho.add_argument("--note", default="")
    ho.add_argument("--json", action="store_true")
    ack = cmds.add_parser("ack", help="the next operator acknowledges a handover")
    ack.add_argument("handover_id", type=int)
    ack.add_argument("--by", required=True, metavar="JOB")
    ack.add_argument("--note", default="")
    att = cmds.add_parser("attendance", help="time on duty per operator per day and month")
    att.add_argument("--month", required=True, help="YYYY-MM")
    att.add_argument("--json", action="store_true")
    ap = cmds.add_parser("appraisal", help="the operators' monthly appraisal (004 篇5)")
    ap.add_argument("--month", required=True, help="YYYY-MM")
    ap.add_argument("--inspection", default=None, metavar="CSV",
                    help="optional quality-inspection scores: JOB,SCORE (0-100) a line")
    ap.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def _iso(value: datetime | None, zone: ZoneInfo) -> str | None:
    return value.astimezone(zone).isoformat(timespec="seconds") if value else None


def run(args: argparse.Namespace, settings: Settings) -> int:
    args.inspection_scores = None
    if getattr(args, "inspection", None):
        try:
            args.inspection_scores = parse_inspection(Path(args.inspection).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise HotlineError(f"--inspection {args.inspection}: {exc}") from None
    upgrade(settings.effective_db_url)
    zone = ZoneInfo(settings.timezone)

    async def go() -> int:
        db = Database(settings.effective_db_url)
        operators = OperatorRepository(db)
        service = settings_duty_service(db, operators, settings)
        now = datetime.now(UTC)
        try:
            return await _action(args, settings, db, service, zone, now)
        finally:
            await db.close()

    return asyncio.run(go())


async def _action(args: argparse.Namespace, settings: Settings, db: Database, service: Any,
                  zone: ZoneInfo, now: datetime) -> int:
    action = args.duty_action
    if action == "set":
        change = await service.change(args.job_number, DUTY_WORDS[args.state], cli_actor(),
                                      now, confirm=args.confirm, note=args.note)
        extra = " (post left with nobody on duty: confirmed)" if change.guard else ""
        print(f"operator {args.job_number}: {change.before.value} -> {change.to.value}{extra}")
    elif action == "log":
        since = until = None
        if args.month:
            since, until = month_bounds(args.month, zone)
        rows = [{"job_number": c.job_number, "at": _iso(c.at, zone), "from": c.before.value,
                 "to": c.to.value, "by": c.by, "note": c.note, "guard": c.guard}
                for c in await DutyLog(db).history(job_number=args.job, since=since,
                                                   until=until, limit=5000)]
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=1))
        for r in [] if args.json else rows:
            print(f"{r['at']} {r['job_number']:>8} {r['from']:>8} -> {r['to']:<8} "
                  f"by {r['by']} {r['guard']} {r['note']}")
    elif action == "handover":
        handover_id = await service.hand_over(args.job_number, args.to, args.note, now, zone)
        items = (await service.log.handover(handover_id)).items
        if args.json:
            print(json.dumps({"id": handover_id, "items": items}, ensure_ascii=False,
                             indent=1))
        else:
            counts = ", ".join(f"{k} {len(v)}" for k, v in items.items())
            print(f"handover {handover_id} by {args.job_number}: {counts}")
    elif action == "ack":
        await service.acknowledge(args.handover_id, args.by, args.note, now)
        print(f"handover {args.handover_id} acknowledged by {args.by}")
    elif action == "attendance":
        since, until = month_bounds(args.month, zone)
        result = await month_appraisal(db, since, until, zone, appraisal_rules(settings),
                                       now=now)
        days = [{"job_number": a.job_number, "day": a.day.isoformat(),
                 "on_duty_h": a.on_duty_h, "break_h": round(a.break_s / 3600, 2),
                 "first_on": _iso(a.first_on, zone), "last_off": _iso(a.last_off, zone),
                 "changes": a.changes} for a in sorted(
                     result.attendance.days.values(), key=lambda a: (a.job_number, a.day))]
        month = {job: {"on_duty_h": round(t["on_duty_s"] / 3600, 2),
                       "break_h": round(t["break_s"] / 3600, 2), "days": int(t["days"])}
                 for job, t in result.attendance.by_operator().items()}
        if args.json:
            print(json.dumps({"days": days, "month": month}, ensure_ascii=False, indent=1))
        else:
            for d in days:
                print(f"{d['job_number']:>8} {d['day']} on {d['on_duty_h']:6.2f} h  "
                      f"break {d['break_h']:5.2f} h")
            for job, t in month.items():
                print(f"{job:>8} {args.month} on {t['on_duty_h']:7.2f} h over {t['days']} "
                      "days")
    elif action == "appraisal":
        since, until = month_bounds(args.month, zone)
        result = await month_appraisal(db, since, until, zone, appraisal_rules(settings),
                                       args.inspection_scores, now=now)
        scores: list[dict[str, Any]] = [{
            "job_number": a.job_number, "name": a.name, "total": a.total,
                 "satisfaction": a.satisfaction, "daily": a.daily, "parts": a.parts,
                 "figures": a.figures} for a in result.appraisals]
        if args.json:
            print(json.dumps(scores, ensure_ascii=False, indent=1))
        for r in [] if args.json else scores:
            print(f"{r['job_number']:>8} {r['name']:<8} total {r['total']:6.2f}  "
                  f"satisfaction {r['satisfaction']}  daily {r['daily']}")
    return 0
