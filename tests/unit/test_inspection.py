"""Quality inspection without I/O: the checklist's validation (line and field), the weighted
score, the seeded monthly sample, and what the transcript lets the system pre-check."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.inspection.checklist import (
    DEFAULT_CHECKLIST,
    ChecklistError,
    Result,
    load_checklist,
    parse_checklist,
)
from hotline.inspection.precheck import Segment, precheck, recording_offset, segments
from hotline.inspection.sampling import RANDOM, Candidate, propose
from tests.fake_ari import FakeAri
from tests.harness import running
from tests.scripted import Said, ScriptedRecognizer

P, F, NA = Result.PASS, Result.FAIL, Result.NA
GOOD = """name: 测试
pass_score: 70
items:
  - id: opening
    title: 开头语
    weight: 30
    precheck: opening
  - id: once_told
    title: 一次性告知
    weight: 50
    optional: true
  - id: attitude
    title: 态度
    weight: 20
"""


def test_the_shipped_checklist_covers_the_issue() -> None:
    c = load_checklist()
    assert [i.id for i in c.items] == ["opening", "identity", "once_told", "no_forbidden",
                                       "closing", "attitude"]
    assert sum(i.weight for i in c.items) == 100 and c.pass_score == 80
    assert [i.id for i in c.items if i.optional] == ["once_told"]
    assert {i.precheck for i in c.items} == {"opening", "identity", "once_told", "forbidden",
                                             "closing", ""}
    assert load_checklist(DEFAULT_CHECKLIST) == c


@pytest.mark.parametrize(("text", "line", "field", "words"), [
    (GOOD.replace("weight: 30", "weight: 三十"), 6, "items[0].weight", "not a number"),
    (GOOD.replace("weight: 20", "weight: 0"), 14, "items[2].weight", "more than 0"),
    (GOOD.replace("weight: 20", "weight: 120"), 14, "items[2].weight", "at most 100"),
    (GOOD.replace("precheck: opening", "precheck: tone"), 7, "items[0].precheck",
     "one of opening"),
    (GOOD.replace("optional: true", "optional: maybe"), 11, "items[1].optional",
     "true or false"),
    (GOOD.replace("id: attitude", "id: opening"), 12, "items[2].id",
     "duplicate id 'opening' (first at line 4)"),
    (GOOD.replace("    title: 态度\n", ""), 12, "items[2].title", "missing"),
    (GOOD.replace("    title: 态度", "    titel: 态度"), 13, "items[2].titel", "unknown field"),
    (GOOD.replace("id: attitude", "id: Attitude"), 12, "items[2].id", "lower-case"),
    (GOOD.replace("pass_score: 70", "pass_score: 170"), 2, "pass_score", "at most 100"),
    (GOOD.replace("name: 测试", "nme: 测试"), 1, "nme", "unknown field"),
    ("name: x\nitems: []\n", 2, "items", "non-empty"),
    ("name: x\nitems:\n  - just text\n", 3, "items[0]", "must be a mapping"),
    ("name: [x\n", 2, "", "not valid YAML"),
])
def test_a_bad_checklist_names_the_line_and_the_field(text: str, line: int, field: str,
                                                      words: str) -> None:
    with pytest.raises(ChecklistError) as caught:
        parse_checklist(text, "qa.yaml")
    err = caught.value
    assert (err.line, err.field) == (line, field), str(err)
    assert words in str(err) and str(err).startswith(f"qa.yaml:{line}: ")


def test_a_missing_file_is_a_checklist_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ChecklistError, match="cannot read"):
        load_checklist(tmp_path / "none.yaml")


def test_the_score_weighs_the_items_that_apply() -> None:
    c = parse_checklist(GOOD)
    assert c.score({"opening": P, "once_told": P, "attitude": P}) == 100.0
    assert c.score({"opening": F, "once_told": P, "attitude": P}) == 70.0
    assert c.score({"opening": P, "once_told": F, "attitude": F}) == 30.0
    # 一次性告知 not due: out of the remaining 50 weight, 30 passed
    assert c.score({"opening": P, "once_told": NA, "attitude": F}) == 60.0
    with pytest.raises(ValueError, match=r"attitude .*always applies"):
        c.score({"opening": P, "once_told": P, "attitude": NA})
    with pytest.raises(ValueError, match=r"attitude .*no result"):
        c.score({"opening": P, "once_told": P})
    with pytest.raises(ValueError, match="not items"):
        c.score({"opening": P, "once_told": P, "attitude": P, "smile": P})
    shipped = load_checklist()
    every = {i.id: P for i in shipped.items}
    assert shipped.score(every | {"no_forbidden": F}) == 80.0  # weight 20 of 100
    assert shipped.score(every | {"once_told": NA, "no_forbidden": F}) == 73.3  # 55 / 75


def _calls() -> list[Candidate]:
    out = [Candidate(i, "1001", 5, False) for i in range(1, 21)]
    out += [Candidate(100 + i, "1002", None, False) for i in range(10)]
    out[4] = Candidate(5, "1001", 2, False)  # a low rating
    out[9] = Candidate(10, "1001", 4, True)  # a complaint
    out.append(Candidate(200, "1003", 1, True))  # both, and nothing else from 1003
    return out


def test_the_sample_holds_every_flagged_call_and_n_drawn_per_operator() -> None:
    picked = propose(_calls(), 3, "2026-11", low_rating=2)
    by = {op: [p for p in picked if p.operator == op] for op in ("1001", "1002", "1003")}
    assert [p.operator for p in picked] == sorted(p.operator for p in picked)
    reasons_1001 = {p.call_id: p.reasons for p in by["1001"]}
    assert reasons_1001[5] == ("低评价（2）",) and reasons_1001[10] == ("投诉",)
    assert sum(r == (RANDOM,) for r in reasons_1001.values()) == 3
    assert len(by["1002"]) == 3 and all(p.reasons == (RANDOM,) for p in by["1002"])
    assert [(p.call_id, p.reasons) for p in by["1003"]] == [(200, ("投诉", "低评价（1）"))]
    assert [p.call_id for p in by["1001"]] == sorted(p.call_id for p in by["1001"])
    # deterministic given the seed, and another seed draws otherwise
    assert propose(_calls(), 3, "2026-11", 2) == picked
    assert propose(list(reversed(_calls())), 3, "2026-11", 2) == picked
    other = propose(_calls(), 3, "another seed", 2)
    assert {p.call_id for p in other} != {p.call_id for p in picked}
    # one operator's draw does not move when another's calls change
    fewer = [c for c in _calls() if c.operator != "1002"]
    assert [p for p in propose(fewer, 3, "2026-11", 2) if p.operator == "1001"] == by["1001"]
    # more asked than there are: all of them
    assert len([p for p in propose(_calls(), 50, "s", 2) if p.operator == "1002"]) == 10
    assert [p.reasons for p in propose(_calls(), 0, "s", 2) if p.operator == "1001"] == [
        ("低评价（2）",), ("投诉",)]


OPENING = "您好，12345便民服务热线，1001号为您服务，请问有什么可以帮您？"


def _segs(*items: tuple[str, str, float]) -> list[Segment]:
    return [Segment(who, text, at, at + 1.0, "1001" if who == "operator" else "")
            for who, text, at in items]


def test_prechecks_from_what_was_said() -> None:
    c = load_checklist()
    segs = _segs(("operator", "您好 12345 便民服务热线 一零零一号为您服务 请问有什么可以帮您", 0.8),
                 ("caller", "我不知道怎么办", 4.0),  # the caller's words are not judged
                 ("operator", "资料上都写着，自己看去", 9.5),
                 ("operator", "请您对我的服务做出评价", 30.0))
    pre, hits = precheck(c, segs, said=[], job_number="1001", openings=[OPENING],
                         rated=False)
    assert pre["opening"].result is P and pre["opening"].offset_s == 0.8
    assert pre["identity"].result is P  # 一零零一号: the recogniser's digits
    assert pre["no_forbidden"].result is F and pre["no_forbidden"].offset_s == 9.5
    assert [(h.phrase, h.offset_s) for h in hits] == [("自己看去", 9.5), ("资料上都写着", 9.5)]
    assert pre["closing"].result is P and pre["closing"].offset_s == 30.0
    assert pre["once_told"].result is None  # no 已一次性告知 mark: the inspector judges
    assert "attitude" not in pre  # the inspector alone judges that

    pre, _ = precheck(c, segs, said=[], job_number="1001", openings=[OPENING], rated=False,
                      told=["户口迁入", "居住证办理", "户口迁入"])
    assert pre["once_told"].result is P
    assert pre["once_told"].evidence == "已一次性告知：户口迁入、居住证办理"

    bare = _segs(("operator", "喂，什么事", 0.5), ("operator", "好的再见", 20.0))
    pre, hits = precheck(c, bare, said=[], job_number="1001", openings=[OPENING],
                         rated=False)
    assert (pre["opening"].result, pre["identity"].result, pre["closing"].result,
            pre["no_forbidden"].result) == (F, F, F, P)
    assert hits == []

    # the system said the opening (with the job number) and the rating request for the seat
    pre, _ = precheck(c, [], said=["opening", "rating_request"], job_number="1001",
                      openings=[OPENING], rated=True)
    assert (pre["opening"].result, pre["identity"].result, pre["closing"].result) == (P, P, P)
    assert pre["no_forbidden"].result is None  # nothing the operator said to judge
    pre, _ = precheck(c, [], said=[], job_number="1001", openings=[OPENING], rated=False)
    assert all(p.result is None for p in pre.values())


def test_segments_are_placed_in_the_recording() -> None:
    answered = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    events = [
        (answered + timedelta(seconds=9), {"speaker": "operator", "text": "等着吧",
                                           "start_s": 1.0, "end_s": 2.5}),
        (answered + timedelta(seconds=3), {"speaker": "caller", "text": "你好",
                                           "start_s": 1.2, "end_s": 2.0}),
        (answered + timedelta(seconds=30), {"speaker": "operator", "text": "再见",
                                            "start_s": 20.0, "end_s": 21.0, "offset_s": 24.5}),
        (answered, {"speaker": "caller", "text": ""}),  # nothing said: not a segment
    ]
    segs = segments(events, answered)
    assert [(s.text, s.offset_s, s.end_s) for s in segs] == [
        ("你好", 1.2, 2.0), ("等着吧", 7.5, 9.0), ("再见", 24.5, 25.5)]
    assert recording_offset({"offset_s": -0.3}, answered, answered) == 0.0
    assert recording_offset({"speaker": "operator", "start_s": 3}, answered, None) == 3.0


class _LateWords(ScriptedRecognizer):
    """The caller's words 2.5 s into the stream."""

    async def listen(self, leg, timeout_s: float, hint: str = "") -> str:  # type: ignore[no-untyped-def]
        handler = self.on_segment.get(leg.id)
        self.on_segment[leg.id] = None
        text = await super().listen(leg, timeout_s, hint)
        self.on_segment[leg.id] = handler
        if text and handler is not None:
            await handler(Said(text, start_s=2.5, end_s=3.5))
        return text


