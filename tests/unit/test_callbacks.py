"""The missed-call callback list (漏接回拨): which calls are missed, how a caller's entry is
cleared, and the operator's outbound call with each attempt's outcome, over fakes (the
telephony) and the real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.callbacks.dialer import OutboundDialer
from hotline.callbacks.service import CallbackService, OutboundBusy, OutboundError
from hotline.callbacks.store import CallbackStore
from hotline.cli import main
from hotline.config import load_settings
from hotline.domain.callbacks import (
    Attempt,
    ClosedCall,
    MissedReason,
    Outcome,
    callback_list,
    missed_reason,
)
from hotline.domain.calls import NewCall
from hotline.domain.dialled import DialFailure, NotReached
from hotline.domain.tickets import NewTicket, TicketKind
from hotline.errors import ConfigError, NotFoundError
from hotline.seats.board import SeatRoster
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.models import TicketEvent
from hotline.store.operators_repo import OperatorRepository
from hotline.store.users_repo import UserRepository
from hotline.tickets.setup import ticket_repository

T0 = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# -- the rules ------------------------------------------------------------------------------
@pytest.mark.parametrize(("disposition", "answered", "left_in", "beyond", "reason"), [
    ("abandoned", False, "ringing", False, MissedReason.RINGING),
    ("abandoned", False, "", False, MissedReason.RINGING),  # no caller_left event (older)
    ("abandoned", True, "greeting", False, MissedReason.GREETING),
    ("abandoned", True, "answered", False, MissedReason.GREETING),
    ("abandoned", True, "listening", False, MissedReason.GREETING),  # as the opening ended
    ("abandoned", True, "listening", True, None),  # prompted again ("请讲") and left
    ("abandoned", True, "serving", False, None),  # their matter was in hand
    ("unattended", True, "", False, MissedReason.UNATTENDED),
    ("resolved", True, "", False, None),
    ("silent", True, "", True, None),
    ("failed", False, "", False, None),
])
def test_which_calls_are_missed(disposition: str, answered: bool, left_in: str, beyond: bool,
                                reason: MissedReason | None) -> None:
    assert missed_reason(disposition, answered, left_in, beyond) == reason


def call(i: int, minutes: float, disposition: str, answered: bool = False, left_in: str = "",
         caller: str = "13900000001") -> ClosedCall:
    return ClosedCall(i, caller, at(minutes), disposition, answered, left_in)


def test_a_callers_missed_calls_make_one_entry_until_they_call_back() -> None:
    calls = [call(1, 0, "abandoned", left_in="ringing"),
             call(2, 5, "abandoned", True, "greeting", caller="+8613900000001"),
             call(3, 6, "unattended", True, caller="58001234"),
             call(4, 30, "resolved", True),  # got through: clears entry 1
             call(5, 40, "abandoned", True, "serving", caller="58001234"),  # not missed,
             # but answered: the caller called back and got through
             call(6, 50, "abandoned", caller="")]  # withheld: cannot be called back
    entries, cleared = callback_list(calls, [])
    assert entries == []
    assert [(c.entry_id, c.how, c.ref) for c in cleared] == [
        (1, "called_back", 4), (3, "called_back", 5)]


def test_the_entry_lists_reasons_and_calls_oldest_first() -> None:
    entries, _ = callback_list([call(7, 10, "unattended", True, caller="58001234"),
                                call(1, 0, "abandoned"),
                                call(2, 3, "abandoned", True, "greeting")], [])
    assert [(e.id, e.number, e.missed, e.reasons) for e in entries] == [
        (1, "13900000001", 2, [MissedReason.RINGING, MissedReason.GREETING]),
        (7, "58001234", 1, [MissedReason.UNATTENDED])]
    assert entries[0].first_at == at(0) and entries[0].last_at == at(3)


def test_a_reached_attempt_clears_and_others_are_kept_on_the_entry() -> None:
    calls = [call(1, 0, "abandoned"), call(9, 60, "abandoned")]
    attempts = [Attempt(1, "13900000001", at(10), Outcome.NO_ANSWER, "1001", 1),
                Attempt(2, "13900000001", at(20), Outcome.REACHED, "1001", 1),
                Attempt(3, "13900000001", at(70), Outcome.SEAT_NO_ANSWER, "1002", 9)]
    entries, cleared = callback_list(calls, attempts)
    assert [(c.entry_id, c.how, c.ref) for c in cleared] == [(1, "reached", 2)]
    [entry] = entries  # a new missed call after the callback opens a new entry
    assert entry.id == 9 and [a.id for a in entry.attempts] == [3]


def test_a_call_made_from_a_ticket_clears_nothing() -> None:
    attempts = [Attempt(1, "13900000001", at(0), Outcome.REACHED, "1001")]
    entries, cleared = callback_list([call(2, 5, "abandoned")], attempts)
    assert [e.id for e in entries] == [2] and cleared == []


def test_the_outbound_trunk_setting_is_checked() -> None:
    assert load_settings({"HOTLINE_OUTBOUND_TRUNK": "PJSIP/{number}@outbound"}) \
        .outbound_trunk == "PJSIP/{number}@outbound"
    with pytest.raises(ConfigError, match="HOTLINE_OUTBOUND_TRUNK"):
        load_settings({"HOTLINE_OUTBOUND_TRUNK": "PJSIP/outbound"})
    with pytest.raises(ConfigError, match="public"):
        load_settings({"HOTLINE_OUTBOUND_TRUNK": "PJSIP/{number}@public"})


# -- fakes of the telephony -----------------------------------------------------------------
class FakeLeg:
    def __init__(self, endpoint: str) -> None:
        self.id = endpoint
        self.caller = ""
        self.gone = False
        self.rang = False
        self._gone = asyncio.Event()

    async def ring(self) -> None:
        self.rang = True

    async def ring_stop(self) -> None:
        self.rang = False

    def hang_up_now(self) -> None:
        self.gone = True
        self._gone.set()

    async def hangup(self) -> None:
        self.hang_up_now()

    async def wait_gone(self, timeout_s: float | None) -> bool:
        await asyncio.wait_for(self._gone.wait(), timeout_s)
        return True


class FakeTelephony:
    """Answers the endpoints in ``answers`` (the leg hangs up after ``talk`` s if given)."""

    def __init__(self, answers: Sequence[str], talk_s: float = 0.05,
                 refused: Sequence[str] = ()) -> None:
        self.answers = set(answers)
        self.refused = set(refused)  # endpoints the PBX will not place a call to
        self.talk_s = talk_s
        self.dialled: list[tuple[str, str]] = []
        self.bridged: list[list[str]] = []

    async def dial(self, endpoint: str, timeout_s: float,
                   caller_id: str = "") -> FakeLeg | NotReached:
        self.dialled.append((endpoint, caller_id))
        await asyncio.sleep(0.01)
        if endpoint in self.refused:
            return NotReached(DialFailure.NOT_ORIGINATED)
        if endpoint not in self.answers:
            return NotReached(DialFailure.UNANSWERED)
        leg = FakeLeg(endpoint)
        if endpoint.endswith("@outbound"):
            asyncio.get_running_loop().call_later(self.talk_s, leg.hang_up_now)
        return leg

    async def bridge(self, legs: Sequence[FakeLeg]) -> str:
        self.bridged.append([leg.id for leg in legs])
        return "b1"

    async def unbridge(self, bridge_id: str) -> None:
        pass


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()


async def missed_call(calls: CallRepository, channel: str, caller: str, arrived: datetime,
                      **fields: object) -> int:
    call_id = await calls.open_call(NewCall(channel, caller, "12345", arrived))
    await calls.update_call(call_id, ended_at=arrived + timedelta(seconds=8), state="ended",
                            **fields)
    return call_id


async def service_on(db: Database, telephony: FakeTelephony | None,
                     roster: SeatRoster | None = None) -> CallbackService:
    dialer = OutboundDialer(telephony, "PJSIP/{number}@outbound", "12345", Clock(),  # type: ignore[arg-type]
                            seat_proxy="", seat_ring_s=1, ring_s=1) if telephony else None
    return CallbackService(CallbackStore(db), Clock(), 7, dialer, roster)


# -- the store and the service --------------------------------------------------------------
async def test_missed_calls_from_the_records_and_the_callers_left_event(db: Database) -> None:
    calls = CallRepository(db)
    now = datetime.now(UTC)
    ringing = await missed_call(calls, "c1", "13900000001", now - timedelta(hours=2),
                                disposition="abandoned")
    await calls.add_event(ringing, "caller_left", {"state": "offered"})
    greeting = await missed_call(calls, "c2", "13900000002", now - timedelta(hours=1),
                                 disposition="abandoned", answered_at=now - timedelta(hours=1))
    await calls.add_event(greeting, "caller_left", {"state": "greeting"})
    await calls.add_event(greeting, "said", {"phrase": "opening"})
    listening = await missed_call(calls, "c3", "13900000003", now - timedelta(minutes=30),
                                  disposition="abandoned", answered_at=now)
    await calls.add_event(listening, "said", {"phrase": "opening"})
    await calls.add_event(listening, "said", {"phrase": "silent_1"})  # prompted, then left
    await calls.add_event(listening, "caller_left", {"state": "listening"})
    await missed_call(calls, "c4", "13900000004", now - timedelta(days=8),
                      disposition="abandoned")  # outside the window
    await calls.open_call(NewCall("c5", "13900000005", "12345", now))  # still ringing
    listed = await (await service_on(db, None)).current()
    assert [(e.id, e.reasons) for e in listed.entries] == [
        (ringing, [MissedReason.RINGING]), (greeting, [MissedReason.GREETING])]


async def test_one_click_callback_reaches_the_person_and_clears_the_entry(
        db: Database) -> None:
    calls = CallRepository(db)
    entry = await missed_call(calls, "c1", "+8613900000001", datetime.now(UTC),
                              disposition="abandoned")
    telephony = FakeTelephony(["PJSIP/1001", "PJSIP/13900000001@outbound"])
    roster = SeatRoster(OperatorRepository(db))
    service = await service_on(db, telephony, roster)
    with pytest.raises(OutboundError, match="own number"):
        await service.place("1001", "13900000009", missed_id=entry)
    attempt_id = await service.place("1001", "", missed_id=entry)
    assert not await roster.take("1001")  # the operator's seat is busy meanwhile: nothing offered
    with pytest.raises(OutboundBusy):
        await service.place("1001", "", missed_id=entry)
    await service.wait()
    assert await roster.take("1001")
    # the operator's phone first (showing whom it calls), then the person, showing 12345
    assert telephony.dialled == [("PJSIP/1001", "13900000001"),
                                 ("PJSIP/13900000001@outbound", "12345")]
    assert telephony.bridged == [["PJSIP/1001", "PJSIP/13900000001@outbound"]]
    attempt = await service.attempt(attempt_id)
    assert attempt.outcome == Outcome.REACHED and attempt.ended_at is not None
    listed = await service.current()
    assert listed.entries == []
    assert [(c.entry_id, c.how, c.ref) for c in listed.cleared] == [
        (entry, "reached", attempt_id)]


@pytest.mark.parametrize(("answers", "outcome"), [
    (["PJSIP/1001"], Outcome.NO_ANSWER), ([], Outcome.SEAT_NO_ANSWER)])
async def test_an_attempt_that_does_not_reach_keeps_the_entry(
        db: Database, answers: list[str], outcome: Outcome) -> None:
    entry = await missed_call(CallRepository(db), "c1", "13900000001", datetime.now(UTC),
                              disposition="unattended", answered_at=datetime.now(UTC))
    service = await service_on(db, FakeTelephony(answers))
    attempt_id = await service.place("1001", "", missed_id=entry)
    await service.wait()
    assert (await service.attempt(attempt_id)).outcome == outcome
    [listed] = (await service.current()).entries
    assert listed.id == entry and [a.outcome for a in listed.attempts] == [outcome]


@pytest.mark.parametrize(("refused", "outcome"), [
    ("PJSIP/13900000001@outbound", Outcome.FAILED), ("PJSIP/1001", Outcome.FAILED)])
async def test_a_call_the_pbx_refused_to_place_is_failed_not_unanswered(
        db: Database, refused: str, outcome: Outcome) -> None:
    """The trunk or the seat refused by Asterisk (originate failed): the PBX's fault, not
    the person's nor the operator's, and the list says so."""
    entry = await missed_call(CallRepository(db), "c1", "13900000001", datetime.now(UTC),
                              disposition="abandoned")
    service = await service_on(db, FakeTelephony(["PJSIP/1001"], refused=[refused]))
    attempt_id = await service.place("1001", "", missed_id=entry)
    await service.wait()
    assert (await service.attempt(attempt_id)).outcome == outcome
    [listed] = (await service.current()).entries
    assert [a.outcome for a in listed.attempts] == [outcome]  # the entry is kept


@pytest.mark.parametrize(("proxy", "seat"), [
    ("", "PJSIP/1001"),
    ("127.0.0.1:5190", "PJSIP/1001/sip:1001@127.0.0.1:5190")])
async def test_the_operators_phone_is_rung_through_the_seat_proxy_when_there_is_one(
        proxy: str, seat: str) -> None:
    """In a cluster (HOTLINE_SEAT_PROXY) the phone registered at the proxy, maybe through
    another node: the operator's own phone is rung by the proxy, as for a call."""
    telephony = FakeTelephony([seat, "PJSIP/13900000001@outbound"])
    dialer = OutboundDialer(telephony, "PJSIP/{number}@outbound", "12345", Clock(),  # type: ignore[arg-type]
                            seat_proxy=proxy, seat_ring_s=1, ring_s=1)
    assert (await dialer.call("1001", "13900000001")).outcome == Outcome.REACHED
    assert telephony.dialled == [(seat, "13900000001"),
                                 ("PJSIP/13900000001@outbound", "12345")]


