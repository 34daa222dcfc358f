"""Operator seats: the A/B post order, and the call flow offering, bridging and failing over
between seats on the fake ARI."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hotline.calls.commands import TransferRequest
from hotline.calls.flow import CallFlow
from hotline.domain.seats import DutyState, Seat, is_seat_fault, offer_order
from hotline.errors import StoreError
from hotline.live.hub import Happening
from hotline.store.database import Database
from hotline.store.operators_repo import OperatorRepository
from tests.fake_ari import FakeAri
from tests.harness import FAST, attendant_for, running
from tests.scripted import ScriptedRecognizer
from tests.unit.test_call_flow import phrases, wait_played

ON, BREAK, OFF = DutyState.ON_DUTY, DutyState.BREAK, DutyState.OFF
# Rings of 0.5 s on / 1 s off: the third ring ends 3.5 s after arrival; a seat rings 1 s.
SEATED = replace(FAST, ring_on_s=0.5, ring_off_s=1.0, seat_ring_s=1.0, seat_fault_offer_s=3.0)
SEATED_ATTENDANT = attendant_for(rating_wait_s=0.5)
RATED = attendant_for(rating_wait_s=3)


def seat(job: str, backup_of: str | None = None, duty: DutyState = ON,
         last: int | None = None) -> Seat:
    at = datetime(2026, 11, 22, 9, last, tzinfo=UTC) if last is not None else None
    return Seat(job, f"op {job}", duty, backup_of, at)


def jobs(seats: list[Seat]) -> list[str]:
    return [s.job_number for s in seats]


def test_a_post_then_its_b_posts_in_order() -> None:
    seats = [seat("1001", last=5), seat("1002", "1001"), seat("1003", "1001"),
             seat("2001", last=1), seat("2002", "2001")]
    # 2001 has been idle longest, so its group comes first.
    assert jobs(offer_order(seats)) == ["2001", "2002", "1001", "1002", "1003"]


def test_away_busy_and_excluded_seats_are_skipped() -> None:
    seats = [seat("1001", duty=BREAK), seat("1002", "1001"), seat("1003", "1001", OFF),
             seat("2001"), seat("2002", "2001")]
    assert jobs(offer_order(seats, busy={"2001"}, exclude={"1002"})) == ["2002"]


def test_never_called_seats_come_before_recently_called() -> None:
    assert jobs(offer_order([seat("1001", last=3), seat("1002")])) == ["1002", "1001"]


def test_normal_clearing_is_not_a_fault() -> None:
    assert not is_seat_fault(16)
    assert is_seat_fault(38) and is_seat_fault(44) and is_seat_fault(0)


async def test_repository_rejects_bad_seats(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}")
    await db.upgrade()
    repo = OperatorRepository(db)
    try:
        await repo.add("1001", "张三", "x" * 32)
        await repo.add("1002", "李四", "x" * 32, backup_of="1001")
        with pytest.raises(StoreError, match="3 to 8 digits"):
            await repo.add("ab", "王五", "x" * 32)
        with pytest.raises(StoreError, match="no such operator"):
            await repo.add("1003", "王五", "x" * 32, backup_of="1999")
        with pytest.raises(StoreError, match="itself a B post"):
            await repo.add("1003", "王五", "x" * 32, backup_of="1002")
        with pytest.raises(StoreError, match="exists already"):
            await repo.add("1001", "赵六", "x" * 32)
        with pytest.raises(StoreError, match="B post"):
            await repo.remove("1001")
        assert [o.job_number for o in await repo.all()] == ["1001", "1002"]
    finally:
        await db.close()


async def test_a_post_answers_and_talks(fake_ari: FakeAri, tmp_path: Path) -> None:
    fake_ari.seats = {"PJSIP/1001": "answer", "PJSIP/1002": "answer"}
    async with running(fake_ari, tmp_path, SEATED, attendant=SEATED_ATTENDANT,
                       seats=[("1001", None, ON), ("1002", "1001", ON)]) as h:
        cid = await fake_ari.incoming_call()
        await wait_played(fake_ari, cid, "opening")
        await _until(lambda: fake_ari.in_bridge(cid))
        [seat_chan] = fake_ari.seat_channels("PJSIP/1001")
        # the caller and the seat join the bridge by two requests: wait for the second too
        await _until(lambda: fake_ari.in_bridge(seat_chan))
        await fake_ari.caller_hangs_up(cid)
        row = await h.record_for(cid)
        record = await h.calls.get(row.id)
        flow = h.controller.flow
        assert isinstance(flow, CallFlow) and isinstance(flow.deps.recognizer, ScriptedRecognizer)
        heard = flow.deps.recognizer
    # both sides are transcribed while bridged (the operator's for the inspection list)
    assert cid in heard.on_segment and seat_chan in heard.on_segment
    assert seat_chan in heard.detached and cid in heard.detached
    assert row.answered_by == "1001" and row.owner == "1001" and row.rings == 1
    posts = [r.path.rsplit("/", 1)[-1] for r in fake_ari.requests
             if r.path.startswith(f"/ari/channels/{cid}/") and r.method == "POST"][:2]
    assert posts == ["ring", "answer"], "the caller hears ringing while a seat is offered"
    assert row.disposition == "resolved"
    assert "job_number=1001" in fake_ari.played(cid)[0]
    assert phrases(fake_ari, seat_chan) == ["opening"], "the operator hears the greeting too"
    assert not fake_ari.seat_channels("PJSIP/1002"), "the B post is not rung"
    assert fake_ari.calls_to(f"/channels/{seat_chan}", "DELETE"), "the seat leg is hung up"
    legs = [e.data for e in record.events if e.kind == "seat_leg"]
    assert legs == [legs[0]] and legs[0]["job_number"] == "1001"
    assert legs[0]["ended_by"] == "caller" and not legs[0]["fault"]


async def test_b_post_answers_when_a_does_not(fake_ari: FakeAri, tmp_path: Path) -> None:
    fake_ari.seats = {"PJSIP/1001": "no_answer", "PJSIP/1002": "answer"}
    async with running(fake_ari, tmp_path, SEATED, attendant=SEATED_ATTENDANT,
                       seats=[("1001", None, ON), ("1002", "1001", ON)]) as h:
        cid = await fake_ari.incoming_call()
        await _until(lambda: fake_ari.in_bridge(cid))
        await fake_ari.caller_hangs_up(cid)
        row = await h.record_for(cid)
        record = await h.calls.get(row.id)
    assert row.answered_by == "1002" and row.rings <= 3
    kinds = [(e.kind, e.data.get("job_number")) for e in record.events
             if e.kind.startswith("seat")]
    assert kinds[:3] == [("seat_offered", "1001"), ("seat_no_answer", "1001"),
                         ("seat_offered", "1002")]
    [a_chan] = fake_ari.seat_channels("PJSIP/1001")
    assert fake_ari.calls_to(f"/channels/{a_chan}", "DELETE"), "A's ringing is cancelled"


async def test_away_a_post_goes_straight_to_b(fake_ari: FakeAri, tmp_path: Path) -> None:
    fake_ari.seats = {"PJSIP/1001": "answer", "PJSIP/1002": "answer"}
    async with running(fake_ari, tmp_path, SEATED, attendant=SEATED_ATTENDANT,
                       seats=[("1001", None, BREAK), ("1002", "1001", ON)]) as h:
        cid = await fake_ari.incoming_call()
        await _until(lambda: fake_ari.in_bridge(cid))
        await fake_ari.caller_hangs_up(cid)
        row = await h.record_for(cid)
    assert row.answered_by == "1002"
    assert not fake_ari.seat_channels("PJSIP/1001")


async def test_attendant_answers_by_the_third_ring(fake_ari: FakeAri, tmp_path: Path) -> None:
    fake_ari.seats = {"PJSIP/1001": "no_answer", "PJSIP/1002": "no_answer",
                      "PJSIP/1003": "no_answer"}
    async with running(fake_ari, tmp_path, SEATED, attendant=SEATED_ATTENDANT, seats=[
            ("1001", None, ON), ("1002", "1001", ON), ("1003", "1001", ON)]) as h:
        cid = await fake_ari.incoming_call()
        row = await h.record_for(cid, ended=False)
        await _until(lambda: fake_ari.channels.get(cid, {}).get("state") == "Up", 6)
        answered_after = (datetime.now(UTC) - row.arrived_at).total_seconds()
        await fake_ari.caller_hangs_up(cid)
        row = await h.record_for(cid)
    assert row.answered_by == "9000"
    assert row.rings == 3 and answered_after < 3.5 + 0.5
    assert len(fake_ari.seat_channels("PJSIP/1003")) == 1  # three seats tried: 1 + 1 + 1 s


async def test_seat_fault_is_apologised_and_offered_to_another_seat(
        fake_ari: FakeAri, tmp_path: Path) -> None:
    fake_ari.seats = {"PJSIP/1001": "answer", "PJSIP/1002": "answer"}
    async with running(fake_ari, tmp_path, SEATED, attendant=SEATED_ATTENDANT,
                       seats=[("1001", None, ON), ("1002", "1001", ON)]) as h:
        cid = await fake_ari.incoming_call()
        await _until(lambda: fake_ari.in_bridge(cid))
        [a_chan] = fake_ari.seat_channels("PJSIP/1001")
        await fake_ari.caller_hangs_up(a_chan, cause=38)  # network out of order
        await wait_played(fake_ari, cid, "seat_fault_transfer")
        await _until(lambda: bool(fake_ari.seat_channels("PJSIP/1002")))
        [b_chan] = fake_ari.seat_channels("PJSIP/1002")
        await _until(lambda: fake_ari.in_bridge(b_chan))
        await fake_ari.caller_hangs_up(cid)
        row = await h.record_for(cid)
        record = await h.calls.get(row.id)
    legs = [e.data for e in record.events if e.kind == "seat_leg"]
    assert [(g["job_number"], g["fault"], g["cause"]) for g in legs] == [
        ("1001", True, 38), ("1002", False, 0)]
    assert row.answered_by == "1001" and row.owner == "1001"  # 首问: the first owner stays
    assert row.disposition == "resolved"


async def test_seat_gone_during_the_greeting_is_a_seat_fault(
        fake_ari: FakeAri, tmp_path: Path) -> None:
    """The operator hears the greeting too; hanging up meanwhile is their leg's fault, and
    the caller, still there, is offered to the next seat."""
    fake_ari.seats = {"PJSIP/1001": "answer", "PJSIP/1002": "answer"}
    fake_ari.playback_s = 1.0
    async with running(fake_ari, tmp_path, SEATED, attendant=SEATED_ATTENDANT,
                       seats=[("1001", None, ON), ("1002", "1001", ON)]) as h:
        cid = await fake_ari.incoming_call()
        await wait_played(fake_ari, cid, "opening")
        [a_chan] = fake_ari.seat_channels("PJSIP/1001")
        await _until(lambda: phrases(fake_ari, a_chan) == ["opening"])
        await fake_ari.caller_hangs_up(a_chan, cause=38)
        await wait_played(fake_ari, cid, "seat_fault_transfer", timeout_s=8)
        await _until(lambda: bool(fake_ari.seat_channels("PJSIP/1002")), 8)
        [b_chan] = fake_ari.seat_channels("PJSIP/1002")
        await _until(lambda: fake_ari.in_bridge(b_chan), 8)
        await fake_ari.caller_hangs_up(cid)
        row = await h.record_for(cid)
    assert row.answered_by == "1001" and row.disposition == "resolved"


async def test_without_speech_the_attendant_hands_the_call_to_a_seat(
        fake_ari: FakeAri, tmp_path: Path) -> None:
    """No seat answered within three rings, so the attendant did; with no speech model the
    caller, once they speak, is offered to the seats again, and one now answers."""
    fake_ari.seats = {"PJSIP/1001": "no_answer"}
    async with running(fake_ari, tmp_path, SEATED, attendant=SEATED_ATTENDANT,
                       seats=[("1001", None, ON)]) as h:
        flow = h.controller.flow
        assert isinstance(flow, CallFlow) and isinstance(flow.deps.recognizer, ScriptedRecognizer)
        flow.deps.recognizer.available = False  # type: ignore[misc]
        cid = await fake_ari.incoming_call()
        await wait_played(fake_ari, cid, "opening", timeout_s=8)
        fake_ari.seats = {"PJSIP/1001": "answer"}
        await fake_ari.talking(cid)
        await wait_played(fake_ari, cid, "no_speech_model")
        await _until(lambda: fake_ari.in_bridge(cid), 8)
        await fake_ari.caller_hangs_up(cid)
        row = await h.record_for(cid)
    assert row.answered_by == "9000" and row.owner == "1001"  # the attendant answered
    assert row.disposition == "resolved"


async def test_a_caller_who_asks_for_a_person_is_handed_to_a_seat(
        fake_ari: FakeAri, tmp_path: Path) -> None:
    """The attendant answered (the seat did not within three rings); the caller asks for a
    person, hears operator_handover, and is bridged to the seat that answers now."""
    fake_ari.seats = {"PJSIP/1001": "no_answer"}
    async with running(fake_ari, tmp_path, SEATED, attendant=SEATED_ATTENDANT,
                       seats=[("1001", None, ON)], utterances=["我要转人工"]) as h:
        cid = await fake_ari.incoming_call()
        await wait_played(fake_ari, cid, "opening", timeout_s=8)
        fake_ari.seats = {"PJSIP/1001": "answer"}
        await wait_played(fake_ari, cid, "operator_handover")
        await _until(lambda: fake_ari.in_bridge(cid), 8)
        await fake_ari.caller_hangs_up(cid)
        row = await h.record_for(cid)
    assert row.answered_by == "9000" and row.owner == "1001"
    assert (row.disposition, row.category) == ("resolved", "咨询")


async def test_operator_hangs_up_and_the_caller_rates(fake_ari: FakeAri, tmp_path: Path) -> None:
    fake_ari.seats = {"PJSIP/1001": "answer"}
    async with running(fake_ari, tmp_path, SEATED, attendant=RATED,
                       seats=[("1001", None, ON)]) as h:
        cid = await fake_ari.incoming_call()
        await _until(lambda: fake_ari.in_bridge(cid))
        [a_chan] = fake_ari.seat_channels("PJSIP/1001")
        await _until(lambda: fake_ari.in_bridge(a_chan))  # talking, not while bridging
        await fake_ari.caller_hangs_up(a_chan, cause=16)
        await wait_played(fake_ari, cid, "rating_request")
        await fake_ari.dtmf(cid, "5")
        await wait_played(fake_ari, cid, "goodbye")
        await fake_ari.caller_hangs_up(cid)
        row = await h.record_for(cid)
    assert phrases(fake_ari, cid) == ["opening", "rating_request", "rating_thanks", "goodbye"]
    assert row.satisfaction == 5 and row.disposition == "resolved"


async def test_caller_gone_while_seat_rings(fake_ari: FakeAri, tmp_path: Path) -> None:
    fake_ari.seats = {"PJSIP/1001": "no_answer"}
    async with running(fake_ari, tmp_path, SEATED, attendant=SEATED_ATTENDANT,
                       seats=[("1001", None, ON)]) as h:
        cid = await fake_ari.incoming_call()
        await _until(lambda: bool(fake_ari.seat_channels("PJSIP/1001")))
        await fake_ari.caller_hangs_up(cid)
        row = await h.record_for(cid)
        [a_chan] = fake_ari.seat_channels("PJSIP/1001")
        await _until(lambda: bool(fake_ari.calls_to(f"/channels/{a_chan}", "DELETE")))
        assert not h.controller.tasks
    assert row.disposition == "abandoned" and row.answered_at is None


async def _until(check: object, timeout_s: float = 5) -> None:
    assert callable(check)
    for _ in range(int(timeout_s / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


async def test_warm_transfer_to_a_colleague_with_a_written_summary(
        fake_ari: FakeAri, tmp_path: Path) -> None:
    """003: the receiver is briefed before the hand-over. The summary is published (the
    colleague's desk pops it up) while the first operator keeps the caller; once 1002
    answers, the caller is bridged to 1002, 1001's leg ends, and 1001 stays the owner."""
    fake_ari.seats = {"PJSIP/1001": "answer", "PJSIP/1002": "answer"}
    async with running(fake_ari, tmp_path, SEATED, attendant=SEATED_ATTENDANT,
                       seats=[("1001", None, ON), ("1002", "1001", ON)]) as h:
        async with h.hub.subscribe() as feed:
            cid = await fake_ari.incoming_call()
            await _until(lambda: fake_ari.in_bridge(cid))
            row = await h.record_for(cid, ended=False)
            [a_chan] = fake_ari.seat_channels("PJSIP/1001")
            assert not h.requests.submit(row.id + 1, TransferRequest("1001", "PJSIP/1", "x"))
            assert h.requests.submit(row.id, TransferRequest(
                "1001", "", "市民咨询医保转移，已核实身份", seat="1002"))
            await _until(lambda: bool(fake_ari.seat_channels("PJSIP/1002")))
            [b_chan] = fake_ari.seat_channels("PJSIP/1002")
            await _until(lambda: fake_ari.in_bridge(b_chan))
            assert fake_ari.calls_to(f"/channels/{a_chan}", "DELETE"), "1001's leg ends"
            offered = await _next_of(feed, "transfer_offered")
            assert offered.data["summary"].startswith("市民咨询") and offered.data["seat"] == "1002"
            await fake_ari.caller_hangs_up(cid)
        row = await h.record_for(cid)
        record = await h.calls.get(row.id)
    legs = [(e.data["job_number"], e.data["ended_by"]) for e in record.events
            if e.kind == "seat_leg"]
    assert legs == [("1001", "transfer"), ("1002", "caller")]
    assert [e.kind for e in record.events if e.kind.startswith("transfer")] == [
        "transfer_offered", "transferred"]
    assert row.owner == "1001" and row.answered_by == "1001"  # 首问负责制


async def test_seats_are_rung_through_the_seat_proxy_when_there_is_one(
        fake_ari: FakeAri, tmp_path: Path) -> None:
    """A cluster (HOTLINE_SEAT_PROXY): the phones registered at the proxy, so a call's seat
    and a colleague taking a warm transfer are each rung by the proxy, never as the node's
    own endpoint."""
    via = "127.0.0.1:5190"
    a, b = f"PJSIP/1001/sip:1001@{via}", f"PJSIP/1002/sip:1002@{via}"
    fake_ari.seats = {a: "answer", b: "answer"}
    async with running(fake_ari, tmp_path, replace(SEATED, seat_proxy=via),
                       attendant=SEATED_ATTENDANT,
                       seats=[("1001", None, ON), ("1002", "1001", ON)]) as h:
        cid = await fake_ari.incoming_call()
        await _until(lambda: fake_ari.in_bridge(cid))
        [a_chan] = fake_ari.seat_channels(a)
        await _until(lambda: fake_ari.in_bridge(a_chan))
        row = await h.record_for(cid, ended=False)
        assert h.requests.submit(row.id, TransferRequest("1001", "", "市民咨询", seat="1002"))
        await _until(lambda: bool(fake_ari.seat_channels(b)))
        [b_chan] = fake_ari.seat_channels(b)
        await _until(lambda: fake_ari.in_bridge(b_chan))
        await fake_ari.caller_hangs_up(cid)
        row = await h.record_for(cid)
    rung = [r.params.get("endpoint", "") for r in fake_ari.calls_to("/ari/channels")]
    assert [e for e in rung if e.startswith("PJSIP/")] == [a, b]
    assert row.answered_by == "1001"


async def test_transfer_nobody_answers_and_the_operator_keeps_the_caller(
        fake_ari: FakeAri, tmp_path: Path) -> None:
    fake_ari.seats = {"PJSIP/1001": "answer", "PJSIP/dept": "no_answer"}
    async with running(fake_ari, tmp_path, replace(SEATED, transfer_ring_s=0.5),
                       seats=[("1001", None, ON)]) as h:
        cid = await fake_ari.incoming_call()
        await _until(lambda: fake_ari.in_bridge(cid))
        row = await h.record_for(cid, ended=False)
        assert h.requests.submit(row.id, TransferRequest(
            "1001", "PJSIP/dept", "咨询", organisation="万州区医保局"))
        await _until(lambda: bool(fake_ari.seat_channels("PJSIP/dept")))
        [a_chan] = fake_ari.seat_channels("PJSIP/1001")
        for _ in range(100):
            record = await h.calls.get(row.id)
            if any(e.kind == "transfer_failed" for e in record.events):
                break
            await asyncio.sleep(0.02)
        assert fake_ari.in_bridge(cid) and fake_ari.in_bridge(a_chan)
        await fake_ari.caller_hangs_up(cid)
        row = await h.record_for(cid)
        record = await h.calls.get(row.id)
    [failed] = [e.data for e in record.events if e.kind == "transfer_failed"]
    assert failed["reason"] == "unanswered" and failed["to"] == "万州区医保局"
    assert row.disposition == "resolved"


async def _next_of(feed: asyncio.Queue[Happening], kind: str) -> Happening:
    while True:
        happening = await asyncio.wait_for(feed.get(), 5)
        if happening.kind == kind:
            return happening
