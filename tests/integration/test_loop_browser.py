"""The whole loop in a real browser (Debian's chromium driven by Playwright) on the
production app: the operator dispatches a complaint (the catalogue's suggestion chosen);
the unit user signs, asks for an extension, the supervisor approves, the unit replies; the
owner's follow-up is 不满意, the supervisor sends it back, the unit replies again, the
follow-up is 满意 and the ticket closes. Each step is checked on the ticket's history."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.async_api import Browser, Page

from hotline.config import Settings
from hotline.domain.loop.catalogue import Rule
from hotline.domain.tickets import NewTicket, TicketKind
from hotline.store.users_repo import Role
from tests.integration.conftest import serving
from tests.integration.test_console_browser import browser, login

__all__ = ["browser"]  # the fixture
UNIT = "重庆市万州区自来水有限公司"
USERS = {"1001": (Role.OPERATOR, "operator-pass-1"), "8001": (Role.SUPERVISOR,
                                                             "supervisor-pass-1"),
         "w1": (Role.UNIT, "unit-pass-123")}


async def act(page: Page, form: str, fields: dict[str, str] | None = None,
              button: str = "button") -> None:
    """Fill a form of the ticket page (#form-ACTION) and send it; back on the ticket."""
    for selector, value in (fields or {}).items():
        target = f"#form-{form} {selector}"
        if selector.startswith("select"):
            await page.select_option(target, value)
        elif "checkbox" in selector:
            await page.check(target)
        else:
            await page.fill(target, value)
    async with page.expect_navigation():
        await page.click(f"#form-{form} {button}")
    assert "/tickets/" in page.url, await page.content()


async def history(page: Page) -> list[tuple[str, str]]:
    rows = await page.query_selector_all("#history tr.event")
    out = []
    for r in rows:
        cells = await r.query_selector_all("td")
        out.append((await cells[2].inner_text(), await cells[1].inner_text()))
    return out


async def test_the_whole_loop_in_the_browser(settings: Settings, browser: Browser) -> None:
    async with serving(settings) as (services, server):
        base = str(server.make_url("")).rstrip("/")
        now = datetime.now(UTC)
        await services.loop.add_unit(UNIT, now)
        for user, (role, password) in USERS.items():
            await services.users.add(user, role, password, UNIT if role is Role.UNIT else "")
        await services.loop.replace_catalogue([Rule("供水", ("停水", "水压"), UNIT)])
        tid = await services.tickets.open(NewTicket(
            TicketKind.COMPLAINT, "1001", summary="小区停水三天无人处理", fields={
                "complainant_name": "王先生", "complainant_phone": "13800000001",
                "respondent_unit": UNIT, "request": "停水三天，水压低"}), now)
        ticket = f"{base}/tickets/{tid}"
        op = await login(browser, base, "1001", USERS["1001"][1])
        unit = await login(browser, base, "w1", USERS["w1"][1])
        sup = await login(browser, base, "8001", USERS["8001"][1])
        steps: list[tuple[str, str]] = [("created", "1001")]

        async def check(page: Page, stage: str, *new: tuple[str, str]) -> None:
            steps.extend(new)
            await page.goto(ticket)
            assert await page.inner_text("#stage") == stage
            assert await history(page) == steps

        await op.goto(ticket)
        assert UNIT in await op.inner_text("#suggestion")
        await act(op, "dispatch", {"select[name=matter]": "complaint",
                                   "input[name=instructions]": "请三日内处理"})
        await check(op, "待签收", ("dispatched", "1001"))
        assert await op.inner_text("#unit") == UNIT

        await unit.goto(f"{base}/unit")
        async with unit.expect_navigation():
            await unit.click(f"#to-sign a[href='/tickets/{tid}']")
        await act(unit, "sign")
        await check(unit, "办理中", ("signed", "w1"))
        await act(unit, "extend-request", {"input[name=days]": "3",
                                           "input[name=reason]": "需更换主管道"})
        await check(unit, "办理中", ("extension_requested", "w1"))

        await sup.goto(ticket)
        due_before = await sup.inner_text("#due")
        await act(sup, "extend-decide", {"input[type=checkbox]": "yes"},
                  "button[value=approve]")
        await check(sup, "办理中", ("extension_approved", "8001"))
        assert await sup.inner_text("#due") != due_before

        await act(unit, "reply", {"textarea[name=text]": "已抢修恢复供水"})
        await check(unit, "待回访", ("replied", "w1"))

        await op.goto(f"{base}/tickets")
        assert f"/tickets/{tid}" in await op.inner_html("#follow-ups")
        await op.goto(ticket)
        await act(op, "follow-up", {"select[name=method]": "电话",
                                    "select[name=grade]": "不满意",
                                    "input[name=opinion]": "水压仍然很低"})
        await check(op, "回访不满意", ("follow_up", "1001"))

        await sup.goto(ticket)
        await act(sup, "send-back", {"input[name=reason]": "水压问题未解决，重办"})
        await check(sup, "办理中", ("sent_back", "8001"))

        await unit.goto(ticket)
        await act(unit, "reply", {"textarea[name=text]": "已加装加压泵，水压正常"})
        await check(unit, "待回访", ("replied", "w1"))

        await op.goto(ticket)
        await act(op, "follow-up", {"select[name=method]": "电话",
                                    "select[name=grade]": "满意",
                                    "input[name=opinion]": "问题解决了"})
        await check(op, "已办结", ("follow_up", "1001"))

        t = await services.tickets.get(tid)
        assert (t.status, t.satisfaction, t.extensions) == ("closed", 4, 1)
        assert t.closed_at is not None