async def test_a_call_from_a_ticket_goes_on_the_ticket(db: Database) -> None:
    tickets = ticket_repository(db, load_settings({}))
    ticket_id = await tickets.open(NewTicket(
        kind=TicketKind.CALLBACK, by="1001", summary="路灯坏了",
        callback_number="13900000007"), datetime.now(UTC))
    service = await service_on(db, FakeTelephony(["PJSIP/1001",
                                                  "PJSIP/13900000007@outbound"]))
    with pytest.raises(OutboundError, match="ticket_id or missed_id"):
        await service.place("1001", "13900000007")
    with pytest.raises(OutboundError, match="number"):
        await service.place("1001", "139-abc", ticket_id=ticket_id)
    with pytest.raises(NotFoundError):
        await service.place("1001", "", ticket_id=ticket_id + 100)
    attempt_id = await service.place("1001", "", ticket_id=ticket_id)
    await service.wait()
    async with db.unit() as s:
        from sqlalchemy import select
        rows = (await s.scalars(select(TicketEvent).where(
            TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "outbound_call")
            .order_by(TicketEvent.id))).all()
    assert [(r.by, r.data["attempt"], r.data["outcome"]) for r in rows] == [
        ("1001", attempt_id, "pending"), ("1001", attempt_id, "reached")]
    assert rows[1].data["talk_s"] >= 0


