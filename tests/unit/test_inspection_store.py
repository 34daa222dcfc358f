"""Quality inspection over the real stores (SQLite and PostgreSQL) and the production console:
the month's sample, a call's pre-filled scorecard, saving it (audited), the rectification's
follow-through, operators refused, the monthly mean score, and the ledger's sheet."""

from __future__ import annotations

import asyncio
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from hotline.cli import main
from hotline.config import Settings
from hotline.domain.calls import NewCall
from hotline.domain.tickets import NewTicket, TicketKind
from hotline.inspection.checklist import Result
from hotline.inspection.scores import monthly_scores
from hotline.inspection.setup import inspection_service
from hotline.reports.ledger import write_ledger
from hotline.store.database import Database
from tests.console import add_users, client, console, console_services, csrf, login
from tests.unit.test_confidential import FORM, FakeRecorder
from tests.unit.test_tickets import SH

NOV = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)


async def _call(services, n: int, operator: str, rating: int | None = None,  # type: ignore[no-untyped-def]
                **more: object) -> int:
    at = NOV + timedelta(hours=n)
    cid = await services.calls.open_call(NewCall(f"qa-{n}", "13900000001", "12345", at))
    await services.calls.update_call(cid, answered_at=at, answered_by=operator, owner=operator,
                                     ended_at=at + timedelta(minutes=2), disposition="resolved",
                                     satisfaction=rating, recording=f"call-{cid}", **more)
    return cid


async def _world(db: Database):  # type: ignore[no-untyped-def]
    await add_users(db)
    services = console_services(db, recorder=FakeRecorder())
    services.inspection = inspection_service(db, services.calls, Settings())
    ids = {"scored": await _call(services, 1, "1001", 5)}
    await services.calls.add_event(ids["scored"], "said", {"phrase": "opening"})
    for data in ({"speaker": "caller", "text": "我想问一下医保怎么办", "offset_s": 3.2,
                  "start_s": 3.0, "end_s": 5.0},
                 {"speaker": "operator", "job_number": "1001", "text": "资料上都写着，自己看去",
                  "offset_s": 9.5, "start_s": 2.0, "end_s": 4.0}):
        await services.calls.add_event(ids["scored"], "transcript", data)
    ids["low"] = await _call(services, 2, "1001", 1)
    ids["complaint"] = await _call(services, 3, "1001", 4)
    await services.tickets.open(NewTicket(TicketKind.COMPLAINT, "1001", ids["complaint"],
                                          "投诉", fields=FORM), NOV)
    for n in range(4, 12):
        ids[f"plain{n}"] = await _call(services, n, "1001", 5)
    ids["other"] = await _call(services, 12, "1002", None)
    ids["attendant"] = await _call(services, 13, "9000", 1)  # the attendant's: not sampled
    ids["december"] = await _call(services, 24 * 40, "1001", 1)
    return services, ids


