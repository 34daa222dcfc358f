"""Driving `hotline sandbox cluster` from tests and bench/capacity: the cluster on its
ports and one PostgreSQL, sipp callers through the proxy with each call's answer time
(INVITE -> 200 OK as the caller sees it), and the records of every node from the one
database."""

from __future__ import annotations

import asyncio
import csv
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import text

from hotline.cluster.cluster import Cluster
from hotline.cluster.topology import PROXY_PORT
from hotline.config import load_settings
from hotline.paths import cache_dir
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.models import Call
from tests.integration.conftest import TEST_HOME
from tests.sipp import SCENARIOS, _result, free_udp_port

CLUSTER_HOME = cache_dir() / "cluster-test"
# what the controllers of a test cluster run with: quick endings, no recordings, short
# seat leases
TEST_ENV = {"HOTLINE_RECORD_CALLS": "no", "HOTLINE_SILENCE_PROMPT_S": "1.5",
            "HOTLINE_GOODBYE_PAUSE_S": "0.5", "HOTLINE_CALLER_HANGUP_WAIT_S": "2",
            "HOTLINE_RATING_WAIT_S": "2", "HOTLINE_UNATTENDED_SWEEP_S": "3",
            "HOTLINE_SEAT_LEASE_S": "9"}


async def reset_schema(url: str) -> None:
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await db.close()


def make_cluster(db_url: str, home: Path = CLUSTER_HOME,
                 env: Mapping[str, str] = TEST_ENV) -> Cluster:
    base = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    base.update(env)
    settings = load_settings({**base, "HOTLINE_HOME": str(home), "HOTLINE_DB_URL": db_url})
    home.mkdir(parents=True, exist_ok=True)
    if (TEST_HOME / "prompts").is_dir() and not settings.prompts_dir.exists():
        shutil.copytree(TEST_HOME / "prompts", settings.prompts_dir)  # rendered once
    return Cluster(settings, env=base)


@dataclass
class Callers:
    successful: int
    failed: int
    answer_ms: list[float] = field(default_factory=list)  # INVITE -> 200 OK, per call
    output: str = ""

    def percentile(self, p: float) -> float:
        if not self.answer_ms:
            return float("nan")
        ordered = sorted(self.answer_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def callers(workdir: Path, *, calls: int, rate: float, hold_ms: int, caller: str,
                  port: int = PROXY_PORT, scenario: str | Path = "proxy_call",
                  timeout_s: int = 90, number: str = "12345") -> Callers:
    """sipp callers (at ``rate`` a second, all at once allowed) to the public number at
    ``port`` (the proxy); each call's answer time from sipp's -trace_rtt file.
    ``scenario``: one of tests/sipp by name, or a rendered scenario file."""
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    path = scenario if isinstance(scenario, Path) else SCENARIOS / f"{scenario}.xml"
    cmd = ["sipp", f"127.0.0.1:{port}", "-sf", str(path),
           "-s", number, "-i", "127.0.0.1", "-p", str(free_udp_port()),
           "-mp", str(free_udp_port()), "-m", str(calls), "-r", str(rate), "-l", str(calls),
           "-d", str(hold_ms), "-timeout", f"{timeout_s}s", "-timeout_error", "-nostdin",
           "-key", "caller", caller, "-trace_rtt", "-rtt_freq", "1"]
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        cwd=str(workdir))
    out, _ = await asyncio.wait_for(proc.communicate(), timeout_s + 15)
    result = _result(proc.returncode or 0, out)
    answer_ms = await asyncio.to_thread(_answer_times, workdir, path.stem, proc.pid)
    return Callers(result.successful, result.failed, answer_ms, result.output)


def _answer_times(workdir: Path, scenario: str, pid: int) -> list[float]:
    """sipp's -trace_rtt rows (date_ms;response_time_ms;rtd_no): one per answered call."""
    times: list[float] = []
    for rtt in workdir.glob(f"{scenario}_{pid}_rtt.csv"):
        rows = list(csv.reader(rtt.read_text().splitlines(), delimiter=";"))
        times += [float(r[1]) for r in rows[1:] if len(r) > 1 and r[1]]
    return times


async def records(db_url: str, caller: str, count: int, since: datetime,
                  timeout_s: float = 60) -> list[Call]:
    """The closed records of ``caller``'s calls since ``since``, from every node, once
    ``count`` of them are closed (or what there is after ``timeout_s``)."""
    db = Database(db_url)
    repo = CallRepository(db)
    rows: list[Call] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            rows = [r for r in await repo.recent(1000, since=since)
                    if r.caller == caller and r.ended_at is not None]
            if len(rows) >= count:
                break
            await asyncio.sleep(0.5)
    finally:
        await db.close()
    return rows