async def test_without_an_outbound_trunk_nothing_is_dialled(db: Database) -> None:
    entry = await missed_call(CallRepository(db), "c1", "13900000001", datetime.now(UTC),
                              disposition="abandoned")
    service = await service_on(db, None)
    assert not service.can_dial
    with pytest.raises(OutboundError, match="HOTLINE_OUTBOUND_TRUNK"):
        await service.place("1001", "", missed_id=entry)


async def test_a_persons_erasure_blanks_the_numbers_called_back(db: Database) -> None:
    """PIPL: a caller's records anonymised take the attempts' numbers with them."""
    from hotline.store.personal_data import PersonalData, of_caller

    entry = await missed_call(CallRepository(db), "c1", "13900000001", datetime.now(UTC),
                              disposition="abandoned")
    store = CallbackStore(db)
    attempt_id = await store.start("13900000001", "1001", datetime.now(UTC),
                                   missed_id=entry, ticket_id=None)
    await store.finish(attempt_id, Outcome.NO_ANSWER, datetime.now(UTC))
    scope = of_caller("+8613900000001")
    assert scope is not None
    await PersonalData(db).anonymise(scope, datetime.now(UTC), "erasure")
    assert (await store.attempt(attempt_id)).number == ""
    assert (await CallbackService(store, Clock(), 7).current()).entries == []


