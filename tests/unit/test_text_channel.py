"""The attendant's scripts on the text channel: the real directory index, phrasebook, work
calendar and SQLite store; the caller is a list of lines."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hotline.attendant.call import AttendantSettings
from hotline.calls.text_session import Ended, TextDeps, run_text_call
from hotline.config import Settings
from hotline.directory.index import DirectoryIndex, SearchResult
from hotline.directory.records import Entry, parse_csv
from hotline.directory.service import DirectoryService
from hotline.paths import project_dir
from hotline.phrasebook.model import load_phrasebook
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.tickets.setup import ticket_repository
from tests.harness import WallClock

CSV = """id,name,aliases,industry,district,address,phone,transfer_to
1,中国工商银行重庆万州分行,工行|工商银行,银行,万州区,万州区白岩路1号,02358221111,
2,重庆市万州区人力资源和社会保障局,人社局|社保局,政府机关,万州区,万州区北山大道1888号,02358123456,PJSIP/departments
3,中国建设银行重庆万州分行,建行,银行,万州区,万州区高笋塘2号,02358222222,
4,中国农业银行重庆万州分行,农行,银行,万州区,万州区沙龙路3号,02358223333,
5,万州区老年大学,,教育,万州区,万州区江南新区4号,02358224444,
6,涪陵区老年大学,,教育,涪陵区,涪陵区兴华路5号,02372224444,
7,雾都宾馆,雾都,住宿,渝中区,渝中区民族路1号,02363801234,
8,三峡旅行社,,旅游,万州区,万州区滨江路8号,02358228888,
9,三峡电力公司,,能源,万州区,万州区电力路9号,02358229999,
10,三峡电子厂,,电子,万州区,万州区工业园10号,02358220010,
"""


class Script:
    """The caller's side: answers to each listen, in order; what was said is kept."""

    def __init__(self, answers: list[dict[str, object]]) -> None:
        self.answers = [json.dumps(a, ensure_ascii=False) for a in answers]
        self.out: list[dict[str, str]] = []

    async def read(self) -> str | None:
        return self.answers.pop(0) if self.answers else None

    def write(self, line: str) -> None:
        self.out.append(json.loads(line))

    @property
    def said(self) -> list[str]:
        return [o["say"] for o in self.out if "say" in o]

    def text_of(self, phrase: str) -> str:
        return next(o["text"] for o in self.out if o.get("say") == phrase)


@pytest.fixture
async def deps(tmp_path: Path) -> AsyncIterator[TextDeps]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'text.db'}")
    await db.upgrade()
    entries, problems = parse_csv(CSV.encode())
    assert not problems
    yield TextDeps(store=CallRepository(db), tickets=ticket_repository(db, Settings()),
                   clock=WallClock(), unit="12345热线",
                   phrasebook=load_phrasebook(project_dir("scripts") / "phrasebook.yaml"),
                   settings=AttendantSettings(keep_alive_s=1.0),
                   directory=DirectoryService(DirectoryIndex(entries, "万州区")))
    await db.close()


async def talk(deps: TextDeps, *answers: dict[str, object]) -> tuple[Ended, Script]:
    script = Script(list(answers))
    errors: list[str] = []
    ended = await run_text_call(deps, script, "13900000001", errors.append)
    assert not errors
    return ended, script


T = "text"
SILENCE = {"silence": True}


async def test_confirmed_lookup_reads_the_number_then_rates(deps: TextDeps) -> None:
    ended, s = await talk(deps, {T: "帮我查一下 工行 的 电话"}, {T: "对的"}, SILENCE,
                          {"digit": "5"})
    assert s.said == ["opening", "please_hold", "lookup_confirm", "lookup_found",
                      "anything_else", "rating_request", "rating_thanks", "goodbye"]
    assert "02358221111" in s.text_of("lookup_found")
    assert (ended.disposition, ended.category) == ("resolved", "查询")
    row = await deps.store.get(ended.record)  # type: ignore[attr-defined]
    assert row.channel == "text" and row.satisfaction == 5 and row.answered_by == "9000"