class _Recorder:
    def __init__(self) -> None:
        self.started: list[str] = []

    async def start(self, channel_id: str, name: str) -> str:
        self.started.append(name)
        return name

    async def stop(self, handle: str) -> None:
        pass


async def test_a_recorded_calls_segments_carry_their_place_in_the_recording(
        fake_ari: FakeAri, tmp_path: Path) -> None:
    recorder = _Recorder()
    async with running(fake_ari, tmp_path, recognizer=_LateWords(["帮我查一下 工行 的 电话"]),
                       recorder=recorder) as h:
        cid = await fake_ari.incoming_call()
        first = await h.record_for(cid, ended=False)
        await fake_ari.talking(cid)
        for _ in range(500):
            if "transcript" in [e.kind for e in (await h.calls.get(first.id)).events]:
                break
            await asyncio.sleep(0.01)
        await fake_ari.caller_hangs_up(cid)
        row = await h.record_for(cid)
    [said] = [e.data for e in (await h.calls.get(row.id)).events if e.kind == "transcript"]
    assert recorder.started and said["start_s"] == 2.5
    # the caller's stream is attached just before the recording starts: a moment earlier
    assert 2.3 <= said["offset_s"] <= 2.5


def test_the_cli_checks_a_checklist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hotline.cli import main
    assert main(["inspection", "check"]) == 0
    assert "6 items, weights 100, pass mark 80" in capsys.readouterr().out
    bad = tmp_path / "qa.yaml"
    bad.write_text(GOOD.replace("weight: 20", "weight: heavy"), encoding="utf-8")
    assert main(["inspection", "check", str(bad)]) == 2
    assert f"{bad}:14: items[2].weight: 'heavy' is not a number" in capsys.readouterr().err
