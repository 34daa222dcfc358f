"""A caller speaks Mandarin through a real call, and Whisper base (installed from PyPI, as
bootstrap does) hears it: sipp plays espeak-ng Mandarin into the sandbox Asterisk, the
controller snoops the caller and decodes each utterance with the step's vocabulary, the
lookup finds the organisation, and the caller's "是的" after the confirmation gets the
number read out."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hotline.config import Settings, replace
from hotline.directory.importer import import_csv
from hotline.paths import cache_dir
from hotline.prompts.library import PromptLibrary
from hotline.server.pbx_access import resolve_pbx
from hotline.speech.whisper_model import install_base
from hotline.store.database import Database
from tests.harness import SAMPLE
from tests.integration.conftest import serving, wait_for_records
from tests.integration.test_attendant_real import seconds_of
from tests.pcap_audio import silence, speak_alaw, write_pcap
from tests.sipp import SCENARIOS, sipp


async def test_a_mandarin_caller_gets_a_number_by_voice(settings: Settings,
                                                        tmp_path: Path) -> None:
    model = install_base(cache_dir() / "models")  # verified against the pinned hashes
    db = Database(settings.effective_db_url)
    await db.upgrade()
    await import_csv(db, SAMPLE, replace=True, progress=False)
    await db.close()
    # The caller's timeline follows the prompts (rendered now, as the call will play them):
    # the request over the recording notice (heard, and taken at the first question), and
    # "是的" just after "您好，您要查询的是…，对吗？" (the question's own vocabulary then)
    prompts = PromptLibrary.from_settings(settings, resolve_pbx(settings).prompts)
    spoken = 0.0
    for phrase, values in (("recording_notice", {}),
                           ("opening", {"unit": settings.unit_name,
                                        "job_number": settings.attendant_job_number}),
                           ("please_hold", {}),
                           ("lookup_confirm",
                            {"organisation": "重庆市万州区人力资源和社会保障局"})):
        key, _ = await asyncio.to_thread(prompts.render_sync, phrase, values)
        spoken += seconds_of(prompts.cache / f"{key}.wav")
    request = speak_alaw("帮我查一下人社局的电话", "cmn", 150)
    yes = speak_alaw("是的", "cmn", 150)
    pause = spoken + 1.5 - 1.0 - len(request) / 8000
    pcap = tmp_path / "caller.pcap"
    write_pcap(pcap, silence(1.0) + request + silence(pause) + yes + silence(30))
    scenario = tmp_path / "speak.xml"
    scenario.write_text((SCENARIOS / "speak.xml").read_text().replace("@PCAP@", str(pcap))
                        .replace('timeout="90000"', 'timeout="180000"'))  # a long call
    real = replace(settings, asr_engine="whisper", asr_model=str(model.path),
                   rating_wait_s=2.0, caller_hangup_wait_s=1.0)
    async with serving(real) as (services, _):
        assert services.speech is not None, "Whisper base should load"
        result = await sipp(real.sandbox_sip_port, scenario=str(scenario), timeout_s=240)
        [row] = await wait_for_records(services, 1, timeout_s=90)
        full = await services.calls.get(row.id)
        streams_left = services.speech.streams
    kinds = [e.kind for e in full.events]
    transcripts = [e.data["text"] for e in full.events if e.kind == "transcript"]
    lookups = [e.data for e in full.events if e.kind == "lookup"]
    said = [e.data["phrase"] for e in full.events if e.kind == "said"]
    story = f"said {said}; heard {transcripts}; events {kinds}"
    assert transcripts and any("人社" in t or "社保" in t for t in transcripts), story
    assert lookups and lookups[0]["results"][0]["name"] == "重庆市万州区人力资源和社会保障局", \
        (lookups, story)
    assert "lookup_confirm" in said and "lookup_found" in said, story
    assert full.disposition == "resolved", (full.disposition, said, transcripts)
    assert streams_left == 0
    timeline = [(round((e.at - full.arrived_at).total_seconds(), 1), e.kind,
                 e.data.get("phrase", "")) for e in full.events]
    assert result.successful == 1, f"{timeline} {result.output[-600:]}"