async def test_unclear_confirmation_is_asked_again_and_never_read_out(deps: TextDeps) -> None:
    ended, s = await talk(deps, {T: "工行"}, {T: "啊"}, SILENCE, {T: "那个那个"},
                          {T: "我要投诉"})
    assert "lookup_found" not in s.said, "no number without a clear yes"
    assert s.said[:6] == ["opening", "please_hold", "lookup_confirm", "ask_again", "not_heard",
                          "callback_take"]
    assert ended.disposition == "callback" and len(ended.tickets) == 1


async def test_no_then_a_new_request(deps: TextDeps) -> None:
    ended, s = await talk(deps, {T: "工行"}, {T: "不是"}, {T: "建设银行"}, {T: "是的"},
                          {T: "没有了"}, SILENCE)
    assert s.said.count("lookup_confirm") == 2
    assert "02358222222" in s.text_of("lookup_found")
    assert ended.disposition == "resolved"


async def test_a_category_is_asked_for_units_never_not_registered(deps: TextDeps) -> None:
    ended, s = await talk(deps, {T: "万州的银行"}, SILENCE, SILENCE)
    assert "lookup_not_registered" not in s.said
    assert s.said.count("lookup_related") == 3
    assert ended.disposition == "resolved"


async def test_a_shared_name_is_the_home_districts_then_asks_which(deps: TextDeps) -> None:
    _ended, s = await talk(deps, {T: "老年大学"}, {T: "不是"}, {T: "涪陵区"}, {T: "对"},
                          {T: "没有"}, SILENCE)
    confirms = [o["text"] for o in s.out if o.get("say") == "lookup_confirm"]
    assert "万州区老年大学" in confirms[0]
    assert "lookup_which_district" in s.said
    assert "02372224444" in s.text_of("lookup_found")


async def test_an_absent_name_is_not_registered_and_kept_for_the_keepers(
        deps: TextDeps) -> None:
    ended, s = await talk(deps, {T: "星辰量子计算研究院"}, SILENCE, SILENCE)
    assert "lookup_not_registered" in s.said
    assert ended.disposition == "referred"
    row = await deps.store.get(ended.record)  # type: ignore[attr-defined]
    assert [e.data["query"] for e in row.events if e.kind == "unmatched_query"] == \
        ["星辰量子计算研究院"]


async def test_a_transfer_nobody_can_take_here_becomes_a_referral(deps: TextDeps) -> None:
    ended, s = await talk(deps, {T: "人社局"}, {T: "对"}, {T: "好的转过去"}, SILENCE, SILENCE)
    assert s.said[3:6] == ["lookup_found", "transfer_offer", "transfer"]
    assert "transfer_failed" in s.said
    assert f"工单号是{ended.tickets[0]}" in s.text_of("transfer_failed")
    assert ended.disposition == "referred"


async def test_asking_to_be_put_through_to_a_unit_without_transfers(deps: TextDeps) -> None:
    _ended, s = await talk(deps, {T: "帮我转接雾都宾馆"}, {T: "对"}, SILENCE, SILENCE)
    assert s.said[3:5] == ["transfer_not_registered", "lookup_found"]


async def test_a_person_asked_for_with_nobody_here_takes_it_down(deps: TextDeps) -> None:
    ended, s = await talk(deps, {T: "我要找人工"}, {T: "我家门口的路灯坏了三天了电话13900000001"},
                          SILENCE)
    assert s.said[1:3] == ["callback_take", "callback_ticket"]
    [ticket] = ended.tickets
    assert f"工单号是{ticket}" in s.text_of("callback_ticket")
    assert "前回复您" in s.text_of("callback_take") and "月" in s.text_of("callback_take")
    assert ended.disposition == "callback" and ended.category == "咨询"
    found = await deps.tickets.get(ticket)  # type: ignore[attr-defined]
    assert found.kind == "callback" and found.owner == "9000"
    assert "路灯" in found.fields["transcript"]


async def test_up_to_three_matters_then_the_rating(deps: TextDeps) -> None:
    _ended, s = await talk(
        deps, {T: "工行"}, {T: "对"}, {T: "还有 建行"}, {T: "是"}, {T: "再查一下农行"},
        {T: "对的"}, {"digit": "4"})
    assert s.said.count("lookup_found") == 3
    assert s.said.count("anything_else") == 2, "the third matter goes straight to the rating"
    assert s.said[-3:] == ["rating_request", "rating_thanks", "goodbye"]