async def test_the_cli_lists_masked_and_records_an_attempt(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    db = Database(url)
    await db.upgrade()
    entry = await missed_call(CallRepository(db), "c1", "13900000001", datetime.now(UTC),
                              disposition="abandoned")
    await db.close()
    monkeypatch.setenv("HOTLINE_DB_URL", url)
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))

    def hotline(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, _ = await asyncio.to_thread(hotline, "callbacks", "list", "--json")
    [row] = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and row["id"] == entry and row["number"] == "139****0001"
    assert row["reasons"] == ["ringing"] and row["attempts"] == []
    code, _, err = await asyncio.to_thread(hotline, "callbacks", "attempt", str(entry + 5),
                                           "--by", "1001", "--outcome", "reached")
    assert code == 2 and f"no open callback entry {entry + 5}" in err
    code, out, _ = await asyncio.to_thread(hotline, "callbacks", "attempt", str(entry),
                                           "--by", "1001", "--outcome", "no_answer")
    assert code == 0 and "no_answer" in out
    code, out, _ = await asyncio.to_thread(hotline, "callbacks", "list", "--full",
                                           "--by", "8001")
    assert "13900000001" in out and "1001 no_answer" in out and "1 to call back" in out
    code, out, _ = await asyncio.to_thread(hotline, "callbacks", "attempt", str(entry),
                                           "--by", "1001", "--outcome", "reached",
                                           "--talk-s", "40")
    assert code == 0 and "the entry is cleared" in out
    code, out, _ = await asyncio.to_thread(hotline, "callbacks", "list")
    assert out.strip() == "0 to call back"
    db = Database(url)
    audits = [(a.actor, a.action, a.detail.get("via")) for a in
              await UserRepository(db).audit_log()]
    await db.close()
    assert audits == [("8001", "view_callbacks", "cli")]
