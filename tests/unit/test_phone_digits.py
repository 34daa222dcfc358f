"""By phone, the callback number keyed or said ("您的电话是本机号码吗？" "不是"): while the keys
are awaited the recogniser listens too. An emergency said then is dialled at once, not when
the wait ends; a number said in groups is taken whole at its pause; keys work as before; a
silent wait still runs to its end. Fake ARI, scripted recogniser, short real waits."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hotline.speech.normalise import number_said
from tests.fake_ari import FakeAri
from tests.harness import Harness, attendant_for, running
from tests.scripted import ScriptedRecognizer
from tests.unit.test_call_flow import phrases, wait_bridged, wait_played

ASKED = ["opening", "ask_caller_name", "ask_own_number", "ask_callback_number"]
DIGITS_HINT = "一三九一二三四五六七八"  # the recogniser's vocabulary for a number
WAIT_S = 4.0  # the keyed-digits wait (15 s in service)
REST = ["给王主任", "明天的会改到下午三点", "没有了"]  # the message after the number


@pytest.mark.parametrize(("said", "digits"), [
    ("幺三八", "138"), ("零零零零", "0000"), ("13800001111", "13800001111"),
    ("我的电话号码是", ""), ("嗯 幺三九", "139"), ("稍等 我找一下", ""), ("稍等一下", ""),
    ("出车祸了", None), ("三楼着火了", None), ("救命啊", None), ("给王主任", None),
    ("等等 楼下有人打架了", None),
])
def test_a_number_said_is_its_digits_and_the_talk_around_it_only(
        said: str, digits: str | None) -> None:
    assert number_said(said) == digits


async def asked_for_the_number(fake: FakeAri) -> str:
    """A caller who leaves a message, gives a name and another number than this phone's:
    the channel, once the callback number has been asked for."""
    cid = await fake.incoming_call()
    await wait_played(fake, cid, "opening")
    await fake.talking(cid)
    await wait_played(fake, cid, "ask_callback_number")
    return cid


async def ticketed_number(fake: FakeAri, h: Harness, cid: str,
                          recognizer: ScriptedRecognizer) -> tuple[str, list[str]]:
    """The message goes on (once the number is taken) to its ticket: the number on it and
    what the caller heard."""
    await wait_played(fake, cid, "message_recipient")
    recognizer.utterances += REST  # said after the number, not while it was awaited
    await wait_played(fake, cid, "message_ticket")
    await fake.caller_hangs_up(cid)
    row = await h.record_for(cid)
    [ticket] = await h.tickets.find(call_id=row.id)
    return ticket.callback_number, phrases(fake, cid)


@pytest.fixture
def recognizer() -> ScriptedRecognizer:
    return ScriptedRecognizer(["我要留言", "我姓张", "不是"])


async def test_an_emergency_said_while_the_number_is_awaited_is_dialled_at_once(
        fake_ari: FakeAri, tmp_path: Path, recognizer: ScriptedRecognizer) -> None:
    """出车祸了 said 0.3 s into the wait: 122 is dialled and bridged well before the wait
    would have ended, through the answers' one emergency check (the message is left, no
    ticket)."""
    fake_ari.seats = {"PJSIP/122": "answer"}
    attendant = attendant_for(emergency_lines={"122": "PJSIP/122"}, digits_wait_s=WAIT_S)
    async with running(fake_ari, tmp_path, attendant=attendant, recognizer=recognizer) as h:
        cid = await asked_for_the_number(fake_ari)
        await asyncio.sleep(0.3)  # nothing keyed
        loop = asyncio.get_running_loop()
        said_at = loop.time()
        recognizer.utterances.append("出车祸了")
        await wait_bridged(fake_ari, cid, timeout_s=WAIT_S)
        took = loop.time() - said_at
        await fake_ari.caller_hangs_up(cid)
        row = await h.record_for(cid)
        record = await h.calls.get(row.id)
        tickets = await h.tickets.find(call_id=row.id)
    assert took < WAIT_S / 2, f"{took:.2f} s: the wait was not cut short"
    assert phrases(fake_ari, cid)[:5] == [*ASKED, "emergency_transfer"]
    assert "line=122" in fake_ari.played(cid)[4]
    briefs = [r.params.get("media", "") for r in fake_ari.requests
              if "/play" in r.path and not r.path.startswith(f"/ari/channels/{cid}/")]
    assert any("content=出车祸了" in m for m in briefs), briefs
    [heard] = [e.data for e in record.events if e.kind == "intent" and e.data.get("line")]
    assert (heard["line"], heard["during"], heard["expect"]) == ("122", "message", "digits")
    assert [e.data["outcome"] for e in record.events if e.kind == "emergency"] == \
        ["dialling", "bridged"]
    assert (row.disposition, row.category) == ("emergency", "求助")
    assert tickets == [], "the message left behind: no ticket"


@pytest.mark.parametrize("first", ["", "稍等 我找一下"], ids=["keyed", "hold_on_then_keyed"])
async def test_keyed_digits_still_make_the_number_while_the_recogniser_listens(
        fake_ari: FakeAri, tmp_path: Path, recognizer: ScriptedRecognizer,
        first: str) -> None:
    """Talk around a number ("稍等 我找一下") does not end the wait: the keys still come."""
    fake_ari.slow_media = {"message_recipient": 0.3}
    fake_ari.record_s = 0.2
    async with running(fake_ari, tmp_path, attendant=attendant_for(digits_wait_s=WAIT_S),
                       recognizer=recognizer) as h:
        cid = await asked_for_the_number(fake_ari)
        if first:
            recognizer.utterances.append(first)
            await asyncio.sleep(0.5)
            assert recognizer.heard[-1] == first and "message_recipient" not in \
                phrases(fake_ari, cid), "heard, and still waiting for the keys"
        loop = asyncio.get_running_loop()
        keyed_at = loop.time()
        for key in "13800001111#":
            await fake_ari.dtmf(cid, key)
        await wait_played(fake_ari, cid, "message_recipient")
        took = loop.time() - keyed_at
        number, said = await ticketed_number(fake_ari, h, cid, recognizer)
    assert DIGITS_HINT in recognizer.hints, "the recogniser listened while keys were awaited"
    assert took < WAIT_S / 2, "# ends the keys"
    assert number == "13800001111"
    assert said[:6] == [*ASKED, "message_recipient", "message_take"]


async def test_a_number_said_in_groups_is_taken_whole_at_its_pause(
        fake_ari: FakeAri, tmp_path: Path, recognizer: ScriptedRecognizer) -> None:
    """幺三八 / 零零零零 / 一一一一 are three utterances: none ends the wait on its own; the
    pause after the last does, long before the keys' wait would."""
    fake_ari.slow_media = {"message_recipient": 0.3}
    fake_ari.record_s = 0.2
    async with running(fake_ari, tmp_path, attendant=attendant_for(digits_wait_s=WAIT_S),
                       recognizer=recognizer) as h:
        cid = await asked_for_the_number(fake_ari)
        loop = asyncio.get_running_loop()
        said_at = loop.time()
        recognizer.utterances += ["我的号码是 幺三八", "零零零零", "一一一一"]
        await wait_played(fake_ari, cid, "message_recipient")
        took = loop.time() - said_at
        number, said = await ticketed_number(fake_ari, h, cid, recognizer)
    assert took < WAIT_S / 2, f"{took:.2f} s"
    assert number == "13800001111"
    assert "emergency_transfer" not in said


async def test_a_silent_wait_runs_to_its_end_and_the_number_is_this_phones(
        fake_ari: FakeAri, tmp_path: Path, recognizer: ScriptedRecognizer) -> None:
    fake_ari.slow_media = {"message_recipient": 0.3}
    fake_ari.record_s = 0.2
    wait_s = 1.0
    async with running(fake_ari, tmp_path, attendant=attendant_for(digits_wait_s=wait_s),
                       recognizer=recognizer) as h:
        cid = await asked_for_the_number(fake_ari)
        loop = asyncio.get_running_loop()
        asked_at = loop.time()
        await wait_played(fake_ari, cid, "message_recipient")
        took = loop.time() - asked_at
        number, said = await ticketed_number(fake_ari, h, cid, recognizer)
    assert wait_s <= took < wait_s + 1.5, f"{took:.2f} s"
    assert DIGITS_HINT in recognizer.hints
    assert number == "13900000001", "nothing keyed or said: the calling number"
    assert said[:6] == [*ASKED, "message_recipient", "message_take"]
