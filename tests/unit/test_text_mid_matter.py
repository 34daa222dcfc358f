"""An emergency said in the middle of another matter (issue 17): every answer inside a
matter's script is checked first, and one that names an emergency leaves the matter for the
emergency script. On the text channel nothing is dialled: the caller hears the transfer
phrase with the right line, then that it must be dialled directly."""

from __future__ import annotations

import pytest

from hotline.calls.text_session import TextDeps
from tests.unit.test_text_channel import SILENCE, T, deps, talk
from tests.unit.test_text_matters import events

__all__ = ["deps"]

ENDING = ["emergency_transfer", "emergency_dial_direct", "anything_else", "rating_request",
          "goodbye"]


@pytest.mark.parametrize(("answers", "before", "line", "during", "expect"), [
    # asked for the name in a message
    ([{T: "我要留言"}, {T: "救命啊 有人晕倒了"}], ["ask_caller_name"], "120", "message", "free"),
    # the unit a complaint is about
    ([{T: "我要投诉"}, {T: "李女士"}, {T: "是的"}, {T: "等等 楼下有人打架了 快来人"}],
     ["complaint_ack", "ask_caller_name", "ask_own_number", "complaint_about"], "110",
     "complaint", "free"),
    # the answer to a lookup's confirmation
    ([{T: "工行"}, {T: "不是 我家着火了"}], ["please_hold", "lookup_confirm"], "119", "lookup",
     "yes_no"),
    # said (not keyed) when the callback number is asked for
    ([{T: "我要留言"}, {T: "我姓张"}, {T: "不是"}, {T: "出车祸了"}],
     ["ask_caller_name", "ask_own_number", "ask_callback_number"], "122", "message",
     "digits"),
], ids=["message_name", "complaint_about", "lookup_confirm", "callback_number"])
async def test_an_emergency_mid_matter_leaves_it_for_the_emergency_line(
        deps: TextDeps, answers: list[dict[str, object]], before: list[str], line: str,
        during: str, expect: str) -> None:
    ended, s = await talk(deps, *answers, SILENCE, SILENCE)
    assert s.said == ["opening", *before, *ENDING]
    assert s.text_of("emergency_transfer") == f"请不要挂机，马上为您转接{line}。"
    assert s.text_of("emergency_dial_direct") == \
        f"很抱歉，{line}暂时未能接通，请您马上挂机直接拨打{line}。"
    assert (ended.disposition, ended.category) == ("emergency", "求助")
    assert not ended.tickets, "the matter left behind opens no ticket"
    noted = await events(deps, ended.record, "emergency")
    assert [(e["line"], e["outcome"]) for e in noted] == \
        [(line, "not_dialled"), (line, "no_line_here")]
    heard = (await events(deps, ended.record, "intent"))[-1]
    assert (heard["intent"], heard["line"], heard["during"], heard["expect"]) == \
        ("emergency", line, during, expect)


async def test_a_name_that_only_sounds_like_an_emergency_word_is_a_name(
        deps: TextDeps) -> None:
    """刘大杰 sounds like 打劫: as an answer, a homophone counts only before an exclamation."""
    ended, s = await talk(deps, {T: "我要留言"}, {T: "我叫刘大杰"}, {T: "是的"}, {T: "物业"},
                          {T: "楼道灯坏了"}, {T: "没有了"}, SILENCE, SILENCE)
    assert "emergency_transfer" not in s.said
    assert (ended.disposition, ended.category) == ("message", "留言")
    found = await deps.tickets.get(ended.tickets[0])  # type: ignore[attr-defined]
    assert found.caller_name == "刘大杰"


async def test_an_emergency_said_when_asked_for_anything_else_is_not_a_no(
        deps: TextDeps) -> None:
    ended, s = await talk(deps, {T: "工行"}, {T: "对"}, {T: "没有了 哎呀 着火了"}, SILENCE,
                          SILENCE)
    assert s.said[:6] == ["opening", "please_hold", "lookup_confirm", "lookup_found",
                          "anything_else", "emergency_transfer"]
    assert (ended.disposition, ended.category) == ("emergency", "查询")
