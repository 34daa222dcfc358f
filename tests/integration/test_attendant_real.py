"""The attendant through the real sandbox Asterisk with sipp callers: the after-hours
callback (the caller's words recorded by Asterisk, a ticket, its number said) and a transfer
to a unit the caller accepts (a sipp UAS stands in for the department)."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from hotline.attendant.words import spoken_time
from hotline.calls.flow import CallFlow
from hotline.config import Settings, replace
from hotline.directory.index import DirectoryIndex
from hotline.directory.records import parse_csv
from hotline.directory.service import DirectoryService
from hotline.domain.tickets import TicketKind
from hotline.paths import cache_dir
from hotline.prompts.library import PromptLibrary
from hotline.sandbox.instance import DEPT_PORT
from hotline.server.pbx_access import resolve_pbx
from hotline.speech.whisper_model import install_base
from hotline.store.users_repo import Role
from tests.harness import SAMPLE
from tests.integration.conftest import serving, wait_for_records, wait_seat_bridged
from tests.integration.test_seats_real import events
from tests.integration.test_security_matrix import login
from tests.pcap_audio import silence as quiet
from tests.pcap_audio import speak_alaw, write_pcap
from tests.scripted import ScriptedRecognizer
from tests.sipp import SCENARIOS, sipp, sipp_seat

WORDS = "wo3 jia1 men2 kou3 de5 lu4 deng1 huai4 le5 san1 tian1 le5 , qing3 bang1 wo3 fan3 ying4"


def seconds_of(wav: Path) -> float:
    return float(subprocess.run(["soxi", "-D", str(wav)], capture_output=True, text=True,
                                check=True).stdout)


def caller_scenario(tmp: Path, pcap: Path) -> Path:
    scenario = tmp / "speak.xml"
    scenario.write_text((SCENARIOS / "speak.xml").read_text().replace("@PCAP@", str(pcap))
                        .replace('timeout="90000"', 'timeout="200000"'))  # prompts are slow
    return scenario


async def bridged_to_the_department(real: Settings, scenario: Path, *, timeout_s: float,
                                    bridged_within_s: float, **deps: Any) -> Any:
    """A sipp caller (``scenario``) whose call, served with ``deps`` changed, ends bridged to
    the sandbox's department contact (a sipp UAS answering there, which must end cleanly);
    the caller hangs up once it is. The closed record."""
    async with sipp_seat("seat_answer", port=DEPT_PORT, timeout_s=timeout_s) as (_, done):
        async with serving(real) as (services, _):
            flow = services.controller.flow
            assert isinstance(flow, CallFlow)
            flow.deps = dataclasses.replace(flow.deps, **deps)
            caller = asyncio.ensure_future(sipp(real.sandbox_sip_port, scenario=str(scenario),
                                                timeout_s=timeout_s))
            await wait_seat_bridged(services.rest, "PJSIP/departments-",
                                    timeout_s=bridged_within_s)
            [open_call] = await services.calls.open_calls()
            await services.rest.hangup(open_call.channel_id)  # the caller is done
            result = await caller
            assert result.successful == 1, result.output[-3000:]
            [row] = await wait_for_records(services, 1)
        department = await asyncio.wait_for(done, 15)
    assert department.successful == 1, department.output[-2000:]
    return row


async def test_after_hours_the_caller_is_taken_down_for_a_callback(
        settings: Settings, tmp_path: Path) -> None:
    """Nobody on duty and no speech model: the caller speaks, hears that the matter is
    taken for a callback, speaks for about 5 s after the tone, and is told the ticket number;
    never the seat-fault apology."""
    prompts = PromptLibrary.from_settings(settings, resolve_pbx(settings).prompts)
    async with serving(settings) as (services, server):
        # the caller's timing follows the prompt they hear before the tone (rendered now)
        due = services.tickets.due(TicketKind.CALLBACK, datetime.now(UTC))
        due_words = spoken_time(due)
        key, _ = await asyncio.to_thread(prompts.render_sync, "callback_take",
                                         {"due": due_words})
        take_s = seconds_of(prompts.cache / f"{key}.wav")
        notice, _ = await asyncio.to_thread(prompts.render_sync, "recording_notice", {})
        notice_s = seconds_of(prompts.cache / f"{notice}.wav")  # said first: calls recorded
        hello = speak_alaw("ni3 hao3", voice="cmn-latn-pinyin")
        words = speak_alaw(WORDS, voice="cmn-latn-pinyin")
        assert len(words) / 8000 >= 4.5
        pcap = tmp_path / "caller.pcap"
        write_pcap(pcap, quiet(1.0 + notice_s) + hello + quiet(take_s + 1.2) + words
                   + quiet(60))
        result = await sipp(settings.sandbox_sip_port,
                            scenario=str(caller_scenario(tmp_path, pcap)), timeout_s=120)
        assert result.successful == 1, result.output[-3000:]
        [row] = await wait_for_records(services, 1)
        [ticket_id] = (await services.tickets.by_calls([row.id]))[row.id]
        ticket = await services.tickets.get(ticket_id)
        stored = await services.rest.request("GET", "/recordings/stored")
        # the supervisor plays the caller's words from the ticket board (audited)
        await services.users.add("8001", Role.SUPERVISOR, "supervisor-pass-1")
        base = str(server.make_url("")).rstrip("/")
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            assert await login(http, base, "8001", "supervisor-pass-1") == 302
            async with http.get(f"{base}/tickets") as r:
                board = await r.text()
            async with http.get(f"{base}/tickets/{ticket_id}/recording") as r:
                status, audio = r.status, await r.read()
        audits = [(a.actor, a.action, a.target) for a in await services.users.audit_log()]
    assert f'href="/tickets/{ticket_id}/recording"' in board
    assert status == 200 and audio[:4] == b"RIFF" and len(audio) > 8000 * 2 * 4
    assert ("8001", "play_ticket_recording", str(ticket_id)) in audits
    evs = await events(settings, row)
    said = [d["phrase"] for k, d in evs if k == "said"]
    assert row.disposition == "callback" and row.answered_by == "9000", said
    assert row.category == "留言"
    assert "seat_fault_goodbye" not in said
    assert said.index("callback_take") < said.index("callback_ticket")
    assert ticket.kind == "callback" and ticket.owner == "9000"
    assert ticket.fields["recording_s"] >= 4.0, ticket.fields
    assert ticket.fields["recording"] in {r["name"] for r in stored}
    taken = [d for k, d in evs if k == "words_taken"]
    assert taken and taken[-1]["seconds"] >= 4.0 and not taken[-1]["caller_left"]


async def test_a_transfer_the_caller_accepts_is_bridged_to_the_unit(
        settings: Settings, tmp_path: Path) -> None:
    """A scripted recogniser (no Chinese model here): 人社局, yes, put me through. The
    department (a sipp UAS on the sandbox's department contact) answers, hears the brief,
    and is bridged to the caller; the caller hangs up and the department's leg is ended."""
    real = replace(settings, seat_rtp_timeout_s=120)
    entries, _ = parse_csv(SAMPLE.read_bytes())
    pcap = tmp_path / "caller.pcap"
    write_pcap(pcap, quiet(1.0) + speak_alaw("ren2 she4 ju2", voice="cmn-latn-pinyin")
               + quiet(180))
    # the unit is reached after the whole lookup is read out (about 70 s, names rendered
    # at call time), so the department's phone waits long enough
    row = await bridged_to_the_department(
        real, caller_scenario(tmp_path, pcap), timeout_s=300, bridged_within_s=180,
        recognizer=ScriptedRecognizer(["人社局", "对", "好的"]),
        directory=DirectoryService(DirectoryIndex(entries, "万州区")))
    evs = await events(real, row)
    kinds = [k for k, _ in evs]
    said = [d["phrase"] for k, d in evs if k == "said"]
    assert said[-1] == "transfer" and "transfer_offer" in said
    assert kinds.index("unit_briefed") < kinds.index("transferred"), \
        "the department heard the brief before the bridge"
    assert row.disposition == "resolved" and row.category == "查询"


async def test_an_emergency_caller_is_bridged_to_the_line_which_hears_the_brief(
        settings: Settings, tmp_path: Path) -> None:
    """The caller reports a fire: the attendant dials 119 at once (a sipp UAS on the
    sandbox's department contact stands in for it), says "请不要挂机，马上为您转接119", the line
    answers and hears the brief (the caller's number and words) before the bridge; the
    caller hangs up and the line's leg is ended. Disposition emergency, category 求助."""
    real = replace(settings, seat_rtp_timeout_s=120, emergency_119="PJSIP/departments")
    pcap = tmp_path / "caller.pcap"
    write_pcap(pcap, quiet(1.0) + speak_alaw("zhao2 huo3 le5", voice="cmn-latn-pinyin")
               + quiet(120))
    row = await bridged_to_the_department(
        real, caller_scenario(tmp_path, pcap), timeout_s=200, bridged_within_s=120,
        recognizer=ScriptedRecognizer(["着火了 救命啊 快来人"]))
    evs = await events(real, row)
    kinds = [k for k, _ in evs]
    said = [d["phrase"] for k, d in evs if k == "said"]
    outcomes = [d.get("outcome") for k, d in evs if k == "emergency"]
    assert "emergency_transfer" in said and "emergency_dial_direct" not in said, said
    assert outcomes[:1] == ["dialling"] and "bridged" in outcomes, outcomes
    assert kinds.index("line_briefed") < kinds.index("emergency", kinds.index("line_briefed")), \
        "the line heard the brief before the bridge"
    assert row.disposition == "emergency" and row.category == "求助", (row.disposition, said)


async def test_a_message_callers_ticket_carries_the_recording(settings: Settings,
                                                              tmp_path: Path) -> None:
    """留言 through the real sandbox: the scripted recogniser gives the caller's answers (name,
    this phone, for whom, nothing to add); Asterisk records the message after the tone, and
    the message ticket carries that recording, stored in Asterisk."""
    real = replace(settings, message_max_s=6.0)
    pcap = tmp_path / "caller.pcap"
    words = speak_alaw(WORDS, voice="cmn-latn-pinyin")
    write_pcap(pcap, quiet(1.0) + b"".join(words + quiet(0.4) for _ in range(12)) + quiet(20))
    async with serving(real) as (services, _):
        flow = services.controller.flow
        assert isinstance(flow, CallFlow)
        flow.deps = dataclasses.replace(flow.deps, recognizer=ScriptedRecognizer(
            ["我要留言", "我姓张", "是的", "给王主任", "我家门口的路灯坏了三天了", "没有了"]))
        result = await sipp(real.sandbox_sip_port,
                            scenario=str(caller_scenario(tmp_path, pcap)), timeout_s=260)
        assert result.successful == 1, result.output[-3000:]
        [row] = await wait_for_records(services, 1, timeout_s=90)
        [ticket] = await services.tickets.find(call_id=row.id)
        stored = await services.rest.request("GET", "/recordings/stored")
    evs = await events(real, row)
    said = [d["phrase"] for k, d in evs if k == "said"]
    assert row.disposition == "message" and row.category == "留言", said
    assert ticket.kind == "message" and ticket.owner == "9000"
    assert ticket.fields["recipient"] == "王主任" and ticket.caller_name.startswith("张"), \
        ticket.fields
    assert ticket.fields["recording"] in {r["name"] for r in stored}, (ticket.fields, stored)
    assert ticket.fields["recording_s"] >= 3.0
    assert said.index("message_take") < said.index("message_readback") < \
        said.index("message_ticket")


async def test_a_caller_30_db_too_quiet_ends_low_volume_not_silent(
        settings: Settings, tmp_path: Path) -> None:
    """A caller 30 dB below normal, heard by Whisper's endpointer only as a faint voice (no
    speech, no talk detection): low_volume twice, then low_volume_goodbye and the hang-up."""
    model = install_base(cache_dir() / "models")
    real = replace(settings, asr_engine="whisper", asr_model=str(model.path))
    pcap = tmp_path / "caller.pcap"
    faint = speak_alaw("wo3 xiang3 cha2 yi2 xia4 dian4 hua4", voice="cmn-latn-pinyin",
                       gain_db=-30.0)
    write_pcap(pcap, quiet(1.0) + b"".join(faint + quiet(0.6) for _ in range(30)))
    async with serving(real) as (services, _):
        assert services.speech is not None
        result = await sipp(real.sandbox_sip_port,
                            scenario=str(caller_scenario(tmp_path, pcap)), timeout_s=260)
        assert result.successful == 1, result.output[-3000:]
        [row] = await wait_for_records(services, 1, timeout_s=90)
    evs = await events(real, row)
    said = [d["phrase"] for k, d in evs if k == "said"]
    assert said.count("low_volume") == 2 and said[-1] == "low_volume_goodbye", said
    assert row.disposition == "low_volume", (row.disposition, said)
    assert "faint_voice" in [k for k, _ in evs]
