"""`hotline operators add|list|duty|pair|phone|passwd|remove`: seats and their A/B posts."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from hotline.ari.rest import AriRest
from hotline.config import Settings
from hotline.domain.seats import PHONES, SIP_PHONE, DutyState
from hotline.duty.cli import cli_actor
from hotline.duty.setup import settings_duty_service
from hotline.errors import ConfigError, TelephonyError
from hotline.seats.provision import SeatProvisioner, new_password, sip_digest
from hotline.store.database import Database, upgrade
from hotline.store.models import Operator
from hotline.store.operators_repo import OperatorRepository

DUTY_WORDS = {"on": DutyState.ON_DUTY, "on_duty": DutyState.ON_DUTY,
              "break": DutyState.BREAK, "off": DutyState.OFF}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("operators", help="operator seats (PJSIP endpoints, A/B posts)")
    osub = p.add_subparsers(dest="operators_action", required=True)
    add = osub.add_parser("add", help="create a seat; its SIP password is printed once")
    add.add_argument("job_number", help="the job number (工号), 3-8 digits; the SIP user")
    add.add_argument("--name", required=True)
    add.add_argument("--backup-of", default=None, metavar="JOB",
                     help="make this seat a B post of that A post (顶岗补位)")
    add.add_argument("--contact", default="",
                     help="a static SIP URI for a desk phone that does not register")
    add.add_argument("--phone", choices=PHONES, default=SIP_PHONE,
                     help="sip: a SIP phone over UDP; browser: the console's WebRTC softphone")
    phone = osub.add_parser("phone", help="switch the seat between a SIP phone and the "
                            "console's softphone")
    phone.add_argument("job_number")
    phone.add_argument("phone", choices=PHONES)
    ls = osub.add_parser("list")
    ls.add_argument("--json", action="store_true")
    duty = osub.add_parser("duty", help="set the duty state: on, break or off")
    duty.add_argument("job_number")
    duty.add_argument("state", choices=sorted(DUTY_WORDS))
    duty.add_argument("--confirm", action="store_true",
                      help="leave an A post with nobody on duty (none of its B posts is on)")
    pair = osub.add_parser("pair", help="make a seat a B post of an A post (003 AB岗), "
                           "or an A post again with --none")
    pair.add_argument("job_number")
    who = pair.add_mutually_exclusive_group(required=True)
    who.add_argument("--backup-of", default=None, metavar="A_JOB")
    who.add_argument("--none", action="store_true", help="make it an A post")
    pw = osub.add_parser("passwd", help="generate a new SIP password (printed once)")
    pw.add_argument("job_number")
    rm = osub.add_parser("remove")
    rm.add_argument("job_number")
    p.set_defaults(handler=run)


def operator_json(op: Operator) -> dict[str, object]:
    return {"job_number": op.job_number, "name": op.name, "backup_of": op.backup_of,
            "duty": op.duty, "contact": op.contact, "phone": op.phone,
            "last_call_at": op.last_call_at.isoformat() if op.last_call_at else None}


async def _push(settings: Settings, action: Callable[[SeatProvisioner], Awaitable[object]]
                ) -> str:
    """Apply the change to this machine's Asterisk at once. Every running `hotline serve`
    (this node's and the others', on the same database) pushes it into its own Asterisk
    within seconds too, or when it connects (hotline/seats/sync.py)."""
    from hotline.server.pbx_access import resolve_pbx
    from hotline.server.root import seat_provisioner

    later = "`hotline serve` pushes it within seconds, or when it connects"
    try:
        pbx = resolve_pbx(settings)
    except ConfigError:
        return f"no Asterisk configured here; {later}"
    async with AriRest(pbx.ari_url, pbx.ari_user, pbx.ari_password) as rest:
        try:
            await action(seat_provisioner(rest, pbx, settings))
        except TelephonyError as exc:
            return f"Asterisk not updated ({exc}); {later}"
    return "Asterisk updated (any other node's by its `hotline serve`, within seconds)"


def run(args: argparse.Namespace, settings: Settings) -> int:
    upgrade(settings.effective_db_url)

    async def go() -> int:
        db = Database(settings.effective_db_url)
        repo = OperatorRepository(db)
        try:
            action = args.operators_action
            if action == "list":
                rows = [operator_json(op) for op in await repo.all()]
                if args.json:
                    print(json.dumps(rows, ensure_ascii=False, indent=1))
                for r in [] if args.json else rows:
                    post = f"B of {r['backup_of']}" if r["backup_of"] else "A post"
                    if not r["backup_of"]:
                        backups = [str(b["job_number"]) for b in rows if b["backup_of"]
                                   == r["job_number"]]
                        post += f" (B: {','.join(backups)})" if backups else " (no B)"
                    print(f"{r['job_number']:>8} {r['name']:<10} {post:<12} {r['duty']}")
                return 0
            if action == "add":
                password = new_password()
                op = await repo.add(args.job_number, args.name,
                                    sip_digest(args.job_number, settings.sip_realm, password),
                                    backup_of=args.backup_of, contact=args.contact,
                                    phone=args.phone)
                print(f"operator {op.job_number} ({op.name}) added, duty off")
                print(f"SIP user {op.job_number}, realm {settings.sip_realm}, password "
                      f"{password}  (shown once; `hotline operators passwd` makes a new one)")
                print(await _push(settings, lambda p: p.push(op)))
            elif action == "passwd":
                password = new_password()
                await repo.set_digest(args.job_number,
                                      sip_digest(args.job_number, settings.sip_realm, password))
                op = await repo.get(args.job_number)
                print(f"new SIP password for {op.job_number}: {password}  (shown once)")
                print(await _push(settings, lambda p: p.push(op)))
            elif action == "phone":
                await repo.set_phone(args.job_number, args.phone)
                op = await repo.get(args.job_number)
                print(f"operator {op.job_number} now answers on the {op.phone} phone")
                print(await _push(settings, lambda p: p.push(op)))
            elif action == "duty":
                service = settings_duty_service(db, repo, settings)
                change = await service.change(args.job_number, DUTY_WORDS[args.state],
                                              cli_actor(), datetime.now(UTC),
                                              confirm=args.confirm)
                print(f"operator {args.job_number} is now {change.to.value}"
                      + (" (its post has nobody on duty: confirmed)" if change.guard else ""))
            elif action == "pair":
                await repo.set_backup(args.job_number, None if args.none else args.backup_of)
                print(f"operator {args.job_number} is now "
                      + ("an A post" if args.none else f"a B post of {args.backup_of}"))
            elif action == "remove":
                await repo.remove(args.job_number)
                print(f"operator {args.job_number} removed")
                print(await _push(settings, lambda p: p.remove(args.job_number)))
            return 0
        finally:
            await db.close()

    return asyncio.run(go())
