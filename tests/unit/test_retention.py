"""Callers' personal data over time and on request, on both databases: the retention sweep
(recordings, transcripts and caller details of closed records past HOTLINE_RETENTION_DAYS;
records with an open ticket kept), a person's export and erasure, each audited; the
`hotline privacy` command; the SQLite file created 0600 and the recordings folder 0700."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hotline.cli import main
from hotline.domain.calls import NewCall
from hotline.domain.loop.limits import Limits
from hotline.domain.retention import Retention, parse_retention
from hotline.domain.tickets import DEFAULT_DAYS, Move, NewTicket, TicketKind, TicketStatus
from hotline.domain.workdays import WorkCalendar
from hotline.errors import TelephonyError
from hotline.retention import PersonalDataService, PrivacyError
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.loop_repo import LoopRepository
from hotline.store.models import AuditEntry, CallEvent
from hotline.store.personal_data import PersonalData
from hotline.store.tickets_repo import TicketRepository
from hotline.store.users_repo import UserRepository
from tests.unit.test_tickets import SH

NOW = datetime(2027, 6, 1, 2, 0, tzinfo=UTC)
CALLER, OTHER = "13900000001", "13800000002"


class FixedClock:
    def now(self) -> datetime:
        return NOW

    def monotonic(self) -> float:
        return 0.0


class Spool:
    """The recordings' store: which were deleted; ``broken`` ones cannot be."""

    def __init__(self, broken: set[str] | None = None) -> None:
        self.deleted: list[str] = []
        self.broken = broken or set()

    async def delete(self, name: str) -> None:
        if name in self.broken:
            raise TelephonyError("ARI unreachable")
        self.deleted.append(name)


async def a_call(calls: CallRepository, name: str, caller: str, days_ago: int,
                 now: datetime = NOW) -> int:
    ended = now - timedelta(days=days_ago)
    cid = await calls.open_call(NewCall(name, caller, "12345", ended - timedelta(minutes=5)))
    await calls.update_call(cid, ended_at=ended, state="ended", disposition="resolved",
                            recording=f"call-{name}", caller_name="王", caller_title="阿姨",
                            callback_number="023-58001234", summary="路灯坏了", category="求助")
    await calls.add_event(cid, "transcript", {"speaker": "caller", "text": "我是王阿姨"})
    await calls.add_event(cid, "said", {"phrase": "opening"})
    return cid


async def seed(db: Database, now: datetime = NOW) -> dict[str, int]:
    calls = CallRepository(db)
    tickets = TicketRepository(db, WorkCalendar(SH), dict(DEFAULT_DAYS))
    ids = {"old": await a_call(calls, "old", CALLER, 400, now),  # everything goes
           "mid": await a_call(calls, "mid", CALLER, 200, now),  # the recording goes
           "new": await a_call(calls, "new", CALLER, 10, now),  # all kept
           "open": await a_call(calls, "open", OTHER, 400, now),  # an open ticket: kept
           "other": await a_call(calls, "other", OTHER, 10, now)}
    await tickets.open(NewTicket(TicketKind.CALLBACK, "1001", ids["open"], "回电"), now)
    message = await tickets.open(NewTicket(
        TicketKind.MESSAGE, "9000", ids["old"], "留言",
        fields={"text": "请回电给王阿姨", "recording": "msg-old",
                "complainant_name": "王某"}), now - timedelta(days=420))
    for to in (TicketStatus.IN_PROGRESS, TicketStatus.REPLIED, TicketStatus.FOLLOW_UP,
               TicketStatus.CLOSED):
        await tickets.move(message, Move(to, "1001"), now - timedelta(days=410),
                           assignee="1001", reply="已回电", satisfaction=5)
    ids["message"] = message
    words = "路灯坏了请回电"  # a callback taken down by the attendant, with its recording
    callback = await tickets.open(NewTicket(
        TicketKind.CALLBACK, "9000", ids["old"], f"回电：{words}",
        fields={"recording": "words-old", "recording_s": 4.0, "transcript": words}),
        now - timedelta(days=420))
    await calls.add_event(ids["old"], "callback_taken", {
        "ticket": callback, "recording": "words-old", "transcript": words})
    for to in (TicketStatus.IN_PROGRESS, TicketStatus.REPLIED, TicketStatus.FOLLOW_UP,
               TicketStatus.CLOSED):
        await tickets.move(callback, Move(to, "1001"), now - timedelta(days=410),
                           assignee="1001", reply="已回电", satisfaction=5)
    ids["callback"] = callback
    return ids


