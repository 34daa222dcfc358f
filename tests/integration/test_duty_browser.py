"""Duty and handover in a real browser (chromium via Playwright) on the production app: the A
post's break asks for the A/B guard's confirmation while its B post is off; the shift
handover is pre-filled with the operator's open tickets and acknowledged by the next one; the
B post works the away A post's ticket and the A post, back, is told; the supervisor sees the
appraisal."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.async_api import Browser, Page

from hotline.config import Settings
from hotline.domain.tickets import NewTicket, TicketKind
from hotline.duty.store import DutyLog
from hotline.store.users_repo import Role
from tests.integration.conftest import serving
from tests.integration.test_console_browser import browser
from tests.integration.test_console_browser import login as console_login

PASSWORDS = {"1001": "operator-pass-1", "1002": "operator-pass-2", "8001": "supervisor-pass-1"}
__all__ = ["browser"]  # the fixture


async def login(browser: Browser, base: str, user: str) -> Page:
    page = await console_login(browser, base, user, PASSWORDS[user])
    await page.wait_for_load_state()
    return page


async def test_guard_handover_stand_in_and_appraisal(settings: Settings,
                                                     browser: Browser) -> None:
    async with serving(settings, wait_for_ari=False) as (services, server):
        base = str(server.make_url("")).rstrip("/")
        for user, password in PASSWORDS.items():
            await services.users.add(user, Role.SUPERVISOR if user == "8001"
                                     else Role.OPERATOR, password)
        await services.operators.add("1001", "张三", "x")
        await services.operators.add("1002", "李四", "x", backup_of="1001")
        now = datetime.now(UTC)
        message = await services.tickets.open(NewTicket(
            TicketKind.MESSAGE, "1001", summary="王先生留言", fields={"text": "请回电"}), now)
        callback = await services.tickets.open(NewTicket(
            TicketKind.CALLBACK, "1001", summary="回电李女士"), now)

        a = await login(browser, base, "1001")
        await a.click("#duty button[value=on_duty]")
        await a.click("#duty button[value=break]")  # 1002 is off: the post would be empty
        assert "将无人值守" in await a.inner_text("#guard-warning")
        await a.fill("#guard-confirm input[name=note]", "临时外出")
        await a.click("#guard-confirm button")
        await a.wait_for_url(f"{base}/desk")
        await a.goto(f"{base}/duty")
        assert "岗位无人（已确认）" in await a.inner_text("#duty-log")
        assert "临时外出" in await a.inner_text("#duty-log")
        await a.goto(f"{base}/desk")
        await a.click("#duty button[value=on_duty]")

        # the handover, pre-filled with 1001's open tickets, for 1002
        await a.goto(f"{base}/duty")
        await a.click("#new-handover")
        messages = await a.inner_text("table[data-section=messages]")
        callbacks = await a.inner_text("table[data-section=callbacks]")
        assert str(message) in messages and "王先生留言" in messages
        assert str(callback) in callbacks and "回电李女士" in callbacks
        await a.select_option("#handover-form select[name=to]", "1002")
        await a.fill("#handover-form textarea[name=note]", "李女士下午三点后方便")
        await a.click("#handover-form button")
        await a.wait_for_url(f"{base}/duty/handover/*")
        assert "等待接班人签收" in await a.inner_text("main")

        b = await login(browser, base, "1002")
        await b.click("#duty button[value=on_duty]")
        assert "待您签收" in await b.inner_text("#handovers-waiting")
        await b.goto(f"{base}/duty")
        await b.click("#pending a")
        assert "李女士下午三点后方便" in await b.inner_text("#handover-note")
        assert "回电李女士" in await b.inner_text("table[data-section=callbacks]")
        await b.fill("#ack-form input[name=note]", "已接班")
        await b.click("#ack-form button")
        assert "1002" in await b.inner_text("#acknowledged")

        # 1001 goes off (1002 covers: no question); 1002 works 1001's callback
        await a.goto(f"{base}/desk")
        await a.click("#duty button[value=off]")
        await a.wait_for_url(f"{base}/desk")
        await b.goto(f"{base}/duty")
        assert "回电李女士" in await b.inner_text("#stand-in")
        row = b.locator(f"form[action='/duty/stand-in/{callback}']")
        await row.locator("select[name=to]").select_option("in_progress")
        await row.locator("button").click()
        await b.wait_for_url(f"{base}/duty")
        await a.click("#duty button[value=on_duty]")
        await a.wait_for_url(f"{base}/desk")
        assert "1 项" in await a.inner_text("#back-notice")
        await a.goto(f"{base}/duty")
        assert "顶岗 for 1001" in await a.inner_text("#back-notice")

        s = await login(browser, base, "8001")
        await s.goto(f"{base}/appraisal")
        table = await s.inner_text("#appraisal")
        assert "张三" in table and "李四" in table
    ticket = await services.tickets.get(callback)
    assert (ticket.events[-1].by, ticket.events[-1].to_status) == ("1002", "in_progress")
    [handover] = await DutyLog(services.db).handovers(by="1001")
    assert (handover.to, handover.acknowledged_by, handover.ack_note) == ("1002", "1002", "已接班")
    assert [t["id"] for t in handover.items["messages"]] == [message]
