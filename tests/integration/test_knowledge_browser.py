"""The knowledge base in a real browser (Debian's chromium via Playwright) against the
production app: the caller's words on the desk bring up the item, the operator opens it and
marks it 已一次性告知 (on the call's record); a supervisor sees an item past its review date
flagged and edits it (a new version, the old kept, audited)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.async_api import Browser

from hotline.config import Settings
from hotline.domain.calls import NewCall
from hotline.knowledge.items import parse_item
from hotline.knowledge.service import TOLD
from hotline.live.hub import Happening
from hotline.store.users_repo import Role
from tests.integration.conftest import serving
from tests.integration.test_console_browser import DOCS, browser, login  # noqa: F401
from tests.knowledge_fixture import raw_items

PASSWORDS = {"8001": "supervisor-pass-1", "1001": "operator-pass-1"}


async def test_desk_suggests_opens_and_marks_told_and_a_keeper_edits(
        settings: Settings, browser: Browser) -> None:  # noqa: F811
    async with serving(settings, wait_for_ari=False) as (services, server):
        base = str(server.make_url("")).rstrip("/")
        await services.users.add("8001", Role.SUPERVISOR, PASSWORDS["8001"])
        await services.users.add("1001", Role.OPERATOR, PASSWORDS["1001"])
        items = [parse_item(raw, "t")[0] for raw in raw_items()]
        await services.knowledge.store.save([i for i in items if i is not None], "test",
                                            "fixture", datetime.now(UTC))
        now = datetime.now(UTC)
        call = await services.calls.open_call(NewCall("kb-browser-1", "13900000001", "12345",
                                                      now - timedelta(seconds=30)))
        await services.calls.update_call(call, answered_by="1001", answered_at=now,
                                         state="talking")

        desk = await login(browser, base, "1001", PASSWORDS["1001"])
        await desk.wait_for_selector("#desk[data-live=open]", timeout=10000)
        services.hub.publish(Happening(call, "seat_offered", {"job_number": "1001"}))
        await desk.wait_for_selector("#popup:not([hidden])", timeout=5000)
        services.hub.publish(Happening(call, "transcript", {
            "speaker": "caller", "text": "喂你好 我是外地来万州打工的 想办个居住正 要带什么"}))
        await desk.wait_for_selector("#knowledge-suggestions tr", timeout=10000)
        first = desk.locator("#knowledge-suggestions tr").first
        assert "居住证办理" in await first.inner_text()
        await first.locator("button.knowledge-open").click()
        await desk.wait_for_selector("#knowledge-item:not([hidden])", timeout=5000)
        shown = await desk.inner_text("#knowledge-fields")
        assert "房屋租赁合同" in shown and "居住证暂行条例" in shown and "15日" in shown
        await desk.screenshot(path=str(DOCS / "operator-knowledge.png"), full_page=True)
        await desk.click("#knowledge-told")
        await desk.wait_for_selector("#knowledge-status:has-text('已一次性告知')", timeout=5000)
        record = await services.calls.get(call)
        told = [e.data for e in record.events if e.kind == TOLD]
        assert told == [{"by": "1001", "items": [
            {"id": "ga-juzhuzheng", "title": "居住证办理", "version": 1}]}]

        keeper = await login(browser, base, "8001", PASSWORDS["8001"])
        await keeper.goto(f"{base}/knowledge")
        assert "已过复核日期" in await keeper.inner_text("#overdue-count")
        await keeper.goto(f"{base}/knowledge/ga-siwang-zhuxiao")
        assert "已过复核日期" in await keeper.inner_text("#item-overdue")
        await keeper.fill("#item-form textarea[name=time_limit]", "")
        await keeper.click("#item-form button")
        assert "field time_limit (时限): required" in await keeper.inner_text("#form-problems")
        await keeper.goto(f"{base}/knowledge/ga-siwang-zhuxiao")
        await keeper.fill("#item-form textarea[name=time_limit]", "当场办结；网上申报1个工作日")
        await keeper.fill("#item-form input[name=review]", "2027-12-31")
        await keeper.click("#item-form button")
        await keeper.wait_for_selector("#item-versions")
        assert "v2" in await keeper.inner_text("#item-title")
        assert await keeper.locator("#item-overdue").count() == 0
        versions = await keeper.inner_text("#item-versions")
        assert "8001" in versions and "console" in versions and "v1" in versions
        await keeper.screenshot(path=str(DOCS / "supervisor-knowledge-item.png"), full_page=True)
        saved = [a for a in await services.users.audit_log() if a.action == "knowledge_saved"]
        assert [(a.actor, a.target) for a in saved] == [("8001", "ga-siwang-zhuxiao")]