async def test_hanging_up_mid_dialogue_is_abandoned(deps: TextDeps) -> None:
    ended, _s = await talk(deps, {T: "工行"}, {"hangup": True})
    assert ended.disposition == "abandoned"


async def test_malformed_lines_are_reported_and_taken_as_silence(deps: TextDeps) -> None:
    script = Script([])
    script.answers = ["not json", '{"txt": 1}', '{"text": 5}']
    errors: list[str] = []
    ended = await run_text_call(deps, script, "13900000001", errors.append)
    assert len(errors) == 3 and "not JSON" in errors[0]
    assert ended.disposition == "silent"


class SlowLookup:
    """The directory behind a slow link: each search takes ``delay_s``."""

    def __init__(self, inner: DirectoryService, delay_s: float) -> None:
        self.inner, self.delay_s = inner, delay_s

    async def lookup(self, text: str) -> SearchResult:
        await asyncio.sleep(self.delay_s)
        return await self.inner.lookup(text)

    async def related(self, entry: Entry) -> list[Entry]:
        return await self.inner.related(entry)


async def test_a_slow_search_keeps_the_caller_company_then_thanks_them(
        deps: TextDeps) -> None:
    assert isinstance(deps.directory, DirectoryService)
    slow = dataclasses.replace(deps, directory=SlowLookup(deps.directory, 2.5),
                               settings=AttendantSettings(keep_alive_s=1.0))
    _, s = await talk(slow, {T: "工行"}, {T: "对"}, SILENCE, SILENCE)
    assert s.said[:6] == ["opening", "please_hold", "keep_alive", "keep_alive",
                          "thanks_for_waiting", "lookup_confirm"]


async def test_competing_industries_are_asked_which(deps: TextDeps) -> None:
    _, s = await talk(deps, {T: "三峡"}, {T: "旅游"}, {T: "对"}, SILENCE, SILENCE)
    assert "lookup_which_industry" in s.said
    assert "02358228888" in s.text_of("lookup_found")


async def test_an_absent_unit_with_related_units_offers_them(deps: TextDeps) -> None:
    _, s = await talk(deps, {T: "万州招商银行"}, {T: "好的"}, SILENCE, SILENCE)
    assert s.said[2:5] == ["lookup_not_registered", "lookup_offer_related", "lookup_related"]
    assert s.said.count("lookup_related") == 2


# Spoken only on the phone (seats, Asterisk's legs), by the tests named here.
PHONE_ONLY = {"opening_after_wait": "test_call_flow.py", "seat_fault_transfer": "test_seats.py",
              "seat_fault_goodbye": "test_call_flow.py", "transfer_brief": "test_faults.py",
              "no_speech_model": "test_seats.py", "operator_handover": "test_seats.py",
              "emergency_brief": "test_call_flow.py", "low_volume": "test_call_flow.py",
              "low_volume_goodbye": "test_call_flow.py",
              "recording_notice": "test_recording_notice.py"}  # nothing recorded on text


