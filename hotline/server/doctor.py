"""`hotline doctor`: checks what the hotline needs (tools, phrasebook and prompts, Asterisk
and ARI, the database and its migrations, accounts, the directory, the speech model, the
softphone, seats) and says what to fix. Exit 1 if anything is broken; warnings do not fail."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
from dataclasses import asdict, dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select

from hotline.ari.rest import AriRest
from hotline.config import Settings
from hotline.errors import HotlineError
from hotline.prompts.library import PromptLibrary
from hotline.server.pbx_access import PbxAccess, resolve_pbx
from hotline.speech.choice import choose_engine
from hotline.speech.model_check import check_model
from hotline.speech.whisper_model import BASE, check_whisper
from hotline.store.database import Database, alembic_config
from hotline.store.models import DirectoryEntry, Operator, User

OK, WARN, FAIL = "ok", "warning", "broken"
MODULES = ("chan_pjsip.so", "res_pjsip_transport_websocket.so", "app_stasis.so",
           "res_stasis_snoop.so", "chan_rtp.so", "func_db.so", "func_talkdetect.so",
           "codec_opus_open_source.so", "res_srtp.so")


@dataclass
class Finding:
    check: str
    status: str
    detail: str
    fix: str = ""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("doctor", help="check the installation and say what to fix")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def tools() -> list[Finding]:
    out = []
    for tool, why in (("espeak-ng", "renders the phrasebook"), ("sox", "converts prompts"),
                      ("openssl", "makes the sandbox's DTLS certificate")):
        found = shutil.which(tool)
        out.append(Finding(f"tool {tool}", OK if found else FAIL, found or "not found",
                           "" if found else f"apt-get install {tool} ({why}); "
                           "scripts/bootstrap.sh installs everything"))
    return out


def prompts(settings: Settings) -> list[Finding]:
    try:
        lib = PromptLibrary.from_settings(settings)
    except HotlineError as exc:
        return [Finding("phrasebook", FAIL, str(exc), "fix scripts/phrasebook.yaml at the "
                        "line named")]
    missing = lib.missing()
    return [Finding("phrasebook", OK, f"{len(lib.phrasebook.phrases)} phrases"),
            Finding("prompts", WARN if missing else OK,
                    f"{len(missing)} not rendered: {', '.join(missing[:5])}" if missing
                    else "all rendered",
                    "hotline prompts build (serve also does it at start)" if missing else "")]


async def asterisk(settings: Settings) -> list[Finding]:
    try:
        pbx = resolve_pbx(settings)
    except HotlineError as exc:
        return [Finding("asterisk", FAIL, str(exc), "hotline sandbox up, or set "
                        "HOTLINE_ARI_URL/_USER/_PASSWORD")]
    out: list[Finding] = []
    async with AriRest(pbx.ari_url, pbx.ari_user, pbx.ari_password, timeout_s=5) as ari:
        try:
            info = await ari.asterisk_info()
        except HotlineError as exc:
            return [Finding("asterisk", FAIL, f"ARI at {pbx.ari_url}: {exc}",
                            "hotline sandbox up (or start your Asterisk); check ari.conf and "
                            "http.conf")]
        version = info.get("system", {}).get("version", "?") if isinstance(info, dict) else "?"
        out.append(Finding("asterisk", OK, f"Asterisk {version}, ARI at {pbx.ari_url}"))
        for module in MODULES:
            try:
                await ari.request("GET", f"/asterisk/modules/{module}")
            except HotlineError:
                out.append(Finding(f"module {module}", FAIL, "not loaded",
                                   "add it to modules.conf (see dialplan/modules.conf)"))
        try:
            await ari.request("GET", "/endpoints/PJSIP/public")
            out.append(Finding("trunk", OK, "PJSIP endpoint 'public'"))
        except HotlineError:
            out.append(Finding("trunk", FAIL, "no PJSIP endpoint 'public'",
                               "define your carrier trunk as endpoint 'public' "
                               "(dialplan/pjsip.conf)"))
        try:
            await ari.request("GET", f"/applications/{settings.ari_app}")
            out.append(Finding("controller", OK, f"application {settings.ari_app!r} is "
                               "connected"))
        except HotlineError:
            out.append(Finding("controller", WARN, f"application {settings.ari_app!r} is not "
                               "connected: callers hear the apology",
                               "hotline serve"))
    out.append(softphone(pbx))
    return out


def softphone(pbx: PbxAccess) -> Finding:
    if not pbx.sip_ws_url:
        return Finding("softphone", WARN, "no PJSIP WebSocket URL: operators need SIP phones",
                       "set HOTLINE_SIP_WS_URL (and HOTLINE_DTLS_CERT/_KEY)")
    return Finding("softphone", OK, f"WebRTC over {pbx.sip_ws_url}, DTLS "
                   f"{pbx.dtls_cert or 'certificate made by Asterisk'}")


async def database(settings: Settings) -> list[Finding]:
    db = Database(settings.effective_db_url)
    try:
        await db.ping()
        async with db.engine.connect() as conn:
            current = await conn.run_sync(
                lambda c: MigrationContext.configure(c).get_current_revision())
        head = ScriptDirectory.from_config(alembic_config(db.url)).get_current_head()
        out = [Finding("database", OK, db.engine.url.render_as_string(hide_password=True))]
        if current != head:
            out.append(Finding("migrations", FAIL, f"at {current or 'none'}, code wants {head}",
                               "hotline db upgrade"))
            return out
        out.append(Finding("migrations", OK, f"at {head}"))
        async with db.unit() as s:
            users = await s.scalar(select(func.count()).select_from(User)) or 0
            entries = await s.scalar(select(func.count()).select_from(DirectoryEntry)) or 0
            on_duty = await s.scalar(select(func.count()).select_from(Operator)
                                     .where(Operator.duty == "on_duty")) or 0
        out.append(Finding("accounts", OK if users else WARN, f"{users} console users",
                           "" if users else "echo PASSWORD | hotline users add 8001 --role "
                           "supervisor --password-stdin"))
        out.append(Finding("directory", OK if entries else WARN, f"{entries} entries",
                           "" if entries else "hotline directory import directory/sample.csv"))
        out.append(Finding("seats", OK if on_duty else WARN, f"{on_duty} operators on duty",
                           "" if on_duty else "no one on duty: the attendant answers every "
                           "call (hotline operators duty JOB on)"))
        return out
    except HotlineError as exc:
        return [Finding("database", FAIL, str(exc), "check HOTLINE_DB_URL and that the "
                        "server is up")]
    finally:
        await db.close()


def speech(settings: Settings) -> Finding:
    """The engine, its model and the model's verified hash (Whisper), or why there is none."""
    install = f"hotline asr install {BASE}"
    try:
        choice = choose_engine(settings)
        if choice is None:
            return Finding("speech model", WARN, "none installed: speech steps hand calls to "
                           "operators", install)
        if choice.engine == "whisper":
            w = check_whisper(choice.model)
            return Finding("speech model", OK, f"whisper {w.name} at {w.path} ({choice.why}), "
                           f"model.bin sha256 {w.model_sha256} verified")
        info = check_model(choice.model)
    except HotlineError as exc:
        return Finding("speech model", FAIL, str(exc), install)
    return Finding("speech model", OK, f"vosk {info.path} ({info.sample_rate} Hz, "
                   f"{'grammar' if info.dynamic_graph else 'static graph'})")


def run(args: argparse.Namespace, settings: Settings) -> int:
    async def all_checks() -> list[Finding]:
        return (tools() + prompts(settings) + [speech(settings)]
                + await asterisk(settings) + await database(settings))

    findings = asyncio.run(all_checks())
    if args.json:
        print(json.dumps([asdict(f) for f in findings], ensure_ascii=False, indent=1))
    else:
        marks = {OK: "✓", WARN: "!", FAIL: "✗"}
        for f in findings:
            fix = f"\n    fix: {f.fix}" if f.fix else ""
            print(f"{marks[f.status]} {f.check}: {f.detail}{fix}")
    broken = sum(f.status == FAIL for f in findings)
    if not args.json:
        print(f"{broken} broken, {sum(f.status == WARN for f in findings)} warnings")
    return 1 if broken else 0
