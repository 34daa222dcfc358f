"""Operator seats on the real sandbox Asterisk: `hotline operators add` pushes PJSIP
endpoints through ARI, and sipp UAS processes stand in for the operators' phones."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from hotline.ari.rest import AriRest
from hotline.config import Settings, replace
from hotline.domain.seats import DutyState
from hotline.seats.provision import FINGERPRINT
from hotline.server.pbx_access import resolve_pbx
from hotline.server.root import seat_provisioner
from hotline.store.database import Database
from hotline.store.models import Call
from hotline.store.operators_repo import OperatorRepository
from tests.integration.conftest import (
    PORTS,
    TEST_HOME,
    serving,
    wait_for_records,
    wait_seat_bridged,
)
from tests.pcap_audio import speech_pcap
from tests.sipp import SCENARIOS, sipp, sipp_seat


def hotline_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(PORTS, HOTLINE_HOME=str(TEST_HOME), HOTLINE_DB_URL=settings.db_url)
    return subprocess.run([sys.executable, "-m", "hotline", *args], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


async def add_seats(settings: Settings, seats: dict[str, tuple[str | None, int]]) -> None:
    """job -> (A post, sipp port); every seat on duty, with a static contact."""
    for job, (backup_of, port) in seats.items():
        extra = ["--backup-of", backup_of] if backup_of else []
        done = hotline_cli(settings, "operators", "add", job, "--name", f"话务员{job}",
                           "--contact", f"sip:{job}@127.0.0.1:{port}", *extra)
        assert done.returncode == 0, done.stderr
        assert "password" in done.stdout and "Asterisk updated" in done.stdout, done.stdout
        on = hotline_cli(settings, "operators", "duty", job, "on")
        assert on.returncode == 0, on.stderr


async def events(settings: Settings, row: Call) -> list[tuple[str, dict]]:
    db = Database(settings.db_url)
    try:
        from hotline.store.calls_repo import CallRepository

        full = await CallRepository(db).get(row.id)
        return [(e.kind, e.data) for e in full.events]
    finally:
        await db.close()


async def test_operators_add_pushes_an_endpoint_with_a_one_time_password(
        settings: Settings, tmp_path: Path) -> None:
    done = hotline_cli(settings, "operators", "add", "1301", "--name", "张三")
    assert done.returncode == 0, done.stderr
    password = done.stdout.split("password ", 1)[1].split()[0]
    assert len(password) == 16
    listing = hotline_cli(settings, "operators", "list", "--json")
    assert password not in listing.stdout and '"duty": "off"' in listing.stdout
    done = hotline_cli(settings, "operators", "add", "1303", "--name", "王五",
                       "--phone", "browser")
    assert done.returncode == 0, done.stderr
    pbx = resolve_pbx(settings)
    async with AriRest(pbx.ari_url, pbx.ari_user, pbx.ari_password) as rest:
        endpoint = await rest.request("GET", "/asterisk/config/dynamic/res_pjsip/endpoint/1301")
        auth = await rest.request("GET", "/asterisk/config/dynamic/res_pjsip/auth/1301")
        browser = await rest.request("GET",
                                     "/asterisk/config/dynamic/res_pjsip/endpoint/1303")
    fields = {f["attribute"]: f["value"] for f in endpoint}
    assert fields["context"] == "operators" and fields["aors"] == "1301"
    assert fields["media_encryption"] == "no"
    web = {f["attribute"]: f["value"] for f in browser}  # WebRTC: DTLS-SRTP with our cert
    assert web["media_encryption"] == "dtls" and web["ice_support"] == "true"
    assert web["dtls_cert_file"] == pbx.dtls_cert and web["use_avpf"] == "true"
    auth_fields = {f["attribute"]: f["value"] for f in auth}
    assert password not in str(auth_fields) and len(auth_fields["md5_cred"]) == 32
    # pushed again (a node's seat-sync after the command's push): Asterisk already holds it,
    # so nothing is re-created under a phone that may have registered meanwhile
    db = Database(settings.effective_db_url)
    try:
        seat = await OperatorRepository(db).get("1301")
    finally:
        await db.close()
    async with AriRest(pbx.ari_url, pbx.ari_user, pbx.ari_password) as rest:
        provisioner = seat_provisioner(rest, pbx, settings)
        mark = provisioner.objects(seat)[2][FINGERPRINT]
        assert fields[FINGERPRINT] == mark, fields
        assert await provisioner.push(seat) is False
    bad = hotline_cli(settings, "operators", "add", "1302", "--name", "李四",
                      "--backup-of", "9999")
    assert bad.returncode == 2 and "no such operator" in bad.stderr


async def test_the_a_post_answers(settings: Settings) -> None:
    real = replace(settings, seat_rtp_timeout_s=120)
    async with sipp_seat("seat_answer") as (a_port, a_done), \
            sipp_seat("seat_answer") as (b_port, _):
        await add_seats(real, {"1001": (None, a_port), "1002": ("1001", b_port)})
        async with serving(real) as (services, _):
            caller = asyncio.ensure_future(sipp(real.sandbox_sip_port, hold_ms=9000,
                                                timeout_s=60))
            heard = await greeting_heard_at_seat(services.rest, "PJSIP/1001-")
            result = await caller
            assert result.successful == 1, result.output[-3000:]
            [row] = await wait_for_records(services, 1)
        a = await asyncio.wait_for(a_done, 15)
    assert a.successful == 1, a.output[-2000:]
    assert row.answered_by == "1001" and row.owner == "1001" and 1 <= row.rings <= 3
    # the operator hears the greeting said on their behalf (≈ 8 s), not silence before the
    # bridge: Asterisk sent their phone audio within 3 s of the answer, before any bridge
    assert heard["txcount"] > 50 and not heard["bridged"], heard
    legs = [d for k, d in await events(real, row) if k == "seat_leg"]
    assert [(g["job_number"], g["ended_by"], g["fault"]) for g in legs] == [
        ("1001", "caller", False)]


async def greeting_heard_at_seat(rest: AriRest, name: str) -> dict[str, int]:
    """Three seconds after the seat's channel is up: the packets Asterisk sent it, and
    whether it was in a bridge by then."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while loop.time() < deadline:
        up = [c for c in await rest.list_channels() if c.name.startswith(name)
              and c.state == "Up"]
        if up:
            await asyncio.sleep(3)
            stats = await rest.request("GET", f"/channels/{up[0].id}/rtp_statistics")
            bridges = await rest.request("GET", "/bridges")
            bridged = any(up[0].id in b.get("channels", []) for b in bridges)
            return {"txcount": int(stats["txcount"]), "bridged": int(bridged)}
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {name} channel came up")


