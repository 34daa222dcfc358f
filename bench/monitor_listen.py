"""Time to start a listen, from the supervisor's request (POST /api/monitor, as the wallboard's
button sends it) to the first audio packet at the supervisor's phone, on the sandbox
Asterisk: a caller (sipp) talks to an operator (a sipp seat); the supervisor's phone (a
sipp seat answering at once, as the browser softphone does) hears on a port of the bench's
own. Baseline: a plain originate to the same phone, and a sound played to it as soon as it
is up (the floor of anything that rings the supervisor). Prints medians and the ratio
(goal: the listen ≤ 1 s).

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

from hotline.ari.rest import AriRest
from hotline.config import replace
from hotline.prompts.library import PromptLibrary
from hotline.sandbox.instance import Sandbox
from hotline.server.pbx_access import resolve_pbx
from hotline.store.users_repo import Role
from tests.integration.conftest import integration_settings, serving, wait_seat_bridged
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
                await services.rest.hangup(row.channel_id)
                await caller
        for ear in ears.values():
            ear.close()
    print(line("baseline: originate + sound, to first packet", plain))
    print(line("listen: POST /api/monitor to first packet", listens))
    ratio = statistics.median(listens) / statistics.median(plain)
    print(f"ratio of medians (listen / baseline): {ratio:.2f}; "
          f"listen median {statistics.median(listens) / 1000:.2f} s (goal <= 1 s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    asyncio.run(main(parser.parse_args().runs))
