"""Load with a crash: sipp places N calls at R a second, at most L at once, into a sandbox
Asterisk; `hotline serve` runs as its own process and is killed with SIGKILL at K seconds,
then restarted. It passes when every call is answered within three rings as the caller sees
it (sipp: INVITE to 200 OK under 11 s) and every call ends with one closed record. Prints the
figures for a run without the kill (the baseline) and with it: answer times, the controller's
CPU seconds and peak memory, and how the records were closed.

    .venv/bin/python -m bench.load [--calls 300] [--rate 5] [--limit 60] [--kill-at 30]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import re
import shutil
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hotline.config import load_settings
from hotline.paths import cache_dir
from hotline.sandbox.instance import Sandbox
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.models import Call
from tests.integration.conftest import TEST_HOME
from tests.serve_process import hotline_serve, serve_env
from tests.sipp import SCENARIOS, free_udp_port, sipp

BENCH_HOME = cache_dir() / "bench-home"
BENCH_PORTS = {"HOTLINE_SANDBOX_HTTP_PORT": "8388", "HOTLINE_SANDBOX_SIP_PORT": "5360",
               "HOTLINE_SANDBOX_RTP_START": "10400", "HOTLINE_SANDBOX_RTP_END": "10999"}
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class LoadResult:
    calls: int
    sipp_ok: int = 0
    sipp_failed: int = 0
    over_11s: int = -1  # calls whose INVITE -> 200 OK took 11 s or more (caller's view)
    records: int = 0
    closed: int = 0
    dispositions: Counter[str] = field(default_factory=Counter)
    reconciled: int = 0
    adopted: int = 0
    answer_s: list[float] = field(default_factory=list)
    cpu_s: float = 0.0
    peak_mb: float = 0.0
    wall_s: float = 0.0
    left_open: list[str] = field(default_factory=list)  # what an unclosed record went through

    @property
    def passed(self) -> bool:
        return (self.sipp_ok == self.calls and self.over_11s == 0
                and self.records == self.calls == self.closed)

    def lines(self, name: str) -> list[str]:
        q = statistics.quantiles(self.answer_s, n=20) if len(self.answer_s) > 1 else [0] * 19
        return [
            f"{name}: {'PASS' if self.passed else 'FAIL'}  {self.calls} calls in "
            f"{self.wall_s:.0f} s",
            f"  sipp: {self.sipp_ok} completed, {self.sipp_failed} failed, "
            f"{self.over_11s} answered after 11 s (three rings)",
            f"  records: {self.records}, closed {self.closed}; "
            f"{dict(self.dispositions)}; reconciled {self.reconciled}, adopted {self.adopted}",
            f"  answer (record): median {statistics.median(self.answer_s or [0]):.2f} s, "
            f"p95 {q[18]:.2f} s, max {max(self.answer_s or [0]):.2f} s",
            *(f"  left open: {x}" for x in self.left_open[:5]),
            f"  controller: {self.cpu_s:.1f} CPU s "
            f"({self.cpu_s / max(self.wall_s, 1) * 100:.0f}% of a core), "
            f"peak RSS {self.peak_mb:.0f} MB",
        ]


class ProcessWatch:
    """CPU time and peak RSS of a process, read from /proc until it ends."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.cpu_s = 0.0
        self.peak_mb = 0.0

    def sample(self) -> None:
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            self.cpu_s = (int(stat[11]) + int(stat[12])) / TICK
            status = Path(f"/proc/{self.pid}/status").read_text()
        except (OSError, IndexError, ValueError):
            return
        hwm = re.search(r"VmHWM:\s+(\d+) kB", status)
        if hwm:
            self.peak_mb = max(self.peak_mb, int(hwm.group(1)) / 1024)

    async def run(self) -> None:
        while os.path.exists(f"/proc/{self.pid}"):  # noqa: ASYNC240 (procfs, no disk)
            self.sample()
            await asyncio.sleep(0.5)


def over_eleven_seconds(stat_csv: Path) -> int:
    """From sipp's statistics file (-trace_stat): calls whose INVITE -> 200 OK took 11 000 ms
    or more (the repartition is cumulative in the last row)."""
    try:
        rows = list(csv.reader(stat_csv.read_text().splitlines(), delimiter=";"))
        return int(dict(zip(rows[0], rows[-1], strict=False))[
            "ResponseTimeRepartition1_>=11000"])
    except (OSError, IndexError, KeyError, ValueError):
        return -1


