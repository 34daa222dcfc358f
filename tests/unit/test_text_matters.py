"""The attendant's other matters on the text channel (issue 17): messages, complaints,
emergencies, out of scope, and the hard lines. Dispositions, categories, tickets and what the
caller was told are asserted exactly."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.calls.text_session import TextDeps, run_text_call
from tests.console import VirtualClock
from tests.unit.test_text_channel import SILENCE, Script, T, deps, talk

__all__ = ["deps"]

LOCAL = ZoneInfo("Asia/Shanghai")
# 10:00 in Chongqing on the eve of National Day: 10月1日–7日 are days off on the statutory
# calendar, so one working day later is 10月8日 and two are 10月9日
EVE = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)


@pytest.fixture
def eve(deps: TextDeps) -> TextDeps:
    return dataclasses.replace(deps, clock=VirtualClock(start=EVE))


async def events(d: TextDeps, record: int, kind: str) -> list[dict[str, object]]:
    row = await d.store.get(record)  # type: ignore[attr-defined]
    return [e.data for e in row.events if e.kind == kind]


async def test_a_message_is_taken_read_back_with_its_addition_and_ticketed(
        deps: TextDeps) -> None:
    ended, s = await talk(
        deps, {T: "嗯 我想 留个言"}, {T: "我姓张 张先生"}, {T: "不是"},
        {"digit": "13800001111#"}, {T: "给王主任"}, {T: "明天的会改到下午三点"},
        {T: "请他带上材料"}, SILENCE, SILENCE)
    assert s.said == ["opening", "ask_caller_name", "ask_own_number", "ask_callback_number",
                      "message_recipient", "message_take", "message_readback",
                      "message_ticket", "anything_else", "rating_request", "goodbye"]
    assert s.text_of("message_readback") == \
        "张先生，您给王主任留言的主要内容是明天的会改到下午三点，对吗？还有补充吗？"
    assert (ended.disposition, ended.category) == ("message", "留言")
    [ticket] = ended.tickets
    found = await deps.tickets.get(ticket)  # type: ignore[attr-defined]
    assert found.kind == "message" and found.owner == "9000"
    assert (found.caller_name, found.callback_number) == ("张先生", "13800001111")
    assert found.fields["recipient"] == "王主任" and found.fields["title"] == "张先生"
    assert found.fields["transcript"] == "明天的会改到下午三点；请他带上材料"
    assert f"工单号是{ticket}" in s.text_of("message_ticket")
    assert found.due_at - found.created_at <= timedelta(days=4)


async def test_a_message_on_the_callers_own_number_without_a_title(deps: TextDeps) -> None:
    ended, s = await talk(deps, {T: "帮我转告一下物业"}, {T: "我叫刘洋"}, {T: "是的"},
                          {T: "物业"}, {T: "楼道灯坏了"}, {T: "对 没有了"}, SILENCE, SILENCE)
    assert "ask_callback_number" not in s.said
    assert s.text_of("message_readback").startswith("您好，您给物业留言")
    found = await deps.tickets.get(ended.tickets[0])  # type: ignore[attr-defined]
    assert (found.caller_name, found.callback_number) == ("刘洋", "13900000001")
    assert found.fields["title"] == "" and found.fields["transcript"] == "楼道灯坏了"


async def test_a_complaint_is_acknowledged_ticketed_confidential_due_in_two_workdays(
        deps: TextDeps) -> None:
    ended, s = await talk(
        deps, {T: "我要投诉"}, {T: "李女士"}, {T: "是的"}, {T: "万州区人社局窗口的工作人员"},
        {T: "办社保卡时态度恶劣让我跑了三趟"}, {T: "要保密"}, SILENCE, SILENCE)
    assert s.said == ["opening", "complaint_ack", "ask_caller_name", "ask_own_number",
                      "complaint_about", "complaint_take", "complaint_confidential",
                      "complaint_ticket", "anything_else", "rating_request", "goodbye"]
    assert (ended.disposition, ended.category) == ("complaint", "投诉")
    [ticket] = ended.tickets
    found = await deps.tickets.get(ticket)  # type: ignore[attr-defined]
    assert found.kind == "complaint"
    f = found.fields
    assert (f["complainant_name"], f["complainant_phone"], f["respondent_unit"]) == \
        ("李女士", "13900000001", "万州区人社局窗口的工作人员")
    assert f["request"] == "办社保卡时态度恶劣让我跑了三趟" and f["channel"] == "电话投诉"
    assert f["confidential"] is True and f["recorder"] == "9000"
    assert found.due_at == deps.tickets.due("complaint", found.created_at)  # type: ignore[attr-defined]
    assert f"工单号是{ticket}" in s.text_of("complaint_ticket")


async def test_dissatisfaction_is_acknowledged_and_a_complaint_offered(deps: TextDeps) -> None:
    ended, s = await talk(deps, {T: "你们服务太差了"}, {T: "好"}, {T: "王五"}, {T: "是"},
                          {T: "热线"}, {T: "等了很久"}, {T: "不用"}, SILENCE, SILENCE)
    assert s.said[1:4] == ["dissatisfied_ack", "complaint_offer", "complaint_ack"]
    assert ended.disposition == "complaint"
    found = await deps.tickets.get(ended.tickets[0])  # type: ignore[attr-defined]
    assert found.fields["confidential"] is False


async def test_an_emergency_without_a_line_here_is_told_to_dial_it(deps: TextDeps) -> None:
    ended, s = await talk(deps, {T: "救命啊 着火了"}, SILENCE, SILENCE)
    assert s.said[:3] == ["opening", "emergency_transfer", "emergency_dial_direct"]
    assert s.text_of("emergency_transfer") == "请不要挂机，马上为您转接119。"
    assert "直接拨打119" in s.text_of("emergency_dial_direct")
    assert (ended.disposition, ended.category) == ("emergency", "求助")
    noted = await events(deps, ended.record, "emergency")
    assert [e["outcome"] for e in noted] == ["not_dialled", "no_line_here"]
    assert 0 <= float(noted[0]["after_words_ms"]) < 1000  # type: ignore[arg-type]
    assert not ended.tickets


async def test_out_of_scope_is_said_and_the_line_ends(deps: TextDeps) -> None:
    ended, s = await talk(deps, {T: "我是推销保险的"})
    assert s.said == ["opening", "out_of_scope"]
    assert (ended.disposition, ended.category) == ("out_of_scope", "咨询")


async def test_nuisance_after_two_abusive_turns_then_the_silent_ending(deps: TextDeps) -> None:
    ended, s = await talk(deps, {T: "傻逼"}, {T: "你妈的"}, SILENCE)
    assert s.said == ["opening", "not_heard", "nuisance_prompt", "silent_goodbye"]
    assert ended.disposition == "nuisance"


async def test_a_real_matter_after_the_nuisance_prompt_is_served(deps: TextDeps) -> None:
    ended, s = await talk(deps, {T: "那个那个"}, {T: "嗯嗯"}, {T: "工行"}, {T: "对"},
                          SILENCE, SILENCE)
    assert s.said[1:4] == ["not_heard", "nuisance_prompt", "please_hold"]
    assert ended.disposition == "resolved"


async def test_partly_heard_asks_what_was_meant(deps: TextDeps) -> None:
    _ended, s = await talk(deps, {T: "我想问一下"}, {T: "工行"}, {T: "对"}, SILENCE, SILENCE)
    assert s.said[1] == "ask_again"
    assert s.text_of("ask_again") == "请问您的意思是我想问一下吗？"


async def test_name_thanks_and_silence_mid_conversation(deps: TextDeps) -> None:
    ended, s = await talk(deps, {T: "你叫什么名字"}, {T: "谢谢"}, SILENCE, SILENCE)
    assert s.said == ["opening", "job_number_only", "you_are_welcome", "anything_else",
                      "can_you_hear", "silent_goodbye"]
    assert s.text_of("job_number_only") == "很抱歉，我们在工作时只使用工号，我是9000号。"
    assert ended.disposition == "silent"


async def test_a_withheld_caller_is_asked_for_a_number_not_whether_it_is_this_phone(
        deps: TextDeps) -> None:
    """A withheld number (anonymous), or the text channel's default caller "text", cannot be
    called back: the caller is asked for the number at once, and it goes on the ticket."""
    for caller in ("anonymous", "text"):
        script = Script([{T: "我要留言"}, {T: "我姓张"}, {"digit": "13800001111#"},
                         {T: "给王主任"}, {T: "明天的会改到下午三点"}, {T: "没有了"},
                         SILENCE, SILENCE])
        errors: list[str] = []
        ended = await run_text_call(deps, script, caller, errors.append)
        assert not errors and "ask_own_number" not in script.said, script.said
        assert script.said[2] == "ask_callback_number"
        found = await deps.tickets.get(ended.tickets[0])  # type: ignore[attr-defined]
        assert found.callback_number == "13800001111"


async def test_spoken_callback_digits_and_more_at_the_read_back_on_the_calendar(
        eve: TextDeps) -> None:
    """The callback number said, not keyed; "还有补充" at the read-back: the addition is
    taken after the tone and appended; the ticket is due at close of business on the first
    working day after the holiday, and the caller hears exactly that."""
    ended, s = await talk(
        eve, {T: "我要留言"}, {T: "我叫刘洋"}, {T: "不是"}, {T: "幺三八 零零零零 一一一一"},
        {T: "给物业"}, {T: "楼道灯坏了"}, {T: "还有补充"}, {T: "三楼的也坏了"}, SILENCE,
        SILENCE)
    assert s.said == ["opening", "ask_caller_name", "ask_own_number", "ask_callback_number",
                      "message_recipient", "message_take", "message_readback", "message_take",
                      "message_ticket", "anything_else", "rating_request", "goodbye"]
    assert (ended.disposition, ended.category) == ("message", "留言")
    [ticket] = ended.tickets
    found = await eve.tickets.get(ticket)  # type: ignore[attr-defined]
    assert (found.kind, found.caller_name, found.callback_number) == \
        ("message", "刘洋", "13800001111")
    assert found.fields["transcript"] == "楼道灯坏了；三楼的也坏了"
    assert found.due_at.astimezone(LOCAL) == datetime(2026, 10, 8, 17, 30, tzinfo=LOCAL)
    assert s.text_of("message_ticket") == \
        f"您给物业的留言已经记录，工单号是{ticket}，我们会在10月8日下午5点半前转达。"


async def test_an_empty_message_opens_no_ticket_and_ends_as_a_silent_line(
        eve: TextDeps) -> None:
    ended, s = await talk(eve, {T: "我要留言"}, {T: "我叫刘洋"}, {T: "是的"}, {T: "给物业"},
                          SILENCE, SILENCE)
    assert s.said == ["opening", "ask_caller_name", "ask_own_number", "message_recipient",
                      "message_take", "not_heard", "silent_goodbye"]
    assert (ended.disposition, ended.category) == ("silent", "留言")
    assert not ended.tickets
    assert await events(eve, ended.record, "message_empty") == [{"for": "物业"}]


async def test_a_complaint_on_the_eve_of_the_holiday_is_due_two_working_days_after_it(
        eve: TextDeps) -> None:
    ended, s = await talk(eve, {T: "我要投诉"}, {T: "李女士"}, {T: "是的"}, {T: "物业公司"},
                          {T: "电梯坏了一个月没人修"}, {T: "不用"}, SILENCE, SILENCE)
    [ticket] = ended.tickets
    found = await eve.tickets.get(ticket)  # type: ignore[attr-defined]
    assert found.due_at.astimezone(LOCAL) == datetime(2026, 10, 9, 17, 30, tzinfo=LOCAL)
    assert s.text_of("complaint_ticket") == \
        f"您的投诉已经登记，工单号是{ticket}，我们会在10月9日下午5点半前给您答复。"
    assert (ended.disposition, ended.category) == ("complaint", "投诉")


async def test_declining_the_complaint_offer_then_nothing_more_goes_to_the_rating(
        deps: TextDeps) -> None:
    """Dissatisfied, offered a complaint, declined, and nothing else: no ticket, no lookup
    of "没有了", straight to the rating and goodbye. The remark was answered on the line
    (answered, no category): not a caller who gave up, nor a missed call."""
    ended, s = await talk(deps, {T: "你们服务太差了"}, {T: "不用了"}, {T: "没有了"}, SILENCE)
    assert s.said == ["opening", "dissatisfied_ack", "complaint_offer", "anything_else",
                      "rating_request", "goodbye"]
    assert (ended.disposition, ended.category) == ("answered", "")
    assert not ended.tickets
    assert await events(deps, ended.record, "nothing_more") == [{"said": "没有了"}]


async def test_declining_the_complaint_offer_then_a_lookup_is_served(deps: TextDeps) -> None:
    ended, s = await talk(deps, {T: "态度很不好"}, {T: "不需要"}, {T: "帮我查一下工行"},
                          {T: "对"}, SILENCE, SILENCE)
    assert s.said[:7] == ["opening", "dissatisfied_ack", "complaint_offer", "anything_else",
                          "please_hold", "lookup_confirm", "lookup_found"]
    assert (ended.disposition, ended.category) == ("resolved", "查询")
    assert not ended.tickets


async def test_nuisance_after_two_unrelated_turns(deps: TextDeps) -> None:
    """Laughing, then chit-chat: asked once whether there is anything to help with, then
    nuisance_prompt; still nothing: the silent-line ending."""
    ended, s = await talk(deps, {T: "哈哈哈"}, {T: "你吃饭了吗"}, {T: "陪我聊聊天"})
    assert s.said == ["opening", "anything_else", "nuisance_prompt", "silent_goodbye"]
    assert (ended.disposition, ended.category) == ("nuisance", "")


async def test_the_name_asked_again_counts_as_unrelated(deps: TextDeps) -> None:
    ended, s = await talk(deps, {T: "你叫什么名字"}, {T: "你是谁"}, {T: "你是谁啊"},
                          {T: "你是谁"})
    assert s.said == ["opening", "job_number_only", "anything_else", "nuisance_prompt",
                      "silent_goodbye"]
    assert ended.disposition == "nuisance"
