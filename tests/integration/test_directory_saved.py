"""`hotline serve` (the production app, its own process) with the saved directory index: the
first start builds and saves it, a restart maps it and answers at once, and an entry added
with `hotline directory add` is found within a second, without a rebuild."""

from __future__ import annotations

import asyncio
import re
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from hotline.config import Settings
from hotline.directory.importer import import_csv
from hotline.store.database import Database
from hotline.store.users_repo import Role, UserRepository
from tests.serve_process import hotline_serve, serve_env
from tests.sipp import free_udp_port

SAMPLE = Path(__file__).parents[2] / "directory" / "sample.csv"
PASSWORD = "operator-pass-1"


async def login(http: aiohttp.ClientSession, base: str) -> None:
    async with http.get(f"{base}/login") as r:
        token = re.search(r'name="csrf" value="([^"]+)"', await r.text())
    assert token is not None
    async with http.post(f"{base}/login", allow_redirects=False, data={
            "operator_id": "1001", "password": PASSWORD, "csrf": token.group(1)}) as r:
        assert r.status == 302


async def lookup(http: aiohttp.ClientSession, base: str, q: str) -> list[dict[str, Any]]:
    async with http.get(f"{base}/api/directory", params={"q": q}) as r:
        assert r.status == 200
        body: dict[str, Any] = await r.json()
    results: list[dict[str, Any]] = body["results"]
    return results


async def test_serve_restarts_on_the_saved_index_and_sees_a_change_within_a_second(
        settings: Settings, tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'calls.db'}"
    db = Database(db_url)
    await db.upgrade()
    await import_csv(db, SAMPLE, progress=False)
    await UserRepository(db).add("1001", Role.OPERATOR, PASSWORD)
    await db.close()
    port = free_udp_port()
    env = serve_env(db_url, port)
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    saved = tmp_path / "calls.db.directory-index"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with hotline_serve(env, log):
            assert "no saved directory index" in log.read_text()
            assert saved.exists()
        built_at = saved.stat().st_mtime_ns
        start = len(log.read_text())
        async with hotline_serve(env, log):
            second = log.read_text()[start:]
            assert "directory: 353 entries, 0 changed since the index was built" in second
            assert "indexed" not in second and "stale" not in second  # mapped, not rebuilt
            await login(http, base)
            assert (await lookup(http, base, "帮我查一下工行的电话"))[0]["id"] == "1"
            added = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "hotline", "directory", "add", "n1",
                "--name", "重庆市万州区星辰量子科技有限公司", "--aliases", "星辰量子",
                "--phone", "02358000001", "--district", "万州区", env=env)
            assert await added.wait() == 0
            written = time.monotonic()
            while not any(r["id"] == "n1" for r in await lookup(http, base, "星辰量子科技")):
                assert time.monotonic() - written < 1.0, "the new entry was not found in 1 s"
                await asyncio.sleep(0.05)
            assert saved.stat().st_mtime_ns == built_at  # laid over, no rebuild
