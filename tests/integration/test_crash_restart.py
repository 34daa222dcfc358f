"""Crash and restart against the real sandbox: `hotline serve` killed with SIGKILL mid-call,
calls ending and arriving while it is down, and the restart making the records whole."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from hotline.config import Settings
from hotline.sandbox.instance import Sandbox
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.models import Call
from tests.integration.conftest import serving, wait_for_records
from tests.serve_process import hotline_serve, serve_env
from tests.sipp import free_udp_port, sipp


async def until(repo: CallRepository, check, timeout_s: float = 30) -> list[Call]:  # type: ignore[no-untyped-def]
    rows: list[Call] = []
    for _ in range(int(timeout_s * 5)):
        rows = [await repo.get(r.id) for r in await repo.recent(50)]
        if check(rows):
            return rows
        await asyncio.sleep(0.2)
    seen = [(r.caller, r.disposition, [e.kind for e in r.events]) for r in rows]
    raise AssertionError(f"not reached in {timeout_s} s: {seen}")


def by_caller(rows: list[Call], number: str) -> Call | None:
    return next((r for r in rows if r.caller == number), None)


async def test_sigkill_mid_call_then_restart_reconciles(settings: Settings,
                                                        tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'calls.db'}"
    env = serve_env(db_url, free_udp_port())
    log = tmp_path / "serve.log"
    db = Database(db_url)
    repo = CallRepository(db)
    port = settings.sandbox_sip_port
    try:
        async with hotline_serve(env, log) as first:
            ends_while_down = asyncio.create_task(
                sipp(port, caller="13900000001", hold_ms=6000, timeout_s=60))
            still_up = asyncio.create_task(
                sipp(port, scenario="silent", caller="13900000003", timeout_s=90))
            await until(repo, lambda rows: all(
                (r := by_caller(rows, n)) is not None and r.answered_at is not None
                for n in ("13900000001", "13900000003")))
            first.kill()  # SIGKILL: no goodbye, no record closed
            await first.wait()
            arrives_while_down = await sipp(port, caller="13900000002", hold_ms=1000,
                                            timeout_s=30)
            assert arrives_while_down.successful == 1, arrives_while_down.output[-2000:]
            assert (await ends_while_down).successful == 1
        async with hotline_serve(env, log):
            adopted = await still_up
            assert adopted.successful == 1, adopted.output[-2000:]  # ended by the hotline
            rows = await until(repo, lambda rows: all(
                (r := by_caller(rows, n)) is not None and r.ended_at is not None
                for n in ("13900000001", "13900000002", "13900000003")))
    finally:
        await db.close()
    ended, unattended, resumed = (by_caller(rows, n) for n in (
        "13900000001", "13900000002", "13900000003"))
    assert ended is not None and unattended is not None and resumed is not None
    assert ended.disposition == "failed" and "reconciled" in [e.kind for e in ended.events]
    assert ended.ended_at is not None and ended.ended_at >= ended.answered_at  # type: ignore[operator]
    assert unattended.disposition == "unattended" and unattended.called == "12345"
    kinds = [e.kind for e in resumed.events]
    assert "adopted" in kinds and resumed.disposition == "failed"
    assert ("said", "seat_fault_goodbye") in [(e.kind, e.data.get("phrase")) for e in
                                              resumed.events] or "adopted" in kinds
    assert len({r.channel_id for r in rows}) == len(rows)  # one record per call


async def test_asterisk_restart_mid_call_closes_the_record_and_reconnects(
        settings: Settings) -> None:
    """Asterisk stops with a caller on the line and comes back: the controller reconnects,
    resynchronises, closes the lost call's record, and takes the next call."""
    async with serving(settings) as (services, _):
        lost = asyncio.create_task(sipp(settings.sandbox_sip_port, scenario="silent",
                                        caller="13900000004", timeout_s=30))
        for _ in range(100):
            rows = await services.calls.open_calls()
            if rows and rows[0].answered_at is not None:
                break
            await asyncio.sleep(0.1)
        [row] = await services.calls.open_calls()
        reconnects = services.stream.reconnects
        box = Sandbox(settings)
        await asyncio.to_thread(box.down)
        await box.up()
        for _ in range(200):
            if services.stream.reconnects > reconnects and services.stream.connected.is_set():
                break
            await asyncio.sleep(0.1)
        assert services.stream.connected.is_set() and services.stream.reconnects > reconnects
        closed = await services.calls.get(row.id)
        for _ in range(100):
            closed = await services.calls.get(row.id)
            if closed.ended_at is not None:
                break
            await asyncio.sleep(0.1)
        assert closed.ended_at is not None and closed.disposition in ("abandoned", "failed")
        lost.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await lost
        after = await sipp(settings.sandbox_sip_port, caller="13900000005", hold_ms=1500)
        assert after.successful == 1, after.output[-2000:]
        await wait_for_records(services, 2)
