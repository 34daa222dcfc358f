"""A running controller (flow + controller + event stream) against the fake ARI and a real
SQLite database, for scenario tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from hotline.ari.rest import AriRest
from hotline.ari.stream import Dispatcher, EventStream
from hotline.attendant.call import AttendantSettings
from hotline.calls.ari_telephony import AriTelephony
from hotline.calls.commands import CallRequests
from hotline.calls.context import FlowSettings
from hotline.calls.controller import CallController
from hotline.calls.flow import CallDeps, CallFlow
from hotline.config import Settings
from hotline.directory.index import DirectoryIndex
from hotline.directory.records import parse_csv
from hotline.directory.service import DirectoryService
from hotline.domain.seats import DutyState
from hotline.live.hub import LiveHub
from hotline.live.publishing_store import PublishingCallStore
from hotline.ports import Recorder
from hotline.seats.board import SeatRoster
from hotline.speech.vocabulary import Vocabularies, vocabulary_of
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.models import Call
from hotline.store.operators_repo import OperatorRepository
from hotline.store.tickets_repo import TicketRepository
from hotline.tickets.setup import deadline_days, work_calendar
from tests.fake_ari import PASSWORD, USER, FakeAri
from tests.scripted import ScriptedRecognizer

# the five entries the scenario tests speak of (two 雾都 in different districts...)
SAMPLE = Path(__file__).parent / "data" / "directory.csv"

FAST = FlowSettings(ring_on_s=0.05, ring_off_s=0.2, silence_prompt_s=0.1, seat_ring_s=1.0,
                    seat_fault_offer_s=3.0, listen_s=0.3, message_silence_s=1.0)
FAST_ATTENDANT = AttendantSettings(goodbye_pause_s=0.05, caller_hangup_wait_s=0.2,
                                   rating_wait_s=0.3, keep_alive_s=1.0, message_max_s=5.0)


def attendant_for(**changes: object) -> AttendantSettings:
    """The attendant's short test timings, with some changed."""
    return replace(FAST_ATTENDANT, **changes)  # type: ignore[arg-type]


class FakePrompts:
    async def media(self, phrase_id: str, **values: str) -> str:
        extra = ",".join(f"{k}={v}" for k, v in sorted(values.items()))
        return f"sound:test/{phrase_id}" + (f"?{extra}" if extra else "")

    async def tone(self) -> str:
        return "sound:test/tone"


class WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()


@dataclass
class Harness:
    fake: FakeAri
    calls: CallRepository
    controller: CallController
    stream: EventStream
    requests: CallRequests
    hub: LiveHub
    tickets: TicketRepository

    async def record_for(self, channel_id: str, ended: bool = True,
                         timeout_s: float = 5.0) -> Call:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            for row in await self.calls.recent(100):
                if row.channel_id == channel_id and (row.ended_at is not None or not ended):
                    return row
            await asyncio.sleep(0.02)
        raise AssertionError(f"no {'closed ' if ended else ''}record for {channel_id}")


@contextlib.asynccontextmanager
async def running(fake: FakeAri, tmp: Path, settings: FlowSettings = FAST,
                  seats: Sequence[tuple[str, str | None, DutyState]] = (),
                  utterances: Sequence[str] = (),
                  attendant: AttendantSettings | None = None,
                  recognizer: ScriptedRecognizer | None = None,
                  recorder: Recorder | None = None) -> AsyncIterator[Harness]:
    """The controller over the fake ARI; ``seats`` are (job number, A post or None, duty)."""
    db = Database(f"sqlite+aiosqlite:///{tmp / 'test.db'}")
    await db.upgrade()
    calls = CallRepository(db)
    base = f"http://127.0.0.1:{fake.server.port}/ari"  # type: ignore[union-attr]
    rest = AriRest(base, USER, PASSWORD)
    operators = OperatorRepository(db)
    for job, backup_of, duty in seats:
        await operators.add(job, f"operator {job}", "0" * 32, backup_of=backup_of)
        await operators.set_duty(job, duty)
    telephony = AriTelephony(rest, "hotline")
    entries, _ = parse_csv(SAMPLE.read_bytes())
    hub, requests = LiveHub(), CallRequests()
    tickets = TicketRepository(db, work_calendar(Settings()), deadline_days(Settings()))
    flow = CallFlow(CallDeps(
        store=PublishingCallStore(calls, hub), prompts=FakePrompts(), clock=WallClock(),
        tickets=tickets, settings=settings, attendant=attendant or FAST_ATTENDANT,
        telephony=telephony, seats=SeatRoster(operators, max_age_s=0),
        directory=DirectoryService(DirectoryIndex(entries, home_district="万州区")),
        recognizer=recognizer if recognizer is not None else ScriptedRecognizer(utterances),
        requests=requests, vocabulary=Vocabularies(vocabulary_of(entries)),
        recorder=recorder))
    controller = CallController(rest, "hotline", flow, telephony)
    stream = EventStream(base, USER, PASSWORD, "hotline", Dispatcher(controller),
                         on_connected=controller.resync, backoff_initial_s=0.05,
                         backoff_max_s=0.2)
    tasks = [asyncio.create_task(controller.run()), asyncio.create_task(stream.run())]
    await asyncio.wait_for(fake.connected.wait(), 5)
    await asyncio.wait_for(stream.connected.wait(), 5)
    try:
        yield Harness(fake, calls, controller, stream, requests, hub, tickets)
    finally:
        await controller.stop(2)
        tasks[1].cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        await rest.close()
        await db.close()
