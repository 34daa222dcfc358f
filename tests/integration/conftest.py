"""Integration fixtures: the real sandbox Asterisk (on test-only ports) and the real
controller running in-process against it."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import text

from hotline.ari.rest import AriRest
from hotline.config import Settings, load_settings, replace
from hotline.errors import TelephonyError
from hotline.paths import cache_dir
from hotline.sandbox.instance import Sandbox, SandboxState
from hotline.server.root import build_services, make_app, tls_context
from hotline.server.services import Services
from hotline.store.database import Database

# One test sandbox per machine, shared by every checkout (a fresh clone reuses it; `up`
# restarts it when the rendered dialplan differs).
TEST_HOME = cache_dir() / "test-home"
PORTS = {"HOTLINE_SANDBOX_HTTP_PORT": "8188", "HOTLINE_SANDBOX_SIP_PORT": "5160",
         "HOTLINE_SANDBOX_RTP_START": "10200", "HOTLINE_SANDBOX_RTP_END": "10399"}
# (200 RTP ports: maxcalls 33, hotline/sandbox/sizing.py; test_database_outage holds 20 calls)


def integration_settings(**changes: object) -> Settings:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(PORTS, HOTLINE_HOME=str(TEST_HOME))
    return replace(load_settings(env), **changes) if changes else load_settings(env)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxState]:
    TEST_HOME.mkdir(parents=True, exist_ok=True)
    box = Sandbox(integration_settings())
    asyncio.run(box.up())
    state = box.load_state()
    assert state is not None
    yield state


@pytest.fixture
def settings(sandbox: SandboxState, tmp_path: Path) -> Settings:
    return integration_settings(db_url=f"sqlite+aiosqlite:///{tmp_path / 'calls.db'}",
                                journal=str(tmp_path / "journal.jsonl"),
                                silence_prompt_s=1.5, goodbye_pause_s=0.5,
                                caller_hangup_wait_s=2.0, rating_wait_s=4.0)


@contextlib.asynccontextmanager
async def serving(settings: Settings, wait_for_ari: bool = True
                  ) -> AsyncIterator[tuple[Services, TestServer]]:
    """The production app; over HTTPS when the settings name a certificate."""
    services, prompts = build_services(settings)
    await hang_up_leftovers(services)
    await asyncio.to_thread(prompts.build)
    context = tls_context(settings)
    server = TestServer(make_app(services), host="127.0.0.1",
                        scheme="https" if context else "http")
    await server.start_server(ssl=context)
    try:
        if wait_for_ari:
            await asyncio.wait_for(services.stream.connected.wait(), 10)
        yield services, server
    finally:
        await server.close()


async def hang_up_leftovers(services: Services) -> None:
    """Each test starts with no channel in the shared sandbox: a caller left over from an
    earlier test (an interrupted sipp) would otherwise be adopted into this test's records."""
    with contextlib.suppress(TelephonyError):
        for channel in await services.rest.list_channels():
            with contextlib.suppress(TelephonyError):
                await services.rest.hangup(channel.id)


async def wait_for_records(services: Services, count: int, timeout_s: float = 60) -> list:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    rows: list = []
    while loop.time() < deadline:
        rows = [r for r in await services.calls.recent(500) if r.ended_at is not None]
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.2)
    raise AssertionError(f"only {len(rows)} of {count} records closed in {timeout_s} s")


@pytest.fixture
async def shared_pg() -> AsyncIterator[str]:
    url = os.environ.get("HOTLINE_TEST_PG_URL", "")
    assert url, "HOTLINE_TEST_PG_URL is not set: run the suite with scripts/test.sh"
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await db.upgrade()
    await db.close()
    yield url


async def wait_seat_bridged(rest: AriRest, name: str, timeout_s: float = 30) -> str:
    """The id of the channel named ``name``… once it is in a bridge with the caller (after
    the job-number greeting, which the operator hears too)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        bridged = {c for b in await rest.request("GET", "/bridges") for c in b["channels"]}
        for c in await rest.list_channels():
            if c.name.startswith(name) and c.id in bridged:
                return c.id
        await asyncio.sleep(0.2)
    raise AssertionError(f"no {name} channel was bridged within {timeout_s} s")

