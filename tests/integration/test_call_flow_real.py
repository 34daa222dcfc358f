"""The call flow against the real sandbox Asterisk with sipp callers."""

from __future__ import annotations

import statistics
from datetime import timedelta

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
    async with serving(settings) as (services, _):
        result = await sipp(settings.sandbox_sip_port, calls=20, rate=5, limit=5, hold_ms=2500,
                            timeout_s=90)
        assert result.successful == 20, result.output[-3000:]
        rows = await wait_for_records(services, 20)
    assert len(rows) == 20
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


async def test_a_caller_rates_the_service_with_dtmf(settings: Settings) -> None:
    """The scripted lookup (no Chinese model here) runs first; the caller's DTMF 4 is kept
    for the rating request."""
    real = replace(settings, rating_wait_s=15.0, caller_hangup_wait_s=2.0)
    async with serving(real) as (services, _):
        entries, _ = parse_csv(SAMPLE.read_bytes())
        flow = services.controller.flow
        assert isinstance(flow, CallFlow)
        flow.recognizer = ScriptedRecognizer(["帮我查一下 工行 的 电话", "对"])
        flow.directory = DirectoryService(DirectoryIndex(entries, "万州区"))
        result = await sipp(real.sandbox_sip_port, scenario="rating", timeout_s=120)
        assert result.successful == 1, result.output[-3000:]
        [row] = await wait_for_records(services, 1)
        full = await services.calls.get(row.id)
    said = [e.data.get("phrase") for e in full.events if e.kind == "said"]
    assert row.satisfaction == 4, said
    assert row.disposition == "resolved"
    assert said[-3:] == ["rating_request", "rating_thanks", "goodbye"]