async def test_sample_scorecard_rectification_scores_and_ledger(
        db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> None:
    services, ids = await _world(db)
    proposals, done = await services.inspection.sample("2026-11", "fixed")
    mine = [p for p in proposals if p.operator == "1001"]
    assert {ids["low"], ids["complaint"]} <= {p.call_id for p in mine}
    assert len(mine) == 2 + 3 and done == {}
    assert [p.call_id for p in proposals if p.operator == "1002"] == [ids["other"]]
    assert {p.operator for p in proposals} == {"1001", "1002"}
    assert (await services.inspection.sample("2026-11", "fixed"))[0] == proposals
    assert (await services.inspection.review(ids["low"])).prefill["once_told"].result is None
    await services.calls.add_event(ids["low"], "knowledge_told", {  # marked on the desk
        "by": "1001", "items": [{"id": "ga-hukou", "title": "户口迁入", "version": 1}]})
    told = (await services.inspection.review(ids["low"])).prefill["once_told"]
    assert told.result is Result.PASS and "户口迁入" in told.evidence

    async with console(services) as (base, _), client() as sup, client() as op:
        assert await login(op, base, "1001") == 302
        token_op = await csrf(op, base)
        for path in ("/inspection/sample", f"/inspection/calls/{ids['scored']}",
                     "/inspection/records"):
            async with op.get(base + path, allow_redirects=False) as r:
                assert r.status == 403, path
        async with op.post(f"{base}/inspection/calls/{ids['scored']}",
                           data={"csrf": token_op}, allow_redirects=False) as r:
            assert r.status == 403

        assert await login(sup, base, "8001") == 302
        token = await csrf(sup, base)
        async with sup.get(f"{base}/inspection/sample?month=2026-11&seed=fixed") as r:
            listing = await r.text()
        assert r.status == 200 and f"/inspection/calls/{ids['complaint']}" in listing
        assert "投诉" in listing and "低评价（1）" in listing
        async with sup.get(f"{base}/inspection/sample?month=2026-13") as r:
            assert r.status == 400
        async with sup.get(f"{base}/inspection/calls/{ids['scored']}") as r:
            card = await r.text()
        assert r.status == 200
        assert f'data-src="/calls/{ids["scored"]}/recording"' in card
        assert 'data-seek="9.5"' in card and "自己看去" in card and "医保" in card
        # pre-filled: the system said the opening; the forbidden phrase fails its item
        assert re.search(r'name="r_opening" value="pass" checked', card)
        assert re.search(r'name="r_no_forbidden" value="fail" checked', card)
        assert not re.search(r'name="r_attitude" value="\w+" checked', card)
        assert 'name="r_once_told" value="na"' in card and 'name="r_opening" value="na"' \
            not in card
        form = {"csrf": token, "r_opening": "pass", "r_identity": "pass", "r_once_told": "na",
                "r_no_forbidden": "fail", "r_closing": "pass", "r_attitude": "fail",
                "n_attitude": "语气生硬"}
        async with sup.post(f"{base}/inspection/calls/{ids['scored']}", data=form) as r:
            refused = await r.text()
        assert r.status == 400 and "below the pass mark" in refused  # 40/75: 整改 due
        async with sup.post(f"{base}/inspection/calls/{ids['scored']}",
                            data=form | {"r_attitude": "maybe"}) as r:
            assert r.status == 400 and "attitude" in await r.text()
        async with sup.post(f"{base}/inspection/calls/{ids['scored']}", allow_redirects=False,
                            data=form | {"rectification": "=学习服务禁语，复训"}) as r:
            assert r.status == 303
        record = await services.inspection.repo.of_call(ids["scored"])
        assert record is not None and record.score == 53.3 and record.inspector == "8001"
        assert record.results["attitude"] == {
            "title": "服务态度热情、耐心、语气平和（003 文明服务制）", "weight": 15.0,
            "result": "fail", "prefill": None, "evidence": "", "note": "语气生硬"}
        assert record.results["no_forbidden"]["prefill"] == "fail"
        assert record.findings["forbidden"][0]["offset_s"] == 9.5
        async with sup.post(f"{base}/inspection/records/{record.id}/rectified",
                            data={"csrf": token, "follow_up": "已复训并考试合格"},
                            allow_redirects=False) as r:
            assert r.status == 303
        async with sup.get(f"{base}/inspection/records?month=2026-11") as r:
            ledger_page = await r.text()
        assert "已复训并考试合格" in ledger_page and "53.3" in ledger_page
    audit = [(a.actor, a.action, a.target) for a in await services.users.audit_log()]
    assert ("8001", "inspect_call", str(ids["scored"])) in audit
    assert ("8001", "save_inspection", str(ids["scored"])) in audit
    assert ("8001", "rectified", str(record.id)) in audit
    assert not any(a[0] == "1001" and a[1] in ("inspect_call", "save_inspection")
                   for a in audit)

    every_pass = {i.id: "pass" for i in services.inspection.checklist.items}
    _, score = await services.inspection.save(ids["low"], "8001", every_pass, {}, "", "",
                                              NOV + timedelta(days=1))
    assert score == 100.0
    await services.inspection.save(ids["december"], "8001", every_pass, {}, "", "", NOV)
    await services.inspection.save(ids["other"], "9001", every_pass | {
        "closing": Result.FAIL.value}, {}, "", "", NOV)
    scores = await monthly_scores(db, "2026-11", SH)
    assert {k: (v.mean, v.inspections) for k, v in scores.items()} == {
        "1001": (round((53.3 + 100) / 2, 1), 2), "1002": (85.0, 1)}  # December's call is December's
    assert (await services.inspection.sample("2026-11", "fixed"))[1].keys() >= {ids["low"]}
    monkeypatch.setenv("HOTLINE_DB_URL", db.url)
    assert await asyncio.to_thread(main, ["inspection", "scores", "--month", "2026-11",
                                          "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["scores"] == [
        {"operator": "1001", "mean": scores["1001"].mean, "inspections": 2},
        {"operator": "1002", "mean": 85.0, "inspections": 1}]

    out = io.BytesIO()
    await write_ledger(services.calls, services.tickets, "2026-11", SH, out,
                       services.inspection.repo)
    book = load_workbook(io.BytesIO(out.getvalue()))
    assert book.sheetnames == ["来电台账", "工单台账", "投诉登记", "质检台账", "回访",
                              "承办单位", "统计"]
    sheet = list(book["质检台账"].iter_rows(values_only=True))
    assert sheet[0][:3] == ("编号 id", "来电 call", "来电时间 call time")
    first = dict(zip(sheet[0], sheet[1], strict=True))
    assert (first["来电 call"], first["工号 operator"], first["质检员 inspector"],
            first["得分 score"]) == (ids["scored"], "1001", "8001", 53.3)
    assert "自己看去" in first["发现问题 findings"] and "@9.5s" in first["发现问题 findings"]
    assert "语气平和（003 文明服务制）：不合格（语气生硬）" in first["各项 items"]
    assert first["整改落实 follow-up"] == "已复训并考试合格"
    cell = book["质检台账"].cell(2, 12)  # the rectification: text, never a formula
    assert cell.value == "=学习服务禁语，复训" and cell.data_type == "s"
    assert len(sheet) == 1 + 3  # November's three inspections, not December's
