"""`hotline attendant chat [--jsonl] [--caller NUMBER]`: the attendant on the text channel,
with the real directory, phrasebook, calendar and store."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys

from hotline.calls.text_session import TextDeps, run_text_call
from hotline.config import Settings
from hotline.directory.service import DirectoryService
from hotline.paths import project_dir
from hotline.phrasebook.model import load_phrasebook
from hotline.server.flow_settings import attendant_settings
from hotline.server.root import SystemClock
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.tickets.setup import ticket_repository


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("attendant", help="the attendant (9000) on the text channel")
    asub = p.add_subparsers(dest="attendant_action", required=True)
    chat = asub.add_parser("chat", help="talk to the attendant: its phrases are printed, "
                                        "the caller's words typed (an empty line is silence, "
                                        "/hangup hangs up)")
    chat.add_argument("--jsonl", action="store_true",
                      help="the JSON Lines protocol for programs (see the README)")
    chat.add_argument("--caller", default="text", help="the caller's number on the record")
    p.set_defaults(handler=run)


class StdLines:
    async def read(self) -> str | None:
        line = await asyncio.to_thread(sys.stdin.readline)
        return line if line else None

    def write(self, line: str) -> None:
        print(line, flush=True)


def _error(message: str) -> None:
    print(f"hotline attendant chat: {message}", file=sys.stderr, flush=True)


async def chat(settings: Settings, jsonl: bool, caller: str) -> int:
    db = Database(settings.effective_db_url)
    try:
        await db.upgrade()
        directory = DirectoryService(path=settings.directory_index_path)
        await directory.start(db, settings.home_district)
        deps = TextDeps(store=CallRepository(db), tickets=ticket_repository(db, settings),
                        clock=SystemClock(), unit=settings.unit_name,
                        phrasebook=load_phrasebook(project_dir("scripts") / "phrasebook.yaml"),
                        # nothing is recorded on the text channel: no recording notice
                        settings=dataclasses.replace(attendant_settings(settings),
                                                     recording_notice=False),
                        directory=directory)
        lines = StdLines()
        while True:
            ended = await run_text_call(deps, lines, caller, _error, jsonl)
            summary = {"record": ended.record, "disposition": ended.disposition,
                       "category": ended.category, "tickets": ended.tickets}
            if not jsonl:
                lines.write(f"-- record {ended.record}: {ended.disposition}"
                            + (f", tickets {ended.tickets}" if ended.tickets else ""))
                return 0
            lines.write(json.dumps({"end": summary}, ensure_ascii=False))
            nxt = await next_call(lines)
            if nxt is None:
                return 0
            caller = nxt
    finally:
        await db.close()


async def next_call(lines: StdLines) -> str | None:
    """After ``end``: {"call": {"caller": …}} starts the next dialogue; EOF ends."""
    while True:
        line = await lines.read()
        if line is None:
            return None
        try:
            got = json.loads(line)
            return str(got["call"].get("caller", "text"))
        except (ValueError, KeyError, TypeError, AttributeError):
            _error(f'expected {{"call": {{"caller": …}}}} after end, not {line.strip()[:80]!r}')


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(chat(settings, args.jsonl, args.caller))
