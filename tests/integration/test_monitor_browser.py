"""Live monitoring from the wallboard in a real browser (Chromium, fake microphone): the
supervisor's seat is the browser softphone on the wallboard; 监听 rings it, it answers by
itself, the caller's audio reaches the browser; 耳语 and 强插 switch the mode; 结束监听 ends it
and leaves no channel behind; the audit log has each step."""

from __future__ import annotations

import asyncio
from pathlib import Path

from playwright.async_api import Browser

from hotline.config import Settings, replace
from hotline.domain.seats import BROWSER_PHONE
from hotline.seats.provision import sip_digest
from hotline.store.users_repo import Role
from tests.integration.conftest import serving, wait_seat_bridged
from tests.integration.test_console_browser import browser, login  # noqa: F401 (fixture)
from tests.integration.test_monitor_real import CALLER, CALLER_QUIET_S, OPERATOR, render
from tests.integration.test_seats_real import add_seats
from tests.sipp import sipp, sipp_seat
from tests.tones import Ear

DOCS = Path(__file__).resolve().parents[2] / "docs"


async def test_a_supervisor_listens_whispers_and_barges_from_the_wallboard(
        settings: Settings, browser: Browser, tmp_path: Path) -> None:  # noqa: F811
    real = replace(settings, seat_rtp_timeout_s=180, record_calls="no")
    ears = {who: await Ear().open() for who in ("caller", "operator")}
    operator_xml = render(tmp_path, "seat_pcap.xml", "operator", OPERATOR, ears["operator"])
    caller_xml = render(tmp_path, "speak.xml", "caller", CALLER, ears["caller"],
                        after_s=CALLER_QUIET_S)
    async with sipp_seat(operator_xml, timeout_s=150) as (op_port, _):
        await add_seats(real, {"1001": (None, op_port)})
        async with serving(real) as (services, server):
            base = str(server.make_url("")).rstrip("/")
            await services.users.add("8001", Role.SUPERVISOR, "supervisor-pass-1")
            await services.operators.add("8001", "班长", sip_digest(
                "8001", real.sip_realm, "sip-secret-8001"), phone=BROWSER_PHONE)  # off duty
            await services.provisioner.push(await services.operators.get("8001"))
            sup = await login(browser, base, "8001", "supervisor-pass-1")
            await sup.goto(f"{base}/wallboard")
            await sup.wait_for_selector("#softphone[data-state=registered]", timeout=15000)
            caller = asyncio.ensure_future(sipp(real.sandbox_sip_port, scenario=caller_xml,
                                                timeout_s=150))
            seat = await wait_seat_bridged(services.rest, "PJSIP/1001-", timeout_s=40)
            [row] = [c for c in await services.calls.open_calls() if c.answered_at]
            listen = f"tr[data-call='{row.id}'] .monitor-start[data-mode=listen]"
            await sup.wait_for_selector(listen, timeout=10000)
            await sup.click(listen)
            await sup.wait_for_selector("#softphone[data-state=talking]", timeout=10000)
            await sup.wait_for_selector("#monitor[data-state=active][data-mode=listen]",
                                        timeout=10000)
            stats: dict = {}
            for _ in range(100):  # the call's audio reaches the browser
                stats = await sup.evaluate("window.hotlinePhone.audioStats()")
                if stats["bytesReceived"] > 8000:
                    break
                await asyncio.sleep(0.1)
            assert stats["bytesReceived"] > 8000 and stats["dtls"] == "connected", stats
            await sup.click("#monitor-whisper")
            await sup.wait_for_selector("#monitor[data-state=active][data-mode=whisper]",
                                        timeout=10000)
            await sup.click("#monitor-barge")
            await sup.wait_for_selector("#monitor[data-state=active][data-mode=barge]",
                                        timeout=10000)
            [bridge] = [b for b in await services.rest.list_bridges()
                        if row.channel_id in b["channels"]]
            assert len(bridge["channels"]) == 3 and seat in bridge["channels"], bridge
            await sup.screenshot(path=str(DOCS / "supervisor-monitor.png"))
            await sup.click("#monitor-stop")
            await sup.wait_for_selector("#monitor[data-state=none]", timeout=10000)
            await sup.wait_for_selector("#softphone[data-state=registered]", timeout=10000)
            left = ["?"]
            for _ in range(50):
                left = [c.id for c in await services.rest.list_channels()
                        if c.id.startswith("mon-") or c.name.startswith("PJSIP/8001-")]
                left += [str(b["id"]) for b in await services.rest.list_bridges()
                         if str(b.get("name", "")).startswith("monitor-")]
                if not left:
                    break
                await asyncio.sleep(0.1)
            assert not left, left
            assert row.channel_id in {c.id for c in await services.rest.list_channels()}, \
                "the call goes on"
            await services.rest.hangup(row.channel_id)
            result = await caller
            assert result.successful == 1, result.output[-2000:]
            audit = [(a.action, a.detail) for a in reversed(await services.users.audit_log())
                     if a.action.startswith("monitor")]
    for ear in ears.values():
        ear.close()
    assert [(a, d["mode"]) for a, d in audit] == [
        ("monitor_start", "listen"), ("monitor_mode", "whisper"), ("monitor_mode", "barge"),
        ("monitor_end", "barge")]
    assert audit[-1][1]["ended_by"] == "stop"
