"""A caller speaks Mandarin through a real call, and Whisper base (installed from PyPI, as
bootstrap does) hears it: sipp plays espeak-ng Mandarin into the sandbox Asterisk, the
controller snoops the caller and decodes each utterance with the step's vocabulary, the
lookup finds the organisation, and the caller's "是的" after the confirmation gets the
number read out."""

from __future__ import annotations

from pathlib import Path

from hotline.config import Settings, replace
from hotline.directory.importer import import_csv
from hotline.paths import cache_dir
from hotline.speech.whisper_model import install_base
from hotline.store.database import Database
from tests.harness import SAMPLE
from tests.integration.conftest import serving, wait_for_records
from tests.pcap_audio import speech_pcap
from tests.sipp import SCENARIOS, sipp


async def test_a_mandarin_caller_gets_a_number_by_voice(settings: Settings,
                                                        tmp_path: Path) -> None:
    model = install_base(cache_dir() / "models")  # verified against the pinned hashes
    db = Database(settings.effective_db_url)
    await db.upgrade()
    await import_csv(db, SAMPLE, replace=True, progress=False)
    await db.close()
    pcap = tmp_path / "caller.pcap"
    # the request barges into the opening; "是的" comes while (or after) the confirmation
    # plays: an answer given early is kept for the question
    speech_pcap(pcap, [(1.5, "帮我查一下人社局的电话"), (7.0, "是的")], tail_s=25.0,
                voice="cmn", speed=150)
    scenario = tmp_path / "speak.xml"
    scenario.write_text((SCENARIOS / "speak.xml").read_text().replace("@PCAP@", str(pcap)))
    real = replace(settings, asr_engine="whisper", asr_model=str(model.path),
                   rating_wait_s=2.0, caller_hangup_wait_s=1.0)
    async with serving(real) as (services, _):
        assert services.speech is not None, "Whisper base should load"
        result = await sipp(real.sandbox_sip_port, scenario=str(scenario), timeout_s=150)
        assert result.successful == 1, result.output[-3000:]
        [row] = await wait_for_records(services, 1, timeout_s=90)
        full = await services.calls.get(row.id)
        streams_left = services.speech.streams
    kinds = [e.kind for e in full.events]
    transcripts = [e.data["text"] for e in full.events if e.kind == "transcript"]
    lookups = [e.data for e in full.events if e.kind == "lookup"]
    said = [e.data["phrase"] for e in full.events if e.kind == "said"]
    story = (said, transcripts, kinds)
    assert transcripts and any("人社" in t or "社保" in t for t in transcripts), story
    assert lookups and lookups[0]["results"][0]["name"] == "重庆市万州区人力资源和社会保障局", \
        (lookups, story)
    assert "lookup_confirm" in said and "lookup_found" in said, kinds
    assert full.disposition == "resolved", (full.disposition, said, transcripts)
    assert streams_left == 0
