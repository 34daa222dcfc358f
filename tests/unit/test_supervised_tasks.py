"""Every long-lived task of the running hotline is supervised: killed by an injected
exception, it comes back, and /healthz says degraded while it is down."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from hotline.config import Settings
from hotline.domain.calls import NewCall
from hotline.errors import StoreUnavailable
from hotline.live.hub import Happening
from hotline.server.root import SystemClock, build_services, make_app
from hotline.server.services import Services
from hotline.server.supervisor import Supervisor
from tests.fake_ari import PASSWORD, USER, FakeAri


class Broken:
    """A fault switched on and off: raises while on."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc
        self.on = True
        self.hits = 0

    def check(self) -> None:
        if self.on:
            self.hits += 1
            raise self.exc


@contextlib.asynccontextmanager
async def hotline(fake: FakeAri, tmp: Path) -> AsyncIterator[tuple[Services, Callable[..., Any]]]:
    settings = Settings(home=tmp, db_url=f"sqlite+aiosqlite:///{tmp / 'calls.db'}",
                        journal=str(tmp / "journal" / "calls.jsonl"), record_calls="no",
                        ari_url=f"http://127.0.0.1:{fake.server.port}/ari",  # type: ignore[union-attr]
                        ari_user=USER, ari_password=PASSWORD)
    services, _ = build_services(settings)
    services.supervisor = Supervisor(SystemClock(), backoff_initial_s=0.3, backoff_max_s=0.6)
    services.directory_refresh_s = services.journal_replay_s = 0.05
    services.unattended_sweep_s = 0.05
    services.seat_sync.every_s = 0.05
    server = TestServer(make_app(services), host="127.0.0.1")
    await server.start_server()
    async with ClientSession() as http:
        async def health() -> dict[str, Any]:
            async with http.get(server.make_url("/healthz")) as resp:
                body: dict[str, Any] = await resp.json()
                return body
        try:
            await asyncio.wait_for(services.stream.connected.wait(), 5)
            yield services, health
        finally:
            await server.close()


async def until(check: Callable[[], Any], timeout_s: float = 10) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def _kill_and_revive(health: Callable[..., Any], name: str, fault: Broken) -> None:
    async def down() -> bool:
        body = await health()
        return not body["tasks"][name]["running"] and body["status"] != "ok"

    await until(down)  # down: healthz degraded (or unavailable) and names the task
    body = await health()
    assert any(name in p for p in body["problems"]), body["problems"]
    assert body["tasks"][name]["last_error"].startswith(type(fault.exc).__name__)
    fault.on = False

    async def back() -> bool:
        body = await health()
        return bool(body["tasks"][name]["running"] and body["status"] == "ok")

    await until(back)
    assert (await health())["tasks"][name]["restarts"] >= 1


async def test_the_event_stream_comes_back_when_on_connected_fails(
        fake_ari: FakeAri, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with hotline(fake_ari, tmp_path) as (services, health):
        fault = Broken(RuntimeError("resync bug"))
        resync = services.controller.resync

        async def failing_resync() -> Any:
            fault.check()
            return await resync()

        monkeypatch.setattr(services.controller, "resync", failing_resync)
        await fake_ari.drop_sockets()  # the reconnect runs on_connected, which fails
        await until(lambda: _true(fault.hits))
        body = await health()
        assert body["ari"]["connected"] is False  # not left set by a dead stream
        await _kill_and_revive(health, "ari-events", fault)
        assert services.stream.connected.is_set()


async def test_the_journal_replay_comes_back(fake_ari: FakeAri, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    async with hotline(fake_ari, tmp_path) as (services, health):
        journal = services.journal
        record = await journal.open_call(NewCall("sup-1", "139", "12345", datetime.now(UTC)))
        outage = Broken(StoreUnavailable("database unreachable: connection refused"))
        add_event = journal.inner.add_event

        async def away(*args: Any, **kw: Any) -> None:
            outage.check()
            await add_event(*args, **kw)

        monkeypatch.setattr(journal.inner, "add_event", away)
        await journal.add_event(record, "said", {"phrase": "opening"})
        assert journal.pending == 1
        fault = Broken(OSError("journal disk error"))
        read = journal.log.read

        def failing_read(*args: Any) -> Any:
            fault.check()
            return read(*args)

        monkeypatch.setattr(journal.log, "read", failing_read)
        outage.on = False  # the database is back; the replay dies reading the journal
        await _kill_and_revive(health, "journal", fault)
        await until(lambda: _true(journal.pending == 0))
        events = (await services.calls.get(record)).events
        assert [e.data for e in events if e.kind == "said"] == [{"phrase": "opening"}]


async def test_the_sweep_comes_back(fake_ari: FakeAri, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    async with hotline(fake_ari, tmp_path) as (services, health):
        fault = Broken(RuntimeError("sweep bug"))
        list_channels = services.rest.list_channels

        async def failing(*args: Any, **kw: Any) -> Any:
            fault.check()
            return await list_channels(*args, **kw)

        monkeypatch.setattr(services.rest, "list_channels", failing)
        await _kill_and_revive(health, "reconcile-sweep", fault)


async def test_the_seat_sync_comes_back(fake_ari: FakeAri, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    async with hotline(fake_ari, tmp_path) as (services, health):
        fault = Broken(RuntimeError("seat sync bug"))
        catch_up = services.seat_sync.catch_up

        async def failing(*args: Any, **kw: Any) -> Any:
            fault.check()
            return await catch_up(*args, **kw)

        monkeypatch.setattr(services.seat_sync, "catch_up", failing)
        await _kill_and_revive(health, "seat-sync", fault)


async def test_the_directory_rebuild_comes_back(fake_ari: FakeAri, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    async with hotline(fake_ari, tmp_path) as (services, health):
        fault = Broken(RuntimeError("index bug"))
        poll = services.directory.poll

        async def failing(*args: Any, **kw: Any) -> Any:
            fault.check()
            return await poll(*args, **kw)

        monkeypatch.setattr(services.directory, "poll", failing)
        await _kill_and_revive(health, "directory", fault)


async def test_the_metrics_watch_comes_back(fake_ari: FakeAri, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    async with hotline(fake_ari, tmp_path) as (services, health):
        fault = Broken(RuntimeError("metrics bug"))
        on_happening = services.metrics.on_happening

        def failing(h: Happening) -> None:
            fault.check()
            on_happening(h)

        monkeypatch.setattr(services.metrics, "on_happening", failing)
        await asyncio.sleep(0.05)  # the watch subscribed
        services.hub.publish(Happening(1, "arrived", {}))
        await _kill_and_revive(health, "metrics", fault)


async def _true(value: object) -> bool:
    return bool(value)
