"""Time to start a listen, on the sandbox Asterisk: a caller (sipp) talks to an operator (a
sipp seat) while a supervisor listens in, again and again.

- SIP phone: from the supervisor's request (POST /api/monitor, as the wallboard's button
  sends it) to the first audio packet at the supervisor's phone (a sipp seat answering at
  once) on a port of the bench's own.
- Browser: from the click on 监听 on the wallboard (Chromium, the browser softphone over
  WebRTC, DTLS-SRTP) to the first audio bytes the browser's WebRTC counts: what a
  supervisor waits for.
- Baseline: a plain originate to the SIP phone, and a sound played to it as soon as it is
  up (the floor of anything that rings the supervisor).

Prints medians and the ratios (goal: the listen ≤ 1 s from the click).

    flock -o /tmp/hotline-sandbox.lock .venv/bin/python -m bench.monitor_listen [--runs 7]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import uuid
from pathlib import Path

import aiohttp
from playwright.async_api import async_playwright

from hotline.ari.rest import AriRest
from hotline.config import Settings, replace
from hotline.domain.seats import BROWSER_PHONE
from hotline.prompts.library import PromptLibrary
from hotline.sandbox.instance import Sandbox
from hotline.seats.provision import sip_digest
from hotline.server.pbx_access import resolve_pbx
from hotline.server.services import Services
from hotline.store.users_repo import Role
from tests.integration.conftest import integration_settings, serving, wait_seat_bridged
from tests.integration.test_console_browser import CHROMIUM_ARGS
from tests.integration.test_console_browser import login as browser_login
from tests.integration.test_monitor_browser import click_to_audio_ms
from tests.integration.test_monitor_real import CALLER, OPERATOR, SUPERVISOR, login, render
from tests.integration.test_seats_real import add_seats, hotline_cli
from tests.sipp import sipp, sipp_seat
from tests.tones import Ear


async def first_packet(ear: Ear, since: float, timeout_s: float = 10.0) -> float:
    loop = asyncio.get_running_loop()
    while (at := ear.first_after(since)) is None:
        if loop.time() - since > timeout_s:
            raise SystemExit(f"no audio reached the supervisor's phone in {timeout_s} s")
        await asyncio.sleep(0.002)
    return (at - since) * 1000


async def gone(rest: AriRest, prefix: str) -> None:
    for _ in range(200):
        if not [c for c in await rest.list_channels() if c.name.startswith(prefix)]:
            return
        await asyncio.sleep(0.05)
    raise SystemExit(f"{prefix} still up")


async def listen_once(http: aiohttp.ClientSession, base: str, csrf: str, call_id: int,
                      ear: Ear, rest: AriRest) -> float:
    loop = asyncio.get_running_loop()
    since = loop.time()
    async with http.post(f"{base}/api/monitor", data={"call": call_id, "mode": "listen"},
                         headers={"X-CSRF-Token": csrf}) as r:
        if r.status != 200:
            raise SystemExit(f"POST /api/monitor: {r.status} {await r.text()}")
        session = (await r.json())["id"]
    ms = await first_packet(ear, since)
    async with http.post(f"{base}/api/monitor/{session}/stop",
                         headers={"X-CSRF-Token": csrf}) as r:
        assert r.status == 200
    await gone(rest, "PJSIP/8001-")
    return ms


async def originate_once(rest: AriRest, app: str, ear: Ear, sound: str) -> float:
    loop = asyncio.get_running_loop()
    since = loop.time()
    leg = f"bench-{uuid.uuid4().hex[:8]}"
    await rest.originate("PJSIP/8001", app, app_args="bench", channel_id=leg, timeout_s=10)
    while (await rest.get_channel(leg)).state != "Up":  # noqa: ASYNC110 (polling Asterisk)
        await asyncio.sleep(0.005)
    await rest.play(leg, sound)
    ms = await first_packet(ear, since)
    await rest.hangup(leg)
    await gone(rest, "PJSIP/8001-")
    return ms


async def browser_listens(services: Services, settings: Settings, base: str, call_id: int,
                          rest: AriRest, runs: int) -> list[float]:
    """``runs`` listens from the wallboard of a supervisor whose seat is the browser."""
    await services.users.add("8002", Role.SUPERVISOR, "supervisor-pass-2")
    await services.operators.add("8002", "值班长", sip_digest(
        "8002", settings.sip_realm, "sip-secret-8002"), phone=BROWSER_PHONE)
    await services.provisioner.push(await services.operators.get("8002"))
    out = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium",
                                           args=CHROMIUM_ARGS)
        try:
            page = await browser_login(browser, base, "8002", "supervisor-pass-2")
            await page.goto(f"{base}/wallboard")
            await page.wait_for_selector("#softphone[data-state=registered]", timeout=15000)
            listen = f"tr[data-call='{call_id}'] .monitor-start[data-mode=listen]"
            for _ in range(runs):
                await page.wait_for_selector(listen, timeout=10000)
                out.append(await click_to_audio_ms(page, listen))
                await page.wait_for_selector("#monitor[data-state=active]", timeout=10000)
                await page.click("#monitor-stop")
                await page.wait_for_selector("#monitor[data-state=none]", timeout=10000)
                await page.wait_for_selector("#softphone[data-state=registered]",
                                             timeout=10000)
                await gone(rest, "PJSIP/8002-")
        finally:
            await browser.close()
    return out


def line(name: str, ms: list[float]) -> str:
    return (f"{name:<44} n={len(ms):>2}  median {statistics.median(ms):7.1f} ms  "
            f"min {min(ms):7.1f}  max {max(ms):7.1f} ms")


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        settings = replace(integration_settings(), seat_rtp_timeout_s=300, record_calls="no",
                           db_url=f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
                           journal=str(tmp / "journal.jsonl"))
        await Sandbox(settings).up()
        ears = {who: await Ear().open() for who in ("caller", "operator", "supervisor")}
        operator_xml = render(tmp, "seat_pcap.xml", "operator", OPERATOR, ears["operator"])
        supervisor_xml = render(tmp, "seat_pcap.xml", "supervisor", SUPERVISOR,
                                ears["supervisor"], ring_ms=50)
        caller_xml = render(tmp, "speak.xml", "caller", CALLER, ears["caller"], after_s=14)
        async with sipp_seat(operator_xml, timeout_s=300) as (op_port, _), \
                sipp_seat(supervisor_xml, calls=2 * runs, timeout_s=300) as (sup_port, _):
            await add_seats(settings, {"1001": (None, op_port)})
            done = hotline_cli(settings, "operators", "add", "8001", "--name", "班长",
                               "--contact", f"sip:8001@127.0.0.1:{sup_port}")
            assert done.returncode == 0, done.stderr
            async with serving(settings) as (services, server):
                await services.users.add("8001", Role.SUPERVISOR, "supervisor-pass-1")
                base = str(server.make_url("")).rstrip("/")
                caller = asyncio.ensure_future(sipp(settings.sandbox_sip_port,
                                                    scenario=caller_xml, timeout_s=300))
                await wait_seat_bridged(services.rest, "PJSIP/1001-", timeout_s=40)
                [row] = [c for c in await services.calls.open_calls() if c.answered_at]
                listens, plain = [], []
                tone = await PromptLibrary.from_settings(  # the hotline's own 提示音
                    settings, resolve_pbx(settings).prompts).tone()
                async with aiohttp.ClientSession(
                        cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                    csrf = await login(http, base, "8001", "supervisor-pass-1")
                    for _ in range(runs):
                        plain.append(await originate_once(services.rest, settings.ari_app,
                                                          ears["supervisor"], tone))
                        listens.append(await listen_once(http, base, csrf, row.id,
                                                         ears["supervisor"], services.rest))
                clicks = await browser_listens(services, settings, base, row.id,
                                               services.rest, runs)
                await services.rest.hangup(row.channel_id)
                await caller
        for ear in ears.values():
            ear.close()
    print(line("baseline: originate + sound, to first packet", plain))
    print(line("listen, SIP phone: POST to first packet", listens))
    print(line("listen, browser: click to first audio", clicks))
    ratio = statistics.median(listens) / statistics.median(plain)
    browser = statistics.median(clicks) / statistics.median(plain)
    print(f"ratio of medians to the baseline: SIP phone {ratio:.2f}, browser {browser:.2f}; "
          f"browser median {statistics.median(clicks) / 1000:.2f} s (goal <= 1 s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    asyncio.run(main(parser.parse_args().runs))
