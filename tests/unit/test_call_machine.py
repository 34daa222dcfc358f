"""The call state machine: every event in every state, table-driven; the disposition and
category derived from what happened."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from hotline.attendant.words import more_matters, new_request, spoken_time, yes_no
from hotline.domain.call_machine import (
    CallMachine,
    CallState,
    GaveUp,
    IllegalTransition,
    Matter,
    Served,
)
from hotline.paths import project_dir
from hotline.phrasebook.model import load_phrasebook

S = CallState
EVENTS: dict[str, Callable[[CallMachine], None]] = {
    "ring": lambda m: m.ring(),
    "offer_seat": lambda m: m.offer_seat(),
    "seat_unanswered": lambda m: m.seat_unanswered(),
    "answer": lambda m: m.answer("9000"),
    "greet": lambda m: m.greet(),
    "bridge_seat": lambda m: m.bridge_seat(),
    "listen": lambda m: m.listen(),
    "matter": lambda m: m.matter(Matter.LOOKUP),
    "put_through": lambda m: m.put_through(),
    "connected": lambda m: m.connected(),
    "not_connected": lambda m: m.not_connected(),
    "emergency": lambda m: m.emergency("119"),
    "take_down": lambda m: m.take_down(),
    "served": lambda m: m.served(Served.RESOLVED),
    "another_matter": lambda m: m.another_matter(),
    "give_up": lambda m: m.give_up(GaveUp.SILENT),
    "nothing_more": lambda m: m.nothing_more(),
    "fault": lambda m: m.fault(),
}
# (state, event) -> the state after it; every pair not listed is illegal.
LEGAL = {
    (S.ARRIVED, "ring"): S.RINGING, (S.ARRIVED, "answer"): S.ANSWERED,
    (S.ARRIVED, "fault"): S.CLOSING,
    (S.RINGING, "offer_seat"): S.OFFERED, (S.RINGING, "answer"): S.ANSWERED,
    (S.RINGING, "fault"): S.CLOSING,
    (S.OFFERED, "seat_unanswered"): S.RINGING, (S.OFFERED, "answer"): S.ANSWERED,
    (S.OFFERED, "bridge_seat"): S.TALKING, (S.OFFERED, "fault"): S.CLOSING,
    (S.ANSWERED, "greet"): S.GREETING, (S.ANSWERED, "fault"): S.CLOSING,
    (S.GREETING, "bridge_seat"): S.TALKING, (S.GREETING, "listen"): S.LISTENING,
    (S.GREETING, "fault"): S.CLOSING,
    (S.LISTENING, "offer_seat"): S.OFFERED, (S.LISTENING, "matter"): S.SERVING,
    (S.LISTENING, "take_down"): S.TAKING, (S.LISTENING, "give_up"): S.CLOSING,
    (S.LISTENING, "fault"): S.CLOSING, (S.LISTENING, "emergency"): S.TRANSFERRING,
    (S.LISTENING, "nothing_more"): S.CLOSING,
    (S.SERVING, "emergency"): S.TRANSFERRING,
    (S.SERVING, "offer_seat"): S.OFFERED, (S.SERVING, "matter"): S.SERVING,
    (S.SERVING, "put_through"): S.TRANSFERRING, (S.SERVING, "take_down"): S.TAKING,
    (S.SERVING, "served"): S.CLOSING, (S.SERVING, "give_up"): S.CLOSING,
    (S.SERVING, "fault"): S.CLOSING,
    (S.TALKING, "offer_seat"): S.OFFERED, (S.TALKING, "listen"): S.LISTENING,
    (S.TALKING, "served"): S.CLOSING, (S.TALKING, "fault"): S.CLOSING,
    (S.TRANSFERRING, "connected"): S.CONNECTED, (S.TRANSFERRING, "not_connected"): S.SERVING,
    (S.TRANSFERRING, "fault"): S.CLOSING,
    (S.CONNECTED, "served"): S.CLOSING, (S.CONNECTED, "fault"): S.CLOSING,
    (S.TAKING, "served"): S.CLOSING, (S.TAKING, "give_up"): S.CLOSING,
    (S.TAKING, "fault"): S.CLOSING,
    (S.CLOSING, "another_matter"): S.LISTENING, (S.CLOSING, "fault"): S.CLOSING,
}


def machine_in(state: CallState) -> CallMachine:
    """A machine in ``state``, answered once past the ring."""
    return CallMachine(state=state, answered_by="" if state in (
        S.ARRIVED, S.RINGING, S.OFFERED) else "9000")


@pytest.mark.parametrize("state", [s for s in CallState if s is not S.ENDED])
@pytest.mark.parametrize("event", list(EVENTS))
def test_every_event_in_every_state(state: CallState, event: str) -> None:
    m = machine_in(state)
    expected = LEGAL.get((state, event))
    if expected is None:
        with pytest.raises(IllegalTransition):
            EVENTS[event](m)
        return
    EVENTS[event](m)
    assert m.state is expected


def test_nothing_happens_after_the_end() -> None:
    for event in EVENTS:
        m = CallMachine(state=S.ENDED)
        with pytest.raises(IllegalTransition):
            EVENTS[event](m)
    with pytest.raises(IllegalTransition):
        CallMachine(state=S.ENDED).caller_gone()


def test_a_seat_that_does_not_answer_after_the_answer_leaves_the_attendant_serving() -> None:
    m = CallMachine()
    m.answer("9000")
    m.greet()
    m.listen()
    m.offer_seat()
    m.seat_unanswered()
    assert m.state is S.SERVING
    with pytest.raises(IllegalTransition):
        m.answer("1001")  # answered once only


@pytest.mark.parametrize(("steps", "disposition", "category"), [
    (["answer", "greet", "listen", "matter", "served"], "resolved", "查询"),
    (["answer", "greet", "listen", "give_up"], "silent", ""),
    (["answer", "greet", "listen"], "abandoned", ""),
    (["answer", "greet", "listen", "nothing_more"], "answered", ""),  # a remark, answered
    (["answer", "greet", "listen", "matter", "served", "another_matter", "nothing_more"],
     "resolved", "查询"),
    (["answer", "greet", "listen", "take_down", "served_callback"], "callback", "留言"),
    (["answer", "greet", "listen", "matter", "served", "another_matter", "matter",
      "served_referred"], "referred", "查询"),
    (["answer", "greet", "fault"], "failed", ""),
    (["ring", "offer_seat", "answer", "greet", "bridge_seat", "caller_gone"], "resolved", ""),
    (["answer", "greet", "listen", "matter", "put_through", "connected", "caller_gone"],
     "resolved", "查询"),
    (["answer", "greet", "listen", "matter", "put_through", "caller_gone"], "abandoned", "查询"),
    (["answer", "greet", "listen", "emergency", "connected", "caller_gone"], "emergency", "求助"),
    (["answer", "greet", "listen", "emergency", "not_connected", "served_referred"],
     "emergency", "求助"),
    (["answer", "greet", "listen", "matter", "emergency", "caller_gone"], "emergency", "求助"),
    (["answer", "greet", "listen", "give_up_low"], "low_volume", ""),
    (["answer", "greet", "listen", "give_up_nuisance"], "nuisance", ""),
    (["answer", "greet", "listen", "matter_oos", "give_up_oos"], "out_of_scope", "咨询"),
    (["answer", "greet", "listen", "matter_message", "served_message"], "message", "留言"),
    (["answer", "greet", "listen", "matter", "served", "another_matter", "matter_complaint",
      "served_complaint"], "complaint", "查询"),
])
def test_the_disposition_is_derived(steps: list[str], disposition: str, category: str) -> None:
    m = CallMachine()
    extra = {"served_callback": lambda m: m.served(Served.CALLBACK),
             "served_referred": lambda m: m.served(Served.REFERRED),
             "caller_gone": lambda m: m.caller_gone(),
             "give_up_low": lambda m: m.give_up(GaveUp.LOW_VOLUME),
             "give_up_nuisance": lambda m: m.give_up(GaveUp.NUISANCE),
             "give_up_oos": lambda m: m.give_up(GaveUp.OUT_OF_SCOPE),
             "matter_oos": lambda m: m.matter(Matter.OUT_OF_SCOPE),
             "matter_message": lambda m: m.matter(Matter.MESSAGE),
             "served_message": lambda m: m.served(Served.MESSAGE),
             "matter_complaint": lambda m: m.matter(Matter.COMPLAINT),
             "served_complaint": lambda m: m.served(Served.COMPLAINT)}
    for step in steps:
        {**EVENTS, **extra}[step](m)
    assert (m.disposition.value, m.category) == (disposition, category)


def test_at_most_three_matters() -> None:
    m = CallMachine()
    m.answer("9000")
    m.greet()
    m.listen()
    for _ in range(2):
        m.matter(Matter.LOOKUP)
        m.served(Served.RESOLVED)
        m.another_matter()
    m.matter(Matter.LOOKUP)
    m.served(Served.RESOLVED)
    assert not m.may_take_another
    with pytest.raises(IllegalTransition):
        m.another_matter()


@pytest.mark.parametrize(("text", "answer"), [
    ("对的", True), ("是", True), ("嗯", True), ("不是", False), ("不对 不对", False),
    ("那个那个", None), ("", None), ("啊", None), ("好的，转过去", True)])
def test_yes_no(text: str, answer: bool | None) -> None:
    assert yes_no(text) is answer


@pytest.mark.parametrize(("text", "answer"), [
    ("没有了", False), ("没有了谢谢", False), ("", False), ("有", True), ("嗯有的", True),
    ("还有 建行", None), ("再查一下农行", None)])
def test_more_matters(text: str, answer: bool | None) -> None:
    assert more_matters(text) is answer


def test_a_new_request_without_its_preamble() -> None:
    assert [new_request(t) for t in ("还有 建行", "再查一下农行", "雾都宾馆")] == \
        ["建行", "农行", "雾都宾馆"]


def test_due_times_in_words() -> None:
    from datetime import datetime
    assert spoken_time(datetime(2026, 12, 3, 17, 30)) == "12月3日下午5点半"
    assert spoken_time(datetime(2026, 12, 3, 9, 0)) == "12月3日上午9点"
    assert spoken_time(datetime(2026, 12, 3, 12, 15)) == "12月3日中午12点15分"


def test_every_phrase_is_spoken_by_a_script_or_read_from_the_panel() -> None:
    """A phrase not marked panel: true is named by the attendant's or the call's code; a
    panel phrase is not (it is for operators to read out until a script speaks it)."""
    pb = load_phrasebook(project_dir("scripts") / "phrasebook.yaml")
    root = Path(__file__).parents[2] / "hotline"
    code = "\n".join(p.read_text(encoding="utf-8") for folder in ("attendant", "calls")
                     for p in (root / folder).rglob("*.py"))
    named = set(re.findall(r'"([a-z_0-9]+)"', code))
    scripted = {p.id for p in pb if not p.panel}
    assert scripted - named == set(), "phrases no script speaks: mark them panel: true"
    assert {p.id for p in pb if p.panel} & named == set(), "spoken phrases marked panel"