def service(db: Database, spool: Spool) -> PersonalDataService:
    return PersonalDataService(PersonalData(db), UserRepository(db), spool, FixedClock(),
                               Retention())


async def audit(db: Database) -> list[AuditEntry]:
    async with db.unit() as s:
        return list((await s.scalars(select(AuditEntry).order_by(AuditEntry.id))).all())


async def said(db: Database, call_id: int) -> list[str]:
    async with db.unit() as s:
        return list((await s.scalars(select(CallEvent.kind).where(
            CallEvent.call_id == call_id))).all())


async def test_the_sweep_removes_what_retention_no_longer_keeps(db: Database) -> None:
    ids = await seed(db)
    spool = Spool()
    report = await service(db, spool).sweep()
    assert sorted(spool.deleted) == ["call-mid", "call-old", "msg-old", "words-old"]
    assert report == {"recordings_deleted": 4, "recordings_left": 0, "transcripts_deleted": 4,
                      "calls_anonymised": 1, "tickets_anonymised": 2,
                      "days": {"recordings": 180, "transcripts": 365, "callers": 365}}
    calls = CallRepository(db)
    old, mid, new, kept = [await calls.get(ids[k]) for k in ("old", "mid", "new", "open")]
    assert (old.caller, old.caller_name, old.caller_title, old.callback_number,
            old.recording) == ("", "", "", "", None)
    assert (old.summary, old.category, old.disposition) == ("路灯坏了", "求助", "resolved")
    assert "transcript" not in await said(db, old.id) and "said" in await said(db, old.id)
    assert mid.recording is None and mid.caller == CALLER
    assert "transcript" in await said(db, mid.id)
    assert new.recording == "call-new" and kept.recording == "call-open"
    assert kept.caller == OTHER and "transcript" in await said(db, kept.id)
    ticket = await TicketRepository(db, WorkCalendar(SH), dict(DEFAULT_DAYS)).get(
        ids["message"])
    assert (ticket.caller_name, ticket.callback_number) == ("", "")
    assert ticket.fields["text"] == "" and ticket.fields["recording"] == ""
    assert "complainant_name" not in ticket.fields and ticket.summary == "留言"
    callback = await TicketRepository(db, WorkCalendar(SH), dict(DEFAULT_DAYS)).get(
        ids["callback"])
    assert (callback.summary, callback.fields["transcript"], callback.fields["recording"],
            callback.callback_number) == ("回电", "", "", "")
    reread = await calls.get(ids["old"])
    assert [e.data["transcript"] for e in reread.events if e.kind == "callback_taken"] == [""]
    # the erasure is on each ticket's history: whoever takes the tickets changed since a
    # time (the API, the export) is told, and blanks their copy
    erased = [(e.kind, e.at, e.by, e.data) for e in ticket.events
              if e.kind == "personal_data_erased"]
    assert erased == [("personal_data_erased", NOW, "system", {"why": "retention"})]
    loop = LoopRepository(db, Limits(WorkCalendar(SH)))
    # (closed 410 days ago: only the erasure makes them changed since yesterday)
    _, changed = await loop.page(offset=0, limit=10, since=NOW - timedelta(days=1))
    assert {ids["message"], ids["callback"]} <= {t.id for t in changed}
    [entry] = await audit(db)
    assert (entry.actor, entry.action, entry.detail["calls_anonymised"]) == (
        "system", "retention_sweep", 1)
    again = await service(db, spool).sweep()  # nothing left to do
    assert again["recordings_deleted"] == again["calls_anonymised"] == 0
    assert len(await audit(db)) == 2


