"""A real SIP call (sipp) to 12345 reaches the Stasis app and leaves a closed record."""

from __future__ import annotations

from aiohttp import ClientSession

from hotline.config import Settings, replace
from tests.integration.conftest import serving, wait_for_records
from tests.sipp import sipp


async def test_sipp_call_reaches_the_controller(settings: Settings) -> None:
    async with serving(settings) as (services, server):
        async with ClientSession() as http:
            resp = await http.get(server.make_url("/healthz"))
            body = await resp.json()
        assert resp.status == 200, body
        assert body["ari"]["connected"] and body["database"]["reachable"]
        result = await sipp(settings.sandbox_sip_port, hold_ms=3000, timeout_s=30)
        assert result.successful == 1, result.output[-2000:]
        [row] = await wait_for_records(services, 1)
    assert row.caller == "sipp" or row.caller.isdigit()
    assert row.called == "12345"
    assert row.answered_at is not None and row.ended_at is not None
    assert row.answered_by == settings.attendant_job_number
    assert 0 < row.rings <= 3
    assert row.disposition == "abandoned"  # sipp hangs up during the greeting


async def test_healthz_is_503_when_ari_is_unreachable(settings: Settings) -> None:
    broken = replace(settings, ari_url="http://127.0.0.1:9/ari", ari_user="x",
                     ari_password="y")
    async with serving(broken, wait_for_ari=False) as (_, server), ClientSession() as http:
        resp = await http.get(server.make_url("/healthz"))
        body = await resp.json()
    assert resp.status == 503
    assert body["ari"]["connected"] is False and body["database"]["reachable"] is True