async def run_load(calls: int, rate: float, limit: int, hold_ms: int, kill_at: float | None,
                   home: Path = BENCH_HOME, ports: dict[str, str] | None = None,
                   down_s: float = 2.0) -> LoadResult:
    ports = ports or BENCH_PORTS
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(ports, HOTLINE_HOME=str(home))
    settings = load_settings(env)
    await asyncio.to_thread(home.mkdir, parents=True, exist_ok=True)
    if (TEST_HOME / "prompts").is_dir():
        await asyncio.to_thread(shutil.copytree, TEST_HOME / "prompts", settings.prompts_dir,
                                dirs_exist_ok=True)
    await Sandbox(settings).up()
    result = LoadResult(calls)
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'load.db'}"
        run_env = serve_env(db_url, free_udp_port(), home, ports)
        scenario = Path(tmp) / "load.xml"
        scenario.write_text((SCENARIOS / "load.xml").read_text().replace(
            "@HOLD_MS@", str(hold_ms)))
        log = Path(os.environ.get("HOTLINE_LOAD_LOG", Path(tmp) / "serve.log"))
        started = time.monotonic()
        since = datetime.now(UTC) - timedelta(seconds=1)  # older notes are earlier runs'
        watches: list[ProcessWatch] = []
        async with hotline_serve(run_env, log) as first:
            watches.append(ProcessWatch(first.pid))
            watching = [asyncio.create_task(watches[-1].run())]
            stat = Path(tmp) / "sipp-stat.csv"
            caller = asyncio.create_task(sipp(
                settings.sandbox_sip_port, scenario=str(scenario), calls=calls, rate=rate,
                limit=limit, timeout_s=int(calls / rate + hold_ms / 1000 + 120),
                extra=["-trace_stat", "-stf", str(stat), "-fd", "1"]))
            if kill_at is None:  # the baseline: the same controller throughout
                done = await caller
                await settle(db_url, calls, since)
                watches[-1].sample()
            else:
                await asyncio.sleep(kill_at)
                watches[-1].sample()
                first.kill()
                await first.wait()
                await asyncio.sleep(down_s)
        if kill_at is not None:
            async with hotline_serve(run_env, log) as second:
                watches.append(ProcessWatch(second.pid))
                watching.append(asyncio.create_task(watches[-1].run()))
                done = await caller
                await settle(db_url, calls, since)
                watches[-1].sample()
        result.wall_s = time.monotonic() - started
        for task in watching:
            task.cancel()
        result.sipp_ok, result.sipp_failed = done.successful, done.failed
        result.over_11s = over_eleven_seconds(stat)
        result.cpu_s = sum(w.cpu_s for w in watches)
        result.peak_mb = max(w.peak_mb for w in watches)
        await read_records(db_url, result, since)
    return result


async def this_run(repo: CallRepository, calls: int, since: datetime) -> list[Call]:
    return [r for r in await repo.recent(calls * 3) if r.arrived_at >= since]


async def settle(db_url: str, calls: int, since: datetime, timeout_s: float = 90) -> None:
    """Wait for every call's record to be closed (or the time to run out)."""
    db = Database(db_url)
    try:
        repo = CallRepository(db)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            rows = await this_run(repo, calls, since)
            if len(rows) >= calls and all(r.ended_at is not None for r in rows):
                return
            await asyncio.sleep(0.5)
    finally:
        await db.close()


async def read_records(db_url: str, result: LoadResult, since: datetime) -> None:
    db = Database(db_url)
    try:
        repo = CallRepository(db)
        rows = await this_run(repo, result.calls, since)
        result.records = len(rows)
        result.closed = sum(r.ended_at is not None for r in rows)
        result.dispositions = Counter(r.disposition or "open" for r in rows)
        result.answer_s = [(r.answered_at - r.arrived_at).total_seconds() for r in rows
                           if r.answered_at is not None]
        for r in rows:
            events = (await repo.get(r.id)).events
            kinds = {e.kind for e in events}
            result.reconciled += "reconciled" in kinds
            result.adopted += "adopted" in kinds
            if r.ended_at is None:
                result.left_open.append(f"{r.channel_id}: {[e.kind for e in events]}")
    finally:
        await db.close()


async def main(args: argparse.Namespace) -> int:
    print(f"bench/load: {args.calls} calls at {args.rate}/s, at most {args.limit} at once, "
          f"each held {args.hold_ms} ms; controller killed at {args.kill_at} s, down "
          f"{args.down_s} s")
    runs = []
    if not args.skip_baseline:
        runs.append(("baseline (no kill)", await run_load(
            args.calls, args.rate, args.limit, args.hold_ms, None)))
    runs.append((f"SIGKILL at {args.kill_at:.0f} s", await run_load(
        args.calls, args.rate, args.limit, args.hold_ms, args.kill_at, down_s=args.down_s)))
    for name, result in runs:
        print("\n".join(result.lines(name)))
    return 0 if all(r.passed for _, r in runs) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--hold-ms", type=int, default=12000)
    parser.add_argument("--kill-at", type=float, default=30.0)
    parser.add_argument("--down-s", type=float, default=2.0)
    parser.add_argument("--skip-baseline", action="store_true")
    raise SystemExit(asyncio.run(main(parser.parse_args())))
