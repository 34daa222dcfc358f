"""bench/load, smaller: 40 calls at 5 a second, up to 20 at once, with the controller killed
(SIGKILL) mid-run and restarted. Every call answered within three rings as the caller sees
it, and every call ends with one closed record. (The full run: `python -m bench.load`.)"""

from __future__ import annotations

from bench.load import run_load
from hotline.config import Settings


async def test_load_with_a_controller_crash_mid_run(settings: Settings) -> None:
    result = await run_load(calls=40, rate=5, limit=20, hold_ms=6000, kill_at=5.0)
    report = "\n".join(result.lines("load"))
    assert result.sipp_ok == 40 and result.sipp_failed == 0, report
    assert result.over_11s == 0, report  # INVITE -> 200 OK under 11 s for every call
    assert result.records == 40 and result.closed == 40, report
    assert result.reconciled + result.adopted > 0, report  # the kill did hit calls