async def test_a_recording_that_cannot_be_deleted_stays_named(db: Database) -> None:
    ids = await seed(db)
    report = await service(db, Spool(broken={"call-old"})).sweep()
    assert (report["recordings_deleted"], report["recordings_left"]) == (3, 1)
    assert (await CallRepository(db).get(ids["old"])).recording == "call-old"
    later = await service(db, Spool()).sweep()
    assert later["recordings_deleted"] == 1


async def test_a_callers_export_and_erasure_are_theirs_alone_and_audited(
        db: Database) -> None:
    ids = await seed(db)
    spool = Spool()
    privacy = service(db, spool)
    found = await privacy.export("+86 139-0000-0001", by="8001")
    assert sorted(c["id"] for c in found["calls"]) == sorted([ids["old"], ids["mid"],
                                                              ids["new"]])
    assert found["calls"][0]["transcript"][0]["text"] == "我是王阿姨"
    assert [t["id"] for t in found["tickets"]] == [ids["message"], ids["callback"]]
    assert sorted(found["recordings"]) == ["call-mid", "call-new", "call-old", "msg-old",
                                           "words-old"]
    assert OTHER not in json.dumps(found)
    erased = await privacy.erase(CALLER, by="8001")
    assert erased["complete"] and erased["calls_anonymised"] == 3
    assert sorted(spool.deleted) == ["call-mid", "call-new", "call-old", "msg-old",
                                     "words-old"]
    assert (await privacy.export(CALLER, by="8001"))["calls"] == []
    assert (await CallRepository(db).get(ids["other"])).caller == OTHER
    actions = [(a.actor, a.action, a.target) for a in await audit(db)]
    assert actions == [("8001", "privacy_export", "139****0001"),
                       ("8001", "privacy_erase", "139****0001"),
                       ("8001", "privacy_export", "139****0001")]
    for anonymous in ("", "anonymous", "000"):
        with pytest.raises(PrivacyError):
            await privacy.export(anonymous, by="8001")


def test_retention_days_parse_with_defaults_and_clear_errors() -> None:
    assert parse_retention("") == Retention(180, 365, 365)
    assert parse_retention("30") == Retention(30, 30, 30)
    assert parse_retention("recordings=90") == Retention(90, 365, 365)
    for bad, says in (("recordings=0", "between 1"), ("videos=3", "expected"),
                      ("recordings=x", "whole number")):
        with pytest.raises(ValueError, match=says):
            parse_retention(bad)


def test_the_privacy_command_and_private_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    for key in [k for k in os.environ if k.startswith("HOTLINE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path / "home"))

    async def prepare() -> dict[str, int]:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'home' / 'hotline.db'}")
        try:
            await db.upgrade()
            return await seed(db, datetime.now(UTC))  # the command runs on the real clock
        finally:
            await db.close()

    assert main(["db", "upgrade"]) == 0
    db_file = tmp_path / "home" / "hotline.db"
    assert stat.S_IMODE(db_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(db_file.parent.stat().st_mode) == 0o700
    asyncio.run(prepare())
    out = tmp_path / "export.json"
    assert main(["privacy", "export", "--caller", CALLER, "--by", "8001", "--out",
                 str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    data: dict[str, Any] = json.loads(out.read_text())
    assert len(data["calls"]) == 3 and data["caller"] == CALLER
    capsys.readouterr()
    # no PBX here: the recordings stay (named), the command says so and fails
    assert main(["privacy", "sweep"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["recordings_left"] == 4 and report["calls_anonymised"] == 1
    assert main(["privacy", "erase", "--caller", "anonymous", "--by", "8001"]) == 2
    assert "anonymous" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["privacy", "erase", "--caller", CALLER])  # --by is required


def test_the_sandbox_recordings_folder_is_private(tmp_path: Path) -> None:
    from hotline.sandbox.instance import _make_folders
    _make_folders(tmp_path)
    assert stat.S_IMODE((tmp_path / "spool" / "recording").stat().st_mode) == 0o700