async def test_the_b_post_answers_when_a_does_not(settings: Settings) -> None:
    real = replace(settings, seat_rtp_timeout_s=120, seat_ring_s=4.0)
    async with sipp_seat("seat_no_answer") as (a_port, a_done), \
            sipp_seat("seat_answer") as (b_port, b_done):
        await add_seats(real, {"1001": (None, a_port), "1002": ("1001", b_port)})
        async with serving(real) as (services, _):
            result = await sipp(real.sandbox_sip_port, hold_ms=12000, timeout_s=60)
            assert result.successful == 1, result.output[-3000:]
            [row] = await wait_for_records(services, 1)
        a, b = await asyncio.wait_for(asyncio.gather(a_done, b_done), 15)
    assert a.successful == 1, a.output[-2000:]  # rang, was cancelled
    assert b.successful == 1, b.output[-2000:]
    assert row.answered_at is not None
    waited = (row.answered_at - row.arrived_at).total_seconds()
    assert row.answered_by == "1002" and 4.0 <= waited <= 11.0 and 1 <= row.rings <= 3
    seat_events = [(k, d.get("job_number")) for k, d in await events(real, row)
                   if k.startswith("seat")]
    assert seat_events[:3] == [("seat_offered", "1001"), ("seat_no_answer", "1001"),
                               ("seat_offered", "1002")]


