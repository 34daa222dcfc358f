"""`hotline serve` as its own process (killable with SIGKILL), for the crash tests and the
load bench."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from tests.integration.conftest import PORTS, TEST_HOME


def serve_env(db_url: str, console_port: int, home: Path = TEST_HOME,
              ports: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(ports or PORTS, HOTLINE_HOME=str(home), HOTLINE_DB_URL=db_url,
               HOTLINE_CONSOLE_PORT=str(console_port), HOTLINE_RECORD_CALLS="no",
               HOTLINE_SILENCE_PROMPT_S="1.5", HOTLINE_GOODBYE_PAUSE_S="0.5",
               HOTLINE_CALLER_HANGUP_WAIT_S="2", HOTLINE_RATING_WAIT_S="2",
               HOTLINE_UNATTENDED_SWEEP_S="3",
               HOTLINE_JOURNAL=(db_url.split(":///", 1)[1] + ".journal"
                                if db_url.startswith("sqlite") else
                                f"/tmp/hotline-journal-{os.getpid()}-{console_port}.jsonl"))
    return env


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


@contextlib.asynccontextmanager
async def hotline_serve(env: dict[str, str], log: Path) -> AsyncIterator[
        asyncio.subprocess.Process]:
    """`hotline serve` as its own process, ready when /healthz says ARI and the database
    are up; stopped with SIGTERM at the end unless the test killed it."""
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hotline", "serve", env=env, stdout=out, stderr=out)
    scheme = "https" if env.get("HOTLINE_TLS_CERT") else "http"
    url = f"{scheme}://127.0.0.1:{env['HOTLINE_CONSOLE_PORT']}/healthz"
    try:  # (readiness only: a TLS test checks the certificate itself)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as http:
            for _ in range(300):
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(url) as r:
                        if r.status == 200:
                            break
                if proc.returncode is not None:
                    raise AssertionError(f"serve exited: {tail(log)}")
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"serve not healthy: {tail(log)}")
        yield proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
