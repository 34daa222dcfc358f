"""Live monitoring on the real sandbox Asterisk: a caller (sipp) talks to an operator (a sipp
UAS seat); a supervisor's seat (another sipp UAS) listens, whispers and barges through the
console's API. Each party speaks a tone of its own (caller 440 Hz, operator 1100 Hz,
supervisor 1800 Hz); each phone's SDP names a receiving port of the test's own (an Ear),
so every RTP packet Asterisk sends a party is counted there, and the tones in it say whose
audio reached whom. The audit log has every step; no channel is left after the hang-up."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp

from hotline.config import Settings, replace
from hotline.store.users_repo import Role
from tests.integration.conftest import serving, wait_seat_bridged
from tests.integration.test_seats_real import add_seats, hotline_cli
from tests.sipp import SCENARIOS, sipp, sipp_seat
from tests.tones import Ear, tone_pcap

CALLER, OPERATOR, SUPERVISOR = 440, 1100, 1800
HEARD, SILENT = 1000.0, 200.0  # a tone at -10 dBFS is ≈ 10 000; one absent, ≈ 0
CALLER_QUIET_S = 14.0


def render(tmp: Path, template: str, name: str, freq: int, ear: Ear, ring_ms: int = 300,
           after_s: float = 0.0) -> str:
    """The phone's scenario: it says ``freq`` and hears on ``ear``'s port."""
    pcap = tmp / f"{name}.pcap"
    tone_pcap(pcap, freq, 120, after_s=after_s)
    text = (SCENARIOS / template).read_text()
    assert "m=audio [media_port]" in text
    out = tmp / f"{name}.xml"
    out.write_text(text.replace("@PCAP@", str(pcap)).replace("@RING_MS@", str(ring_ms))
                   .replace("m=audio [media_port]", f"m=audio {ear.port}"))
    return str(out)


async def phase(ears: dict[str, Ear], seconds: float = 2.5) -> dict[str, dict[int, float]]:
    """What each party hears over the next ``seconds``."""
    loop = asyncio.get_running_loop()
    since = loop.time()
    await asyncio.sleep(seconds)
    until = loop.time()
    return {who: {**ear.heard(since, until, CALLER, OPERATOR, SUPERVISOR),
                  0: float(ear.count(since, until))} for who, ear in ears.items()}


async def login(http: aiohttp.ClientSession, base: str, user: str, password: str) -> str:
    async with http.get(f"{base}/login") as r:
        token = re.search(r'name="csrf" value="([^"]+)"', await r.text())
    assert token is not None
    async with http.post(f"{base}/login", data={"operator_id": user, "password": password,
                                                "csrf": token.group(1)}) as r:
        assert r.status == 200, r.status
    async with http.get(f"{base}/wallboard") as r:
        page = await r.text()
    csrf = re.search(r'data-csrf="([^"]+)"', page)
    assert csrf is not None, page[:500]
    return csrf.group(1)


async def wait_state(http: aiohttp.ClientSession, base: str, session_id: str, mode: str,
                     timeout_s: float = 10) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        async with http.get(f"{base}/api/monitor") as r:
            mine = [s for s in (await r.json())["sessions"] if s["id"] == session_id]
        if mine and mine[0]["state"] == "active" and mine[0]["mode"] == mode:
            return
        assert mine and mine[0]["state"] != "ended", mine
        await asyncio.sleep(0.1)
    raise AssertionError(f"not {mode} within {timeout_s} s")


async def test_listen_whisper_barge_on_a_real_call(settings: Settings, tmp_path: Path) -> None:
    real = replace(settings, seat_rtp_timeout_s=180, record_calls="no")
    ears = {who: await Ear().open() for who in ("caller", "operator", "supervisor")}
    operator_xml = render(tmp_path, "seat_pcap.xml", "operator", OPERATOR, ears["operator"])
    supervisor_xml = render(tmp_path, "seat_pcap.xml", "supervisor", SUPERVISOR,
                            ears["supervisor"], ring_ms=100)
    # the caller keeps quiet through the greeting (talking over it would cut it short)
    caller_xml = render(tmp_path, "speak.xml", "caller", CALLER, ears["caller"],
                        after_s=CALLER_QUIET_S)
    async with sipp_seat(operator_xml, timeout_s=150) as (op_port, op_done), \
            sipp_seat(supervisor_xml, timeout_s=150) as (sup_port, sup_done):
        await add_seats(real, {"1001": (None, op_port)})
        done = hotline_cli(real, "operators", "add", "8001", "--name", "班长",
                           "--contact", f"sip:8001@127.0.0.1:{sup_port}")  # off duty
        assert done.returncode == 0, done.stderr
        async with serving(real) as (services, server):
            await services.users.add("8001", Role.SUPERVISOR, "supervisor-pass-1")
            await services.users.add("1001", Role.OPERATOR, "operator-pass-1")
            rest = services.rest
            base = str(server.make_url("")).rstrip("/")
            loop = asyncio.get_running_loop()
            dialled = loop.time()
            caller = asyncio.ensure_future(sipp(real.sandbox_sip_port, scenario=caller_xml,
                                                timeout_s=150))
            seat = await wait_seat_bridged(rest, "PJSIP/1001-", timeout_s=40)
            await asyncio.sleep(max(0.0, dialled + CALLER_QUIET_S + 1 - loop.time()))
            [row] = [c for c in await services.calls.open_calls() if c.answered_at]
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(cookie_jar=jar) as http, \
                    aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as op:
                op_csrf = await _operator_csrf(op, base)
                async with op.post(f"{base}/api/monitor", headers={"X-CSRF-Token": op_csrf},
                                   data={"call": row.id, "mode": "listen"}) as r:
                    assert r.status == 403, "operators cannot monitor"
                csrf = await login(http, base, "8001", "supervisor-pass-1")
                post = {"headers": {"X-CSRF-Token": csrf}}
                async with http.post(f"{base}/api/monitor", data={"call": row.id,
                                                                  "mode": "listen"},
                                     **post) as r:
                    assert r.status == 200, await r.text()
                    session_id = (await r.json())["id"]
                await wait_state(http, base, session_id, "listen")
                sup = next(c.id for c in await rest.list_channels()
                           if c.name.startswith("PJSIP/8001-"))
                listen = await phase(ears)
                async with http.post(f"{base}/api/monitor/{session_id}/mode",
                                     data={"mode": "whisper"}, **post) as r:
                    assert r.status == 200, await r.text()
                await wait_state(http, base, session_id, "whisper")
                whisper = await phase(ears)
                async with http.post(f"{base}/api/monitor/{session_id}/mode",
                                     data={"mode": "barge"}, **post) as r:
                    assert r.status == 200, await r.text()
                await wait_state(http, base, session_id, "barge")
                bridges = await rest.list_bridges()
                barge = await phase(ears)
            await rest.hangup(row.channel_id)  # the caller hangs up
            result = await caller
            assert result.successful == 1, result.output[-2000:]
            for _ in range(100):  # the session's channels, then its bridge, released
                left = [c.id for c in await rest.list_channels()
                        if c.id.startswith("mon-") or c.name.startswith("PJSIP/8001-")]
                left += [str(b["id"]) for b in await rest.list_bridges()
                         if str(b.get("name", "")).startswith("monitor-")]
                if not left:
                    break
                await asyncio.sleep(0.1)
            assert not left, f"left behind: {left}"
            audit: list = []
            for _ in range(50):  # the end is audited once all is released
                audit = [(a.action, a.target, a.detail) for a in reversed(
                    await services.users.audit_log()) if a.action.startswith("monitor")]
                if audit and audit[-1][0] == "monitor_end":
                    break
                await asyncio.sleep(0.1)
        await asyncio.wait_for(asyncio.gather(op_done, sup_done), 20)
    for ear in ears.values():
        ear.close()
    # listen: the supervisor hears both sides (RTP to their phone); nobody hears them
    assert listen["supervisor"][0] > 80, listen  # 2.5 s of 20 ms packets: ≈ 125
    assert listen["supervisor"][CALLER] > HEARD and listen["supervisor"][OPERATOR] > HEARD, \
        listen
    assert listen["caller"][SUPERVISOR] < SILENT and listen["operator"][SUPERVISOR] < SILENT, \
        listen
    assert listen["caller"][OPERATOR] > HEARD, f"the call itself goes on: {listen}"
    # whisper: the operator hears the supervisor, the caller does not
    assert whisper["operator"][SUPERVISOR] > HEARD and whisper["caller"][SUPERVISOR] < SILENT, \
        whisper
    assert whisper["supervisor"][CALLER] > HEARD, whisper
    # barge: three-way
    [call_bridge] = [b for b in bridges if row.channel_id in b["channels"]]
    assert sorted(call_bridge["channels"]) == sorted([row.channel_id, seat, sup])
    assert barge["caller"][SUPERVISOR] > HEARD and barge["operator"][SUPERVISOR] > HEARD, barge
    assert barge["supervisor"][CALLER] > HEARD and barge["supervisor"][OPERATOR] > HEARD, barge
    target = str(row.id)
    assert [(a, t) for a, t, _ in audit] == [("monitor_start", target), ("monitor_mode", target),
                                             ("monitor_mode", target), ("monitor_end", target)]
    assert [d["mode"] for _, _, d in audit] == ["listen", "whisper", "barge", "barge"]
    assert audit[-1][2]["ended_by"] in ("caller", "operator")


async def _operator_csrf(http: aiohttp.ClientSession, base: str) -> str:
    """An operator logged in (their desk carries the CSRF token)."""
    async with http.get(f"{base}/login") as r:
        token = re.search(r'name="csrf" value="([^"]+)"', await r.text())
    assert token is not None
    async with http.post(f"{base}/login", data={"operator_id": "1001",
                                                "password": "operator-pass-1",
                                                "csrf": token.group(1)}) as r:
        assert r.status == 200
    async with http.get(f"{base}/desk") as r:
        csrf = re.search(r'data-csrf="([^"]+)"', await r.text())
    assert csrf is not None
    return csrf.group(1)
