"""Scenario tests of the attendant's call flow on the fake ARI (short timings)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hotline.callbacks.service import CallbackService
from hotline.callbacks.store import CallbackStore
from hotline.domain.callbacks import MissedReason
from hotline.domain.calls import ring_deadline, rings_elapsed
from hotline.web.wallboard import emergency_outcome
from tests.fake_ari import FakeAri
from tests.harness import FAST, Harness, WallClock, attendant_for, running


def phrases(fake: FakeAri, cid: str) -> list[str]:
    return [m.split("/", 1)[1].split("?")[0] for m in fake.played(cid)]


async def wait_bridged(fake: FakeAri, cid: str, timeout_s: float = 5) -> None:
    """Until the caller is in a bridge with one other channel (a seat, a line)."""
    for _ in range(int(timeout_s * 100)):
        if any(cid in chans and len(chans) == 2 for chans in fake.bridges.values()):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never bridged; played {phrases(fake, cid)}")


async def bridged_then_gone(fake: FakeAri, h: Harness) -> tuple[str, Any, Any]:
    """A caller who speaks after the opening, ends up bridged (to a seat, a line), then hangs
    up: (the channel, the closed record's row, the record with its events)."""
    cid = await fake.incoming_call()
    await wait_played(fake, cid, "opening")
    await fake.talking(cid)
    await wait_bridged(fake, cid)
    await fake.caller_hangs_up(cid)
    row = await h.record_for(cid)
    return cid, row, await h.calls.get(row.id)


async def wait_played(fake: FakeAri, cid: str, phrase: str, timeout_s: float = 5) -> None:
    for _ in range(int(timeout_s / 0.01)):
        if phrase in phrases(fake, cid):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{phrase} never played; played {phrases(fake, cid)}")


def test_ring_arithmetic() -> None:
    assert ring_deadline(3, 1.0, 4.0) == 11.0
    assert [rings_elapsed(t, 1.0, 4.0) for t in (0, 0.5, 4.9, 5.0, 10.5, 11.0)] == \
        [0, 1, 1, 2, 3, 3]


async def test_silent_line_is_prompted_twice_then_ended(fake_ari: FakeAri, tmp_path: Path) -> None:
    async with running(fake_ari, tmp_path) as h:
        cid = await fake_ari.incoming_call()
        row = await h.record_for(cid)
    assert phrases(fake_ari, cid) == ["opening", "silent_1", "silent_2", "silent_goodbye"]
    assert row.disposition == "silent"
    assert row.answered_by == "9000" and row.rings == 1
    assert fake_ari.calls_to(f"/channels/{cid}", "DELETE"), "the hotline hangs up"
    order = [r.path.rsplit("/", 1)[-1] for r in fake_ari.requests
             if r.path.startswith(f"/ari/channels/{cid}/") and r.method == "POST"][:1]
    assert order == ["answer"], "nobody on duty: answered at once, no ringing"


async def test_record_exists_before_the_call_is_answered(fake_ari: FakeAri,
                                                         tmp_path: Path) -> None:
    fake_ari.fail_next["POST /ari/channels/{id}/answer"] = 1  # answering fails
    async with running(fake_ari, tmp_path) as h:
        cid = await fake_ari.incoming_call()
        row = await h.record_for(cid)
    assert row.answered_at is None
    assert row.disposition == "failed"
    assert "seat_fault_goodbye" in phrases(fake_ari, cid)


async def test_caller_speaks_then_rates_with_dtmf(fake_ari: FakeAri, tmp_path: Path) -> None:
    """The scripted lookup of 004 篇10: 工行 is found, confirmed, read out; then the rating."""
    async with running(fake_ari, tmp_path, attendant=attendant_for(rating_wait_s=3),
                       utterances=["帮我查一下 工行 的 电话", "对的"]) as h:
        cid = await fake_ari.incoming_call()
        await wait_played(fake_ari, cid, "opening")
        await fake_ari.talking(cid)
        await wait_played(fake_ari, cid, "rating_request")
        await fake_ari.dtmf(cid, "4")
        await wait_played(fake_ari, cid, "goodbye")
        await fake_ari.caller_hangs_up(cid)  # the caller hangs up first
        row = await h.record_for(cid)
    assert phrases(fake_ari, cid) == ["opening", "please_hold", "lookup_confirm", "lookup_found",
                                      "anything_else", "rating_request", "rating_thanks",
                                      "goodbye"]
    played = fake_ari.played(cid)
    assert "organisation=中国工商银行重庆万州分行" in played[2]
    assert "phone=02358221111" in played[3]
    record = await h.calls.get(row.id)
    kinds = [e.kind for e in record.events]
    assert "transcript" in kinds and "lookup" in kinds and "lookup_confirmed" in kinds
    assert row.satisfaction == 4
    assert row.disposition == "resolved"
    assert not fake_ari.calls_to(f"/channels/{cid}", "DELETE"), "the caller hung up first"


async def test_hotline_hangs_up_if_caller_does_not(fake_ari: FakeAri, tmp_path: Path) -> None:
    async with running(fake_ari, tmp_path, utterances=["人社局", "是"]) as h:
        cid = await fake_ari.incoming_call()
        await wait_played(fake_ari, cid, "opening")
        await fake_ari.talking(cid)
        row = await h.record_for(cid)
    assert row.satisfaction is None
    assert row.disposition == "resolved"
    assert phrases(fake_ari, cid)[-1] == "goodbye"
    assert fake_ari.calls_to(f"/channels/{cid}", "DELETE")


async def test_hangup_mid_prompt_closes_the_record_at_once(fake_ari: FakeAri,
                                                           tmp_path: Path) -> None:
    fake_ari.playback_s = 30  # a long greeting
    async with running(fake_ari, tmp_path) as h:
        cid = await fake_ari.incoming_call()
        await wait_played(fake_ari, cid, "opening")
        await fake_ari.caller_hangs_up(cid)
        row = await h.record_for(cid, timeout_s=2)
        assert not h.controller.tasks and not h.controller.legs
        record = await h.calls.get(row.id)
        listed = await CallbackService(CallbackStore(h.calls.db), WallClock(), 1).current()
    assert row.disposition == "abandoned"
    assert row.answered_at is not None and row.ended_at is not None
    # where the caller left is on the record: a missed call to call back (漏接回拨)
    [left] = [e.data["state"] for e in record.events if e.kind == "caller_left"]
    assert left in ("greeting", "listening")  # the opening's end and the hangup race
    assert [(e.id, e.reasons) for e in listed.entries] == [(row.id, [MissedReason.GREETING])]


async def test_long_wait_opens_with_an_apology(fake_ari: FakeAri, tmp_path: Path) -> None:
    # every call counts as a long wait
    long_wait = attendant_for(apology_after_rings=0)
    async with running(fake_ari, tmp_path, attendant=long_wait) as h:
        cid = await fake_ari.incoming_call()
        await h.record_for(cid)
    assert phrases(fake_ari, cid)[0] == "opening_after_wait"


async def test_shutdown_closes_calls_in_progress(fake_ari: FakeAri, tmp_path: Path) -> None:
    fake_ari.playback_s = 30
    async with running(fake_ari, tmp_path) as h:
        cid = await fake_ari.incoming_call()
        await wait_played(fake_ari, cid, "opening")
        await h.controller.stop(0.1)
        row = await h.record_for(cid, timeout_s=3)
    assert row.disposition == "failed" and row.ended_at is not None


async def test_an_emergency_is_dialled_at_once_briefed_and_bridged(fake_ari: FakeAri,
                                                                   tmp_path: Path) -> None:
    """着火了: emergency_transfer while 119 rings; 119 hears emergency_brief with the caller's
    number and words; both are bridged; the record says emergency."""
    fake_ari.seats = {"PJSIP/119": "answer"}
    attendant = attendant_for(emergency_lines={"119": "PJSIP/119"})
    async with running(fake_ari, tmp_path, attendant=attendant,
                       utterances=["喂 我家 厨房 着火了 快来"]) as h:
        cid, row, record = await bridged_then_gone(fake_ari, h)
    assert phrases(fake_ari, cid)[:2] == ["opening", "emergency_transfer"]
    assert "line=119" in fake_ari.played(cid)[1]
    dialled = [r for r in fake_ari.requests if r.path == "/ari/channels" and r.method == "POST"]
    assert [r.params.get("endpoint") for r in dialled] == ["PJSIP/119"]
    briefs = [r.params.get("media", "") for r in fake_ari.requests
              if "/play" in r.path and not r.path.startswith(f"/ari/channels/{cid}/")]
    [brief] = [m for m in briefs if m.startswith("sound:test/emergency_brief")]
    assert "content=我家厨房着火了快来" in brief and "line=119" in brief
    assert "phone=13900000001" in brief, "the caller's number"
    assert (row.disposition, row.category) == ("emergency", "求助")
    assert [e.data["outcome"] for e in record.events if e.kind == "emergency"] == \
        ["dialling", "bridged"]
    [dialling] = [e.data for e in record.events if e.data.get("outcome") == "dialling"]
    # the dial starts this long after the caller's words (here: the scripted recogniser's)
    assert 0 <= dialling["after_words_ms"] < 1000, dialling


async def test_an_emergency_said_when_asked_for_the_name_is_dialled_by_phone(
        fake_ari: FakeAri, tmp_path: Path) -> None:
    """Mid-message, the answer to "请先告诉我您的名字好吗？" is an emergency: the message is
    left, 119 is dialled, briefed with those words, and bridged."""
    fake_ari.seats = {"PJSIP/119": "answer"}
    attendant = attendant_for(emergency_lines={"119": "PJSIP/119"})
    async with running(fake_ari, tmp_path, attendant=attendant,
                       utterances=["我要留言", "救命啊 厨房着火了"]) as h:
        cid, row, record = await bridged_then_gone(fake_ari, h)
    assert phrases(fake_ari, cid)[:3] == ["opening", "ask_caller_name", "emergency_transfer"]
    briefs = [r.params.get("media", "") for r in fake_ari.requests
              if "/play" in r.path and not r.path.startswith(f"/ari/channels/{cid}/")]
    assert any("content=救命啊厨房着火了" in m for m in briefs), briefs
    assert (row.disposition, row.category) == ("emergency", "求助")
    assert [e.data["outcome"] for e in record.events if e.kind == "emergency"] == \
        ["dialling", "bridged"]
    assert await h.tickets.find(call_id=row.id) == [], "the message left behind: no ticket"


@pytest.mark.parametrize(("line", "fault", "why"), [
    ("unreachable", "", {"reason": "unreachable", "cause": 20}),  # the PBX's cause code
    ("no_answer", "", {"reason": "unanswered"}),  # rang out: transfer_ring_s
    ("answer", "originate", {"reason": "not_originated"}),  # ARI refused the originate
], ids=["unreachable", "unanswered", "not_originated"])
async def test_an_emergency_line_not_reached_is_on_the_record_with_why_and_dialled_direct(
        fake_ari: FakeAri, tmp_path: Path, line: str, fault: str,
        why: dict[str, object]) -> None:
    """The caller is told to dial 120 directly; the record's (and the wallboard's) event
    says which dial string was tried and why it failed."""
    fake_ari.seats = {"PJSIP/120": line}
    if fault:
        fake_ari.fail_next["POST /ari/channels"] = 1
    attendant = attendant_for(emergency_lines={"120": "PJSIP/120"})
    async with running(fake_ari, tmp_path, replace(FAST, transfer_ring_s=0.3),
                       attendant=attendant, utterances=["我爸 晕倒了"]) as h:
        cid = await fake_ari.incoming_call()
        await wait_played(fake_ari, cid, "opening")
        await fake_ari.talking(cid)
        await wait_played(fake_ari, cid, "emergency_dial_direct")
        await fake_ari.caller_hangs_up(cid)
        row = await h.record_for(cid)
        record = await h.calls.get(row.id)
        [(_, _, _, shown)] = await h.calls.emergencies(row.arrived_at)
    assert phrases(fake_ari, cid)[:3] == ["opening", "emergency_transfer",
                                          "emergency_dial_direct"]
    assert "line=120" in fake_ari.played(cid)[2]
    assert row.disposition == "emergency"
    assert [e.data for e in record.events if e.kind == "emergency"][1:] == [
        {"line": "120", "dial": "PJSIP/120", "outcome": "no_answer", **why}]
    told = {"unreachable": "未接通（线路不通，原因码20），已告知直拨",
            "no_answer": "未接通（无人接听），已告知直拨",
            "answer": "未接通（呼叫未能发起），已告知直拨"}[line]
    assert emergency_outcome(shown) == told, "the wallboard says why"


async def test_speech_nobody_can_make_out_is_low_volume_not_silent(fake_ari: FakeAri,
                                                                   tmp_path: Path) -> None:
    """The endpointer hears speech, the recogniser returns nothing: low_volume twice, then
    low_volume_goodbye and the hang-up; disposition low_volume."""
    async with running(fake_ari, tmp_path, utterances=[]) as h:
        cid = await fake_ari.incoming_call()
        await wait_played(fake_ari, cid, "opening")
        await fake_ari.talking(cid)
        row = await h.record_for(cid)
    assert phrases(fake_ari, cid) == ["opening", "low_volume", "low_volume", "low_volume_goodbye"]
    assert row.disposition == "low_volume"
    assert fake_ari.calls_to(f"/channels/{cid}", "DELETE"), "the hotline hangs up"


async def test_a_voice_too_faint_for_talk_detection_is_low_volume_not_silent(
        fake_ari: FakeAri, tmp_path: Path) -> None:
    """Asterisk's talk detection hears nothing (the caller is 30 dB down), but the
    endpointer hears a faint voice above the line's quietest: low volume, not a silent line."""
    from tests.scripted import ScriptedRecognizer

    recognizer = ScriptedRecognizer([])
    recognizer.faint_asks = 3
    async with running(fake_ari, tmp_path, recognizer=recognizer) as h:
        cid = await fake_ari.incoming_call()  # never 'talking'
        row = await h.record_for(cid)
        kinds = [e.kind for e in (await h.calls.get(row.id)).events]
    assert phrases(fake_ari, cid) == ["opening", "low_volume", "low_volume", "low_volume_goodbye"]
    assert row.disposition == "low_volume" and kinds.count("faint_voice") == 3
