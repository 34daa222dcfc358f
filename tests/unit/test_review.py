"""Inspection of forbidden phrases (003 附件) and the period statistics: without I/O, and
over the stores a chunk at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from unittest.mock import patch
from zoneinfo import ZoneInfo

from hotline.domain.calls import NewCall
from hotline.domain.etiquette import flag
from hotline.live.hub import Happening
from hotline.observability.metrics import HotlineMetrics
from hotline.reports.review import console_stats, inspection
from hotline.reports.stats import period_stats
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database


def test_forbidden_phrases_are_flagged_with_the_polite_alternative() -> None:
    found = flag("你要我说 多少遍？ 资料上都写着，自己看去")
    assert {f.phrase for f in found} == {"你要我说多少遍", "资料上都写着", "自己看去"}
    assert all(f.situation == "服务对象咨询问题时" for f in found)
    assert "详细解释" in found[0].instead
    assert flag("您好，请问有什么可以帮您？请稍候，我正在为您办理。") == []
    assert [f.phrase for f in flag("急什么，等着吧")] == ["急什么", "等着吧"]


def test_period_statistics() -> None:
    t0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)

    def call(rings: int, disposition: str, satisfaction: int | None, answered: bool = True
             ) -> SimpleNamespace:
        return SimpleNamespace(
            arrived_at=t0, answered_at=t0 + timedelta(seconds=rings * 5) if answered else None,
            rings=rings, answered_by="9000" if answered else None, disposition=disposition,
            category="查询", satisfaction=satisfaction)

    calls = [call(1, "resolved", 5), call(3, "resolved", 3), call(4, "silent", None),
             call(0, "abandoned", None, answered=False)]
    ticket = SimpleNamespace(kind="complaint", status="open", due_at=t0,
                             replied_at=None, extensions=1)
    s = period_stats(calls, [ticket], t0 + timedelta(days=1))
    assert (s.calls, s.answered, s.within_three_rings) == (4, 3, 2)
    assert s.median_wait_s == 15.0 and s.satisfaction_mean == 4.0
    assert (s.overdue, s.extended, s.dispositions["abandoned"]) == (1, 1, 1)
    rows = dict(s.rows())
    assert rows["三声内接听 answered within 3 rings"] == "66.7%"


def test_metrics_follow_the_records_as_they_are_written() -> None:
    m = HotlineMetrics()
    at = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    m.on_happening(Happening(1, "arrived", {"arrived_at": at.isoformat(), "caller": "13912345678"}))
    m.on_happening(Happening(1, "update", {
        "answered_at": (at + timedelta(seconds=2.5)).isoformat(), "rings": 1}))
    m.on_happening(Happening(1, "transcript", {"text": "x"}))
    m.on_happening(Happening(1, "update", {"ended_at": at.isoformat(),
                                           "disposition": "resolved"}))
    m.on_happening(Happening(2, "update", {"answered_at": at.isoformat()}))  # arrival unseen
    text = m.render().decode()
    assert 'hotline_calls_ended_total{disposition="resolved"} 1.0' in text
    assert "hotline_answer_seconds_count 1.0" in text
    assert 'hotline_answer_seconds_bucket{le="3.0"} 1.0' in text
    assert 'hotline_rings_bucket{le="1.0"} 1.0' in text
    # the whole number: "139" alone also turns up in the _created timestamps (1.796139e9)
    assert "13912345678" not in text


def test_the_attendant_never_says_a_forbidden_phrase() -> None:
    """003 附件 服务禁语, with the 推诿 phrases (不清楚, 不归我管, 找别人去): no phrase of the
    phrasebook, filled in as the scripts fill it, is on the inspection list."""
    from hotline.domain.etiquette import flag
    from hotline.paths import project_dir
    from hotline.phrasebook.model import load_phrasebook

    pb = load_phrasebook(project_dir("scripts") / "phrasebook.yaml")
    values = dict.fromkeys(("unit", "job_number", "organisation", "phone", "industry",
                            "district", "address", "title", "choices", "content", "ticket",
                            "due", "line", "name"), "X")
    said = {p.id: flag(p.fill(**values)) for p in pb}
    assert {k: v for k, v in said.items() if v} == {}
    assert [f.phrase for f in flag("这个不归我管，你找别人去吧，我也不清楚")] == \
        ["不清楚", "不归我管", "找别人去"]


async def test_the_consoles_figures_and_inspection_read_the_period_in_chunks(db: Database
                                                                            ) -> None:
    """More calls than one chunk: every one counted, every forbidden phrase an operator
    said found, nothing from outside the period (both databases)."""
    t0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    calls = CallRepository(db)
    for n in range(7):
        cid = await calls.open_call(NewCall(f"r-{n}", f"1390000000{n}", "12345",
                                            t0 + timedelta(minutes=n)))
        await calls.update_call(cid, answered_at=t0 + timedelta(minutes=n, seconds=4),
                                ended_at=t0 + timedelta(minutes=n + 1), rings=1,
                                answered_by="1001", disposition="resolved", satisfaction=5)
        await calls.add_event(cid, "transcript", {"speaker": "operator", "text": "急什么"})
        await calls.add_event(cid, "transcript", {"speaker": "caller", "text": "自己看去"})
    outside = await calls.open_call(NewCall("r-x", "13900000009", "12345",
                                            t0 - timedelta(days=3)))
    await calls.add_event(outside, "transcript", {"speaker": "operator", "text": "等着吧"})
    since, until = t0 - timedelta(hours=1), t0 + timedelta(hours=1)
    with patch("hotline.store.chunks.CHUNK", 3):
        figures = await console_stats(calls, since, until, ZoneInfo("Asia/Shanghai"))
        findings, more = await inspection(calls, since, until)
        few, cut = await inspection(calls, since, until, limit=4)
    assert figures["calls"] == 7 and figures["answered"] == 7
    assert figures["per_hour"]["9"] == 7 and figures["average_handle_s"] == 56.0
    assert figures["satisfaction_by_operator"] == {"1001": 5.0}
    assert [f["phrase"] for f in findings] == ["急什么"] * 7 and not more
    assert len(few) == 4 and cut
