"""`hotline privacy sweep | export --caller NUMBER | erase --caller NUMBER`: the retention
sweep run by hand (`serve` runs it daily), and a person's request (PIPL 第四十五、四十七条)
to see or remove what the hotline holds about them. Each is written to the audit log with
who asked (--by). Recordings are deleted in Asterisk over ARI (HOTLINE_ARI_* or the
sandbox); where it cannot be reached they are left, named on their records, for a later
run."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from hotline.ari.rest import AriRest
from hotline.calls.ari_recorder import AriRecorder
from hotline.config import Settings
from hotline.domain.retention import parse_retention
from hotline.errors import ConfigError
from hotline.retention import PersonalDataService
from hotline.server.pbx_access import resolve_pbx
from hotline.server.root import SystemClock
from hotline.store.database import Database
from hotline.store.personal_data import PersonalData
from hotline.store.users_repo import UserRepository

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser("privacy", help="retention sweep; a caller's export or erasure")
    cmds = p.add_subparsers(dest="privacy_action", required=True)
    sweep = cmds.add_parser("sweep", help="delete what HOTLINE_RETENTION_DAYS no longer keeps")
    sweep.add_argument("--by", default="system", help="who runs it (the audit log)")
    for name, text in (("export", "what the hotline holds about a caller, as JSON"),
                       ("erase", "remove a caller's data from all their records")):
        c = cmds.add_parser(name, help=text)
        c.add_argument("--caller", required=True, help="the caller's number")
        c.add_argument("--by", required=True, help="who handles the request (the audit log)")
        if name == "export":
            c.add_argument("--out", type=Path, help="write here (0600) instead of stdout")
    p.set_defaults(handler=run)


def _recordings(settings: Settings) -> tuple[AriRecorder | None, AriRest | None]:
    try:
        pbx = resolve_pbx(settings)
    except ConfigError as exc:
        log.warning("recordings cannot be deleted now (no PBX): %s", exc)
        return None, None
    rest = AriRest(pbx.ari_url, pbx.ari_user, pbx.ari_password)
    return AriRecorder(rest, settings.ari_app), rest


def run(args: argparse.Namespace, settings: Settings) -> int:
    async def go() -> dict[str, Any]:
        db = Database(settings.effective_db_url)
        recorder, rest = _recordings(settings)
        service = PersonalDataService(PersonalData(db), UserRepository(db), recorder,
                                      SystemClock(), parse_retention(settings.retention_days))
        actions: dict[str, Callable[[], Awaitable[dict[str, Any]]]] = {
            "sweep": lambda: service.sweep(args.by),
            "export": lambda: service.export(args.caller, args.by),
            "erase": lambda: service.erase(args.caller, args.by)}
        try:
            await db.upgrade()
            return await actions[args.privacy_action]()
        finally:
            if rest is not None:
                await rest.close()
            await db.close()

    result = asyncio.run(go())
    text = json.dumps(result, ensure_ascii=False, indent=1)
    out: Path | None = getattr(args, "out", None)
    if out is not None:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        print(f"{out}: {len(result['calls'])} calls, {len(result['tickets'])} tickets")
    else:
        print(text)
    if result.get("recordings_left"):
        print(f"hotline privacy: {result['recordings_left']} recordings could not be deleted "
              "(is Asterisk reachable?); run it again", file=sys.stderr)
        return 1
    return 0
