"""Live monitoring from the wallboard in a real browser (Chromium): the supervisor's seat is
the browser softphone on the wallboard, whose microphone is a file of the supervisor's own
tone (1800 Hz); 监听 rings it, it answers by itself. Each party's audio is told apart by its
tone, as in test_monitor_real: in the browser by WebAudio's analyser on the softphone's
remote stream, at the caller's and operator's phones by the RTP their Ears count. Listen:
the browser hears the caller and the operator, and neither hears the supervisor; whisper:
the operator hears the supervisor, the caller does not; barge: three-way. 结束监听 ends it and
leaves no channel behind; the audit log has each step. The time from the click to the
first audio at the browser is printed (bench/monitor_listen measures it repeatedly)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from hotline.config import Settings, replace
from hotline.domain.seats import BROWSER_PHONE
from hotline.seats.provision import sip_digest
from hotline.store.users_repo import Role
from tests.integration.conftest import serving, wait_seat_bridged
from tests.integration.test_console_browser import CHROMIUM_ARGS, login
from tests.integration.test_monitor_real import (
    CALLER,
    CALLER_QUIET_S,
    HEARD,
    OPERATOR,
    SILENT,
    SUPERVISOR,
    phase,
    render,
)
from tests.integration.test_seats_real import add_seats
from tests.sipp import sipp, sipp_seat
from tests.tones import Ear, tone_wav

DOCS = Path(__file__).resolve().parents[2] / "docs"
# The browser's voice processing (noise suppression, gain control) takes a steady tone down
# by about 20 dB: the microphone's tone arrives at ≈ 1000 where a sipp phone's is ≈ 10 000.
# A tone nobody sent reads ≈ 2; SILENT (200) stays the bound for "not heard".
BROWSER_HEARD = 300.0
# The softphone's remote stream through WebAudio's analyser: the level (dB) of each tone.
TONES_JS = """async (freqs) => {
  const el = document.querySelector('#softphone audio');
  if (!window.__tones) {
    const ctx = new AudioContext();
    await ctx.resume();
    const an = ctx.createAnalyser();
    an.fftSize = 8192;
    an.smoothingTimeConstant = 0.5;
    ctx.createMediaStreamSource(el.srcObject).connect(an);
    window.__tones = { ctx, an };
  }
  const { ctx, an } = window.__tones;
  const data = new Float32Array(an.frequencyBinCount);
  an.getFloatFrequencyData(data);
  const hz = ctx.sampleRate / an.fftSize;
  return Object.fromEntries(freqs.map((f) => {
    let best = -Infinity;
    for (let b = Math.floor((f - 15) / hz); b <= Math.ceil((f + 15) / hz); b++)
      best = Math.max(best, data[b]);
    return [f, best];
  }));
}"""


async def browser_hears(page: Page, seconds: float = 2.5) -> dict[int, float]:
    """The loudest each tone was at the supervisor's browser over the next ``seconds``."""
    loudest = {CALLER: -200.0, OPERATOR: -200.0, SUPERVISOR: -200.0}
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    while loop.time() < until:
        now = await page.evaluate(TONES_JS, list(loudest))
        loudest = {f: max(loudest[f], float(now[str(f)])) for f in loudest}
        await asyncio.sleep(0.1)
    return loudest


async def click_to_audio_ms(page: Page, selector: str) -> float:
    """From the click to the first audio bytes the browser's WebRTC counts."""
    loop = asyncio.get_running_loop()
    before = (await page.evaluate("window.hotlinePhone.audioStats()"))["bytesReceived"]
    since = loop.time()
    await page.click(selector)
    while loop.time() - since < 10:
        stats = await page.evaluate("window.hotlinePhone.audioStats()")
        if stats["bytesReceived"] > before:
            return (loop.time() - since) * 1000
        await asyncio.sleep(0.005)
    raise AssertionError("no audio reached the browser within 10 s of the click")


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    """Chromium whose fake microphone says the supervisor's tone."""
    mic = tmp_path / "supervisor.wav"
    tone_wav(mic, SUPERVISOR, 200)
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
            *CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={mic}",
            "--autoplay-policy=no-user-gesture-required"])
        try:
            yield b
        finally:
            await b.close()


async def test_a_supervisor_listens_whispers_and_barges_from_the_wallboard(
        settings: Settings, browser: Browser, tmp_path: Path) -> None:
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
            loop = asyncio.get_running_loop()
            dialled = loop.time()
            caller = asyncio.ensure_future(sipp(real.sandbox_sip_port, scenario=caller_xml,
                                                timeout_s=150))
            seat = await wait_seat_bridged(services.rest, "PJSIP/1001-", timeout_s=40)
            [row] = [c for c in await services.calls.open_calls() if c.answered_at]
            listen = f"tr[data-call='{row.id}'] .monitor-start[data-mode=listen]"
            await sup.wait_for_selector(listen, timeout=10000)
            # the caller speaks once the greeting is over; the supervisor then listens in
            await asyncio.sleep(max(0.0, dialled + CALLER_QUIET_S + 1 - loop.time()))
            to_audio_ms = await click_to_audio_ms(sup, listen)
            print(f"listen: {to_audio_ms:.0f} ms from the click to audio at the browser "
                  "(goal <= 1000 ms)")
            await sup.wait_for_selector("#softphone[data-state=talking]", timeout=10000)
            await sup.wait_for_selector("#monitor[data-state=active][data-mode=listen]",
                                        timeout=10000)
            stats = await sup.evaluate("window.hotlinePhone.audioStats()")
            assert stats["dtls"] == "connected", stats
            await asyncio.sleep(1.0)  # the microphone's tone under way (WebRTC's own start)
            heard = await asyncio.gather(browser_hears(sup), phase(ears))
            listening = {"supervisor": heard[0], **heard[1]}
            await sup.click("#monitor-whisper")
            await sup.wait_for_selector("#monitor[data-state=active][data-mode=whisper]",
                                        timeout=10000)
            whispering = await phase(ears)
            await sup.click("#monitor-barge")
            await sup.wait_for_selector("#monitor[data-state=active][data-mode=barge]",
                                        timeout=10000)
            barging = await phase(ears)
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
    # listen: the browser hears both sides (WebAudio dB: a tone ≈ -30, silence below -90);
    # neither side hears the supervisor's microphone, and the call itself goes on
    sup_heard = listening["supervisor"]
    assert sup_heard[CALLER] > -60 and sup_heard[OPERATOR] > -60, listening
    assert listening["caller"][SUPERVISOR] < SILENT, listening
    assert listening["operator"][SUPERVISOR] < SILENT, listening
    assert listening["caller"][OPERATOR] > HEARD, listening
    # whisper: the operator hears the supervisor, the caller does not
    assert whispering["operator"][SUPERVISOR] > BROWSER_HEARD, whispering
    assert whispering["caller"][SUPERVISOR] < SILENT, whispering
    # barge: the caller hears the supervisor too
    assert barging["caller"][SUPERVISOR] > BROWSER_HEARD, barging
    assert barging["operator"][SUPERVISOR] > BROWSER_HEARD, barging
