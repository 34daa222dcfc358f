"""Quality inspection in a real browser (chromium, Playwright) against the hotline serving the
sandbox Asterisk: a real call is recorded; the supervisor opens the month's proposed sample,
opens the call, hears the forbidden phrase at its moment (the transcript row follows the
recording), confirms the pre-filled checklist, scores it and saves; the scorecard is in the
monthly ledger's XLSX. An operator cannot open the inspection pages."""

from __future__ import annotations

import asyncio
import io
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from playwright.async_api import Browser

from hotline.config import Settings
from hotline.store.users_repo import Role
from tests.integration.conftest import serving, wait_for_records
from tests.integration.test_console_browser import DOCS, PASSWORDS, browser, login
from tests.sipp import sipp

__all__ = ["browser"]  # the fixture


async def test_a_supervisor_scores_a_sampled_call_into_the_ledger(settings: Settings,
                                                                 browser: Browser) -> None:
    async with serving(settings) as (services, server):
        base = str(server.make_url("")).rstrip("/")
        await services.users.add("8001", Role.SUPERVISOR, PASSWORDS["8001"])
        await services.users.add("1001", Role.OPERATOR, PASSWORDS["1001"])
        result = await sipp(settings.sandbox_sip_port, calls=1, hold_ms=4000, timeout_s=60)
        assert result.successful == 1, result.output[-2000:]
        [row] = await wait_for_records(services, 1)
        assert row.recording
        # The call as an operator's: the seat's side is written as the session writes it
        # (a seat's words need a speech model; the recording and its player are real).
        await services.calls.update_call(row.id, answered_by="1001", owner="1001")
        for data in ({"speaker": "operator", "job_number": "1001", "offset_s": 0.1,
                      "text": "您好 12345便民服务热线 1001号为您服务 请问有什么可以帮您",
                      "start_s": 0.1, "end_s": 0.3},
                     {"speaker": "caller", "text": "我想问一下社保卡怎么补办", "offset_s": 0.4,
                      "start_s": 0.4, "end_s": 1.2},
                     {"speaker": "operator", "job_number": "1001", "text": "急什么，等着吧",
                      "offset_s": 1.5, "start_s": 0.3, "end_s": 1.1},
                     {"speaker": "operator", "job_number": "1001",
                      "text": "请您对我的服务做出评价", "offset_s": 2.6, "start_s": 1.4,
                      "end_s": 2.4}):
            await services.calls.add_event(row.id, "transcript", data)
        month = row.arrived_at.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m")

        page = await login(browser, base, "8001", PASSWORDS["8001"])
        await page.wait_for_url(f"{base}/calls")
        await page.goto(f"{base}/inspection/sample?month={month}&seed=e2e")
        sample = await page.inner_text("#sample")
        assert str(row.id) in sample and "随机抽取" in sample and "未质检" in sample
        await page.click(f"#sample a[href='/inspection/calls/{row.id}']")
        await page.wait_for_url(f"{base}/inspection/calls/{row.id}")
        assert "等着吧" in await page.inner_text("#findings")
        # pre-filled from the transcript: the operator's opening in the phrasebook's words
        # with the job number; the forbidden phrase fails its item; the rating asked for
        assert await page.is_checked("input[name=r_opening][value=pass]")
        assert await page.is_checked("input[name=r_identity][value=pass]")
        assert await page.is_checked("input[name=r_no_forbidden][value=fail]")
        assert await page.is_checked("input[name=r_closing][value=pass]")
        assert not await page.is_checked("input[name=r_attitude][value=pass]")

        await page.wait_for_selector("audio#recording[data-state=loaded]", timeout=15000)
        await page.click("#findings a.seek")  # to the moment in the recording, at once
        await asyncio.sleep(0.3)
        at = await page.evaluate("document.getElementById('recording').currentTime")
        assert 1.5 <= at < 2.5, at  # not played there from the start
        await page.wait_for_selector("#timeline tr.playing", timeout=5000)
        assert "等着吧" in await page.inner_text("#timeline tr.playing")

        await page.check("input[name=r_once_told][value=na]")
        await page.check("input[name=r_attitude][value=fail]")
        await page.fill("input[name=n_attitude]", "语气不耐烦")
        await page.click("#scorecard button")  # below the pass mark without a rectification
        assert "below the pass mark" in await page.inner_text("#error")
        await page.fill("textarea[name=rectification]", "复训服务禁语，一周后复查")
        await page.click("#scorecard button")
        await page.wait_for_url(f"{base}/inspection/calls/{row.id}?saved=1")
        assert "53.3" in await page.inner_text("#saved")  # 40 of the 75 that apply
        await page.wait_for_selector("audio#recording[data-state=loaded]", timeout=15000)
        await page.click("#findings a.seek")  # (the screenshot shows the row playing)
        await page.wait_for_selector("#timeline tr.playing", timeout=5000)
        await page.evaluate("document.getElementById('recording').pause()")
        await page.screenshot(path=str(DOCS / "supervisor-quality-inspection.png"),
                              full_page=True)
        await page.fill("#rectify-form textarea", "已复训，复查合格")
        await page.click("#rectify-form button")
        await page.wait_for_url(f"{base}/inspection/calls/{row.id}?saved=1")
        assert "已复训" in await page.inner_text("#rectified")

        ledger = await page.request.get(f"{base}/ledger?month={month}")
        assert ledger.status == 200
        book = load_workbook(io.BytesIO(await ledger.body()))
        assert book.sheetnames == ["来电台账", "工单台账", "投诉登记", "质检台账", "回访",
                                  "承办单位", "考核", "值班考勤", "统计"]
        header, first = list(book["质检台账"].iter_rows(min_row=1, max_row=2,
                                                        values_only=True))
        card = dict(zip(header, first, strict=True))
        assert (card["来电 call"], card["工号 operator"], card["质检员 inspector"],
                card["得分 score"]) == (row.id, "1001", "8001", 53.3)
        assert "等着吧" in card["发现问题 findings"]
        assert card["整改要求 rectification"] == "复训服务禁语，一周后复查"
        assert card["整改落实 follow-up"] == "已复训，复查合格"

        op = await login(browser, base, "1001", PASSWORDS["1001"])
        await op.wait_for_url(f"{base}/desk")
        for path in ("/inspection/sample", f"/inspection/calls/{row.id}",
                     "/inspection/records"):
            refused = await op.goto(base + path)
            assert refused is not None and refused.status == 403, path
        audit = [(a.actor, a.action, a.target) for a in await services.users.audit_log()]
        assert ("8001", "inspect_call", str(row.id)) in audit
        assert ("8001", "play_recording", str(row.id)) in audit
        assert ("8001", "save_inspection", str(row.id)) in audit
