"""What the record lets the system pre-check before the inspector listens: the opening said
(by the system on the operator's behalf, or by the operator in the phrasebook's words), the
job number given, the rating asked for, and forbidden phrases (003 附件) in what the operator
said, each at its moment in the recording. The inspector confirms or overrides every one.
Pure logic over plain values."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotline.domain.etiquette import flag
from hotline.inspection.checklist import Checklist, Result

OPENING_PHRASES = ("opening", "opening_after_wait")  # phrasebook ids that open a call
IDENTITY_PHRASES = (*OPENING_PHRASES, "job_number_only")  # ...that give the job number
CLOSING_PHRASES = ("rating_request",)
OPENING_SIMILARITY = 0.6  # an operator's own opening this close to the phrasebook's passes
_DIGITS = str.maketrans("零〇一幺二两三四五六七八九", "0011223456789")
_NOISE = re.compile(r"[\s，,。.!！?？、：:；;]")


@dataclass(frozen=True)
class Segment:
    """A transcript segment placed in the recording."""

    speaker: str  # caller | operator
    text: str
    offset_s: float  # where it starts in the recording
    end_s: float
    job_number: str = ""


@dataclass(frozen=True)
class Prefill:
    result: Result | None  # None: the transcript cannot tell; the inspector judges
    evidence: str
    offset_s: float | None = None


@dataclass(frozen=True)
class Hit:
    """A forbidden phrase the operator said, with where to hear it."""

    phrase: str
    situation: str
    instead: str
    text: str
    offset_s: float


def recording_offset(data: dict[str, Any], at: datetime, answered_at: datetime | None
                     ) -> float:
    """Where a transcript segment starts in the call's recording. Segments written since the
    recording kept its time carry ``offset_s``; for older ones the caller's stream started
    with the recording (its ``start_s``), and an operator's is estimated from when the
    segment was written after the answer, less its length."""
    if isinstance(data.get("offset_s"), int | float):
        return max(0.0, float(data["offset_s"]))
    start = float(data.get("start_s") or 0.0)
    if data.get("speaker") != "operator" or answered_at is None:
        return max(0.0, start)
    length = float(data.get("end_s") or start) - start
    return max(0.0, round((at - answered_at).total_seconds() - length, 2))


def segments(events: Iterable[tuple[datetime, dict[str, Any]]], answered_at: datetime | None
             ) -> list[Segment]:
    """The transcript events of a call (when written, data) as segments in recording order."""
    out = []
    for at, data in events:
        text = str(data.get("text") or "")
        if not text:
            continue
        offset = recording_offset(data, at, answered_at)
        length = max(0.0, float(data.get("end_s") or 0) - float(data.get("start_s") or 0))
        out.append(Segment(str(data.get("speaker") or "caller"), text, offset,
                           round(offset + length, 2), str(data.get("job_number") or "")))
    return sorted(out, key=lambda s: s.offset_s)


def _plain(text: str) -> str:
    return _NOISE.sub("", text).translate(_DIGITS)


def _opening(ops: list[Segment], said: set[str], openings: list[str]) -> Prefill:
    if said & set(OPENING_PHRASES):
        return Prefill(Result.PASS, "系统代报规范开头语")
    if not ops:
        return Prefill(None, "无话务员通话文字")
    first = ops[0]
    best = max((difflib.SequenceMatcher(None, _plain(first.text), _plain(o)).ratio()
                for o in openings), default=0.0)
    if best >= OPENING_SIMILARITY:
        return Prefill(Result.PASS, f"开头语：{first.text}", first.offset_s)
    return Prefill(Result.FAIL, f"首句非规范开头语：{first.text}", first.offset_s)


def _identity(ops: list[Segment], said: set[str], job: str) -> Prefill:
    if said & set(IDENTITY_PHRASES):
        return Prefill(Result.PASS, f"系统代报工号{job}")
    for s in ops:
        if job and f"{job}号" in _plain(s.text):
            return Prefill(Result.PASS, f"报工号：{s.text}", s.offset_s)
    if not ops:
        return Prefill(None, "无话务员通话文字")
    return Prefill(Result.FAIL, f"通话文字中未报工号{job}")


def _closing(ops: list[Segment], said: set[str], rated: bool) -> Prefill:
    if said & set(CLOSING_PHRASES) or rated:
        return Prefill(Result.PASS, "已请来电人评价" + ("（有评价）" if rated else ""))
    for s in ops:
        if "评价" in s.text:
            return Prefill(Result.PASS, f"结束语：{s.text}", s.offset_s)
    if not ops:
        return Prefill(None, "无话务员通话文字")
    return Prefill(Result.FAIL, "未请来电人评价")


def _once_told(told: list[str]) -> Prefill:
    """一次性告知 as the operator marked it on the desk (the call's knowledge_told events);
    without a mark the inspector judges whether it was due (a lookup needs none)."""
    if told:
        return Prefill(Result.PASS, "已一次性告知：" + "、".join(dict.fromkeys(told)))
    return Prefill(None, "未标记一次性告知；如属咨询请核查")


def forbidden(segs: list[Segment]) -> list[Hit]:
    """The forbidden phrases in what the operator said (the caller's words are not judged)."""
    return [Hit(f.phrase, f.situation, f.instead, s.text, s.offset_s)
            for s in segs if s.speaker == "operator" for f in flag(s.text)]


def precheck(checklist: Checklist, segs: list[Segment], said: Iterable[str], job_number: str,
             openings: list[str], rated: bool, told: list[str] | None = None
             ) -> tuple[dict[str, Prefill], list[Hit]]:
    """Pre-fills for the checklist's items that name a precheck, and the forbidden-phrase
    hits. ``said``: the phrasebook ids the system said on the call; ``openings``: the
    phrasebook's opening texts filled in for this operator; ``rated``: the caller rated;
    ``told``: the titles of the knowledge items marked 已一次性告知 on the call."""
    said_ids, ops = set(said), [s for s in segs if s.speaker == "operator"]
    hits = forbidden(segs)
    out: dict[str, Prefill] = {}
    for item in checklist.items:
        if item.precheck == "opening":
            out[item.id] = _opening(ops, said_ids, openings)
        elif item.precheck == "identity":
            out[item.id] = _identity(ops, said_ids, job_number)
        elif item.precheck == "closing":
            out[item.id] = _closing(ops, said_ids, rated)
        elif item.precheck == "once_told":
            out[item.id] = _once_told(list(told or ()))
        elif item.precheck == "forbidden":
            out[item.id] = (
                Prefill(Result.FAIL, "服务禁语：" + "、".join(h.phrase for h in hits),
                        hits[0].offset_s) if hits else
                Prefill(Result.PASS, "未发现服务禁语") if ops else
                Prefill(None, "无话务员通话文字"))
    return out, hits