async def test_a_seat_fault_moves_the_caller_to_another_seat(settings: Settings) -> None:
    # unrecorded, so no recording notice: the caller's 25 s cover both seats' turns
    real = replace(settings, seat_rtp_timeout_s=3, seat_fault_offer_s=10.0, record_calls="no")
    async with sipp_seat("seat_silent") as (a_port, _), \
            sipp_seat("seat_answer") as (b_port, b_done):
        await add_seats(real, {"1001": (None, a_port), "1002": ("1001", b_port)})
        async with serving(real) as (services, _):
            result = await sipp(real.sandbox_sip_port, hold_ms=25000, timeout_s=60)
            assert result.successful == 1, result.output[-3000:]
            [row] = await wait_for_records(services, 1)
        b = await asyncio.wait_for(b_done, 15)
    assert b.successful == 1, b.output[-2000:]
    evs = await events(real, row)
    legs = [d for k, d in evs if k == "seat_leg"]
    said = [d["phrase"] for k, d in evs if k == "said"]
    assert [(g["job_number"], g["fault"]) for g in legs] == [("1001", True), ("1002", False)]
    assert "seat_fault_transfer" in said
    assert row.answered_by == "1001" and row.disposition == "resolved"


async def test_seats_on_break_leave_the_call_to_the_attendant(settings: Settings) -> None:
    async with sipp_seat("seat_answer") as (a_port, _):
        await add_seats(settings, {"1001": (None, a_port)})
        db = Database(settings.db_url)
        await OperatorRepository(db).set_duty("1001", DutyState.BREAK)
        await db.close()
        async with serving(settings) as (services, _):
            result = await sipp(settings.sandbox_sip_port, hold_ms=2000, timeout_s=30)
            assert result.successful == 1, result.output[-3000:]
            [row] = await wait_for_records(services, 1)
    assert row.answered_by == settings.attendant_job_number and row.rings == 1


async def test_without_speech_the_attendant_hands_the_caller_to_a_seat(
        settings: Settings, tmp_path: Path) -> None:
    """Nobody on duty, so the attendant answers; the seat comes back from its break; the
    caller speaks and, with no speech model, is handed to that seat, which answers."""
    real = replace(settings, seat_rtp_timeout_s=120)
    pcap = tmp_path / "caller.pcap"
    speech_pcap(pcap, [(10.0, "병원")], tail_s=40.0)
    scenario = tmp_path / "speak.xml"
    scenario.write_text((SCENARIOS / "speak.xml").read_text().replace("@PCAP@", str(pcap)))
    async with sipp_seat("seat_answer") as (a_port, a_done):
        await add_seats(real, {"1001": (None, a_port)})
        async with serving(real) as (services, _):
            await services.operators.set_duty("1001", DutyState.BREAK)
            caller = asyncio.ensure_future(sipp(real.sandbox_sip_port,
                                                scenario=str(scenario), timeout_s=90))
            row = None
            for _ in range(100):
                row = next((c for c in await services.calls.open_calls() if c.answered_at),
                           None)
                if row is not None:
                    break
                await asyncio.sleep(0.1)
            assert row is not None and row.answered_by == real.attendant_job_number
            await services.operators.set_duty("1001", DutyState.ON_DUTY)
            await wait_seat_bridged(services.rest, "PJSIP/1001-", timeout_s=40)
            await services.rest.hangup(row.channel_id)  # the caller is done
            result = await caller
            assert result.successful == 1, result.output[-3000:]
            [row] = await wait_for_records(services, 1)
        a = await asyncio.wait_for(a_done, 15)
    assert a.successful == 1, a.output[-2000:]
    assert row.answered_by == real.attendant_job_number and row.owner == "1001"
    evs = await events(real, row)
    assert "no_speech_model" in [d["phrase"] for k, d in evs if k == "said"]
    assert [d["job_number"] for k, d in evs if k == "seat_leg"] == ["1001"]

