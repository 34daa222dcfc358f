"""The call flow against the real sandbox Asterisk with sipp callers."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import statistics
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from hotline.calls.flow import CallFlow
from hotline.config import Settings, replace
from hotline.directory.index import DirectoryIndex
from hotline.directory.records import parse_csv
from hotline.directory.service import DirectoryService
from tests.harness import SAMPLE
from tests.integration.conftest import serving, wait_for_records
from tests.scripted import ScriptedRecognizer
from tests.sipp import sipp


async def test_twenty_calls_five_at_once_all_answered_within_three_rings(
        settings: Settings) -> None:
    async with serving(settings) as (services, server):
        result = await sipp(settings.sandbox_sip_port, calls=20, rate=5, limit=5, hold_ms=2500,
                            timeout_s=90)
        assert result.successful == 20, result.output[-3000:]
        rows = await wait_for_records(services, 20)
        async with aiohttp.ClientSession() as http, http.get(server.make_url("/metrics")) as r:
            assert r.status == 200  # loopback: no token needed
            metrics = {m.name: m for m in text_string_to_metric_families(await r.text())}
    assert len(rows) == 20
    ended = sum(s.value for s in metrics["hotline_calls_ended"].samples
                if s.name.endswith("_total"))
    answered = [s.value for s in metrics["hotline_answer_seconds"].samples
                if s.name.endswith("_count")]
    assert ended == 20 and answered == [20]
    assert [s.value for s in metrics["hotline_ari_connected"].samples] == [1]
    waits = [(r.answered_at - r.arrived_at).total_seconds() for r in rows]
    assert all(r.answered_at is not None and r.ended_at is not None for r in rows)
    assert all(1 <= r.rings <= 3 for r in rows)
    assert statistics.median(waits) <= 1.0, waits
    assert max(waits) <= 11.0, waits


async def test_a_silent_caller_is_ended_by_the_hotline(settings: Settings) -> None:
    real = replace(settings, silence_prompt_s=3.0, goodbye_pause_s=2.0)
    async with serving(real) as (services, _):
        result = await sipp(real.sandbox_sip_port, scenario="silent", timeout_s=90)
        assert result.successful == 1, result.output[-3000:]
        [row] = await wait_for_records(services, 1)
    assert row.disposition == "silent"
    assert row.answered_at is not None and row.ended_at is not None
    assert timedelta(seconds=10) <= row.ended_at - row.answered_at <= timedelta(seconds=60)


async def test_a_caller_rates_the_service_and_calls_show_prints_the_record(
        settings: Settings) -> None:
    """The scripted lookup (no Chinese model here) runs first; the caller's DTMF 4 is kept
    for the rating request; `calls show` prints the record in full."""
    real = replace(settings, rating_wait_s=15.0, caller_hangup_wait_s=2.0)
    async with serving(real) as (services, _):
        entries, _ = parse_csv(SAMPLE.read_bytes())
        flow = services.controller.flow
        assert isinstance(flow, CallFlow)
        flow.deps = dataclasses.replace(
            flow.deps, recognizer=ScriptedRecognizer(["帮我查一下 工行 的 电话", "对"]),
            directory=DirectoryService(DirectoryIndex(entries, "万州区")))
        result = await sipp(real.sandbox_sip_port, scenario="rating", timeout_s=120)
        assert result.successful == 1, result.output[-3000:]
        [row] = await wait_for_records(services, 1)
        full = await services.calls.get(row.id)
    said = [e.data.get("phrase") for e in full.events if e.kind == "said"]
    assert row.satisfaction == 4, said
    assert row.disposition == "resolved"
    assert said[-3:] == ["rating_request", "rating_thanks", "goodbye"]
    assert said[:2] == ["recording_notice", "opening"], "the call is recorded: the caller is told"
    # The same first-question record, as a supervisor sees it with `calls show`.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(HOTLINE_DB_URL=real.db_url, HOTLINE_HOME=str(real.home))
    hotline = str(Path(sys.executable).parent / "hotline")
    shown = await asyncio.to_thread(
        subprocess.run, [hotline, "calls", "show", str(row.id), "--json"], env=env,
        capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    record = json.loads(shown.stdout)
    assert record["caller"] == "13900000001" and record["called"] == "12345"
    assert record["answered_by"] == "9000" and 1 <= record["rings"] <= 3
    assert record["arrived_at"] and record["answered_at"] and record["ended_at"]
    assert (record["disposition"], record["satisfaction"]) == ("resolved", 4)
    assert record["transcript"][0]["text"] == "帮我查一下 工行 的 电话"
    assert record["lookups"][0]["results"][0]["name"].startswith("中国工商银行")
    assert record["tickets"] == [] and record["unmatched_queries"] == []
    kinds = [e["kind"] for e in record["events"]]
    assert kinds[0] == "arrived" and "lookup_confirmed" in kinds
    text = await asyncio.to_thread(
        subprocess.run, [hotline, "calls", "show", str(row.id)], env=env,
        capture_output=True, text=True, timeout=60)
    assert "中国工商银行" in text.stdout and "satisfaction: 4" in text.stdout, text.stdout


def storm_scenario(path: Path, digits: str, gap_ms: int = 250) -> Path:
    """call.xml with RFC 4733 key presses (sipp's own DTMF captures) in a burst after the
    answer, before the caller holds (-d) and hangs up."""
    burst = "".join(
        f'  <nop><action><exec play_pcap_audio="/usr/share/sip-tester/dtmf_2833_{d}.pcap"/>'
        f'</action></nop>\n  <pause milliseconds="{gap_ms}"/>\n' for d in digits)
    text = (Path(__file__).parents[1] / "sipp" / "call.xml").read_text()
    path.write_text(text.replace("  <pause/>", burst + "  <pause/>", 1))
    return path


async def test_key_storms_and_hang_ups_in_every_state(settings: Settings,
                                                      tmp_path: Path) -> None:
    """Callers who press keys in bursts and hang up in the greeting, while listening, and
    in the closing: every record closes, and the hotline still answers the next caller."""
    storm = storm_scenario(tmp_path / "storm.xml", "12345678905" * 2)
    async with serving(settings) as (services, _):
        results = await asyncio.gather(*(
            sipp(settings.sandbox_sip_port, scenario=str(storm), hold_ms=hold,
                 caller=f"1390000009{n}", timeout_s=90)
            for n, hold in enumerate((0, 3000, 9000))))
        assert [r.successful for r in results] == [1, 1, 1], results[0].output[-2000:]
        after = await sipp(settings.sandbox_sip_port, caller="13900000099", hold_ms=1000)
        assert after.successful == 1
        rows = await wait_for_records(services, 4)
        records = [await services.calls.get(r.id) for r in rows]
    assert all(r.ended_at is not None and r.disposition for r in records)
    assert all(r.rings <= 3 for r in records)