async def test_every_scripted_phrase_is_spoken(deps: TextDeps) -> None:
    """Every phrase not for the operators' panel is spoken by a script: on the text channel
    here, or on the phone in the test file named in PHONE_ONLY."""
    slow = dataclasses.replace(deps, directory=SlowLookup(deps.directory, 1.5),  # type: ignore[arg-type]
                               settings=AttendantSettings(keep_alive_s=1.0))
    dialogues = [
        (deps, [{T: "工行"}, {T: "对的"}, SILENCE, {"digit": "5"}]),
        (deps, [{T: "工行"}, {T: "啊"}, SILENCE, {T: "那个"}, {T: "路灯坏了"}]),
        (deps, [SILENCE, SILENCE, SILENCE]),
        (deps, [{T: "万州的银行"}, SILENCE, SILENCE]),
        (deps, [{T: "老年大学"}, {T: "不是"}, {T: "涪陵区"}, {T: "对"}, SILENCE, SILENCE]),
        (deps, [{T: "三峡"}, {T: "旅游"}, {T: "对"}, SILENCE, SILENCE]),
        (deps, [{T: "人社局"}, {T: "对"}, {T: "好的"}, SILENCE, SILENCE]),
        (deps, [{T: "帮我转接雾都宾馆"}, {T: "对"}, SILENCE, SILENCE]),
        (deps, [{T: "万州招商银行"}, {T: "好的"}, SILENCE, SILENCE]),
        (slow, [{T: "工行"}, {T: "对"}, SILENCE, SILENCE]),
        # issue 17: messages, complaints, emergencies and the hard lines
        (deps, [{T: "我要留言"}, {T: "张先生"}, {T: "不是"}, {"digit": "13800001111#"},
                {T: "给王主任"}, {T: "会改到三点"}, {T: "对"}, SILENCE, SILENCE]),
        (deps, [{T: "你们态度太差"}, {T: "是"}, {T: "李女士"}, {T: "是的"}, {T: "窗口"},
                {T: "态度恶劣"}, {T: "不用"}, SILENCE, SILENCE]),
        (deps, [{T: "救命啊 着火了"}, SILENCE, SILENCE]),
        (deps, [{T: "我是推销保险的"}]),
        (deps, [{T: "傻逼"}, {T: "滚"}, SILENCE]),
        (deps, [{T: "我想问一下"}, {T: "你叫什么名字"}, {T: "谢谢"}, SILENCE, SILENCE]),
    ]
    spoken: set[str] = set()
    for d, answers in dialogues:
        _, s = await talk(d, *answers)
        spoken |= set(s.said)
    scripted = {p.id for p in deps.phrasebook if not p.panel}
    assert scripted - spoken == set(PHONE_ONLY), scripted - spoken - set(PHONE_ONLY)
    here = Path(__file__).parent
    for phrase, test_file in PHONE_ONLY.items():
        assert re.search(rf"\b{phrase}\b", (here / test_file).read_text(encoding="utf-8")), \
            phrase


def test_the_jsonl_protocol_of_attendant_chat(tmp_path: Path) -> None:
    """`hotline attendant chat --jsonl` as a program drives it: two dialogues in one process
    ({"call": …} after end), a malformed line reported on stderr and taken as silence, EOF
    mid-dialogue a hang-up; the records are in the real store with channel=text."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(HOTLINE_HOME=str(tmp_path), HOTLINE_HOME_DISTRICT="万州区")
    csv_file = tmp_path / "directory.csv"
    csv_file.write_text(CSV, encoding="utf-8")
    run = functools.partial(subprocess.run, capture_output=True, text=True, env=env,
                            timeout=120, check=False)
    imported = run([sys.executable, "-m", "hotline", "directory", "import", str(csv_file)])
    assert imported.returncode == 0, imported.stderr
    lines = [{T: "帮我查一下工行的电话"}, {T: "对的"}, SILENCE, {"digit": "5"},
             {"call": {"caller": "13800000002"}}, {T: "雾都"}]
    stdin = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\nnot json\n"
    chat = run([sys.executable, "-m", "hotline", "attendant", "chat", "--jsonl",
                "--caller", "13900000001"], input=stdin)
    assert chat.returncode == 0, chat.stderr
    out = [json.loads(line) for line in chat.stdout.splitlines()]
    ends = [o["end"] for o in out if "end" in o]
    assert [(e["disposition"], e["category"]) for e in ends] == [("resolved", "查询"),
                                                                 ("abandoned", "查询")]
    first = out[:out.index({"end": ends[0]})]
    assert [o.get("say") or o.get("listen") for o in first] == [
        "opening", "free", "please_hold", "lookup_confirm", "yes_no", "lookup_found",
        "anything_else", "free", "rating_request", "digits", "rating_thanks", "goodbye"]
    assert "02358221111" in first[5]["text"]
    assert "not JSON" in chat.stderr and "taken as silence" in chat.stderr
    listed = run([sys.executable, "-m", "hotline", "calls", "list", "--json"])
    rows = json.loads(listed.stdout)
    assert {r["id"] for r in rows} == {e["record"] for e in ends}
    assert [r["channel"] for r in rows] == ["text", "text"]
