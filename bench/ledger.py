"""The monthly ledger at scale: N calls in one month (a callback ticket on every 10th), written
to a database, then `hotline report` exports the month as its own process. Prints, over
--runs runs, the median wall time and the largest peak memory (the child's max RSS); then
the console's /ledger, which builds the book in a child process, with the longest the
console's event loop went without running a 10 ms ticker meanwhile (what a live call's next
prompt would wait). The target of issue 15: 100k calls within 30 s under 500 MB. With
--baseline TREE, the same export by another source tree (e.g. the main tree before the
change) is measured first and printed as the baseline.

    .venv/bin/python -m bench.ledger [--calls 100000] [--runs 3] [--db sqlite|URL]
                                     [--baseline /work/main]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.fresh_db import fresh_database
from hotline.reports.ledger import ledger_in_child
from tests.month_fill import fill_month

MONTH, START = "2026-11", datetime(2026, 10, 31, 16, 1, tzinfo=UTC)  # 1 Nov, Shanghai
TREE = Path(__file__).resolve().parent.parent


async def prepare(url: str, calls: int) -> None:
    db = await fresh_database(url)
    await fill_month(db, START, calls, ticket_every=10, days=29)
    await db.close()


def export(url: str, tree: Path, out: Path) -> tuple[float, float, str]:
    """`hotline report` from ``tree`` as a child process: (wall s, peak RSS MB, its output)."""
    env = dict(os.environ, HOTLINE_DB_URL=url, PYTHONPATH=str(tree),
               HOTLINE_TIMEZONE="Asia/Shanghai", HOTLINE_HOME=str(out.parent))
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "hotline", "report", "--month", MONTH,
                             "--xlsx", str(out)], env=env, cwd=tree,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    tail = output.strip().splitlines()[-1] if output.strip() else ""
    return wall, usage.ru_maxrss / 1024, tail if proc.returncode == 0 else f"FAILED: {tail}"


async def loop_stall(url: str) -> tuple[float, float]:
    """The console's /ledger (ledger_in_child) from this process: (its wall time in s, the
    longest gap in ms between the ticks of a 10 ms ticker meanwhile)."""
    longest = 0.0
    done = asyncio.Event()

    async def tick() -> None:
        nonlocal longest
        loop = asyncio.get_running_loop()
        last = loop.time()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = loop.time()
            longest = max(longest, now - last - 0.01)
            last = now

    ticker = asyncio.create_task(tick())
    started = time.perf_counter()
    try:
        await ledger_in_child(url, MONTH, "Asia/Shanghai")
    finally:
        done.set()
        await ticker
    return time.perf_counter() - started, longest * 1000


def measure(label: str, url: str, tree: Path, runs: int, work: Path) -> None:
    figures = [export(url, tree, work / f"{label.split()[0]}.xlsx") for _ in range(runs)]
    walls = [w for w, _, out in figures if not out.startswith("FAILED")]
    print(f"{label}: {figures[-1][2]}")
    if walls:
        print(f"  wall median {statistics.median(walls):.1f} s (runs: "
              f"{', '.join(f'{w:.1f}' for w in walls)}), peak RSS "
              f"{max(m for _, m, _ in figures):.0f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", default="sqlite", help="sqlite, or a postgresql+asyncpg URL")
    parser.add_argument("--baseline", type=Path, help="another source tree to measure first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        work = Path(tmp)
        url = (f"sqlite+aiosqlite:///{work / 'ledger.db'}" if args.db == "sqlite" else args.db)
        started = time.perf_counter()
        asyncio.run(prepare(url, args.calls))
        print(f"{args.calls} calls in {MONTH} written in {time.perf_counter() - started:.0f} s "
              f"({url.split(':', 1)[0]}); target: within 30 s, under 500 MB")
        if args.baseline:
            measure(f"baseline ({args.baseline})", url, args.baseline, args.runs, work)
        measure(f"this tree ({TREE})", url, TREE, args.runs, work)
        wall, stall = asyncio.run(loop_stall(url))
        print(f"  the console's export: {wall:.1f} s, the event loop's longest stall meanwhile "
              f"{stall:.0f} ms (a 10 ms ticker)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
