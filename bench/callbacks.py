"""The callback list (/callbacks, `hotline callbacks list`) at scale: N calls over 30 days, one
in 20 abandoned while ringing and half of those callers calling again and getting through;
the list of the last 7 days is derived --runs times. Prints the median time of this tree's
derivation (the missed calls first, then only their callers' calls by the caller index)
and of the baseline, which reads every closed call of the window (the first version), with
the ratio; both must give the same list.

    .venv/bin/python -m bench.callbacks [--calls 300000] [--runs 5] [--db sqlite|URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, text

from bench.fresh_db import fresh_database
from hotline.callbacks.service import CallbackService
from hotline.callbacks.store import CallbackStore
from hotline.domain.callbacks import ClosedCall
from hotline.store.database import Database
from hotline.store.models import Call

DAYS, BATCH = 30, 2000


class Clock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return time.monotonic()


class EveryCallStore(CallbackStore):
    """The baseline: every closed call of the window read, whoever called."""

    async def closed_calls(self, since: datetime) -> list[ClosedCall]:
        query = select(Call.id, Call.caller, Call.arrived_at, Call.disposition,
                       Call.answered_at).where(Call.arrived_at >= since,
                                               Call.ended_at.is_not(None),
                                               Call.channel == "phone") \
            .order_by(Call.arrived_at, Call.id)
        async with self.db.unit() as s:
            rows = (await s.execute(query)).all()
            states, beyond = await self._told(s, since)
        return [ClosedCall(i, caller, at, disposition, answered is not None,
                           states.get(i, ""), i in beyond)
                for i, caller, at, disposition, answered in rows]


async def fill(db: Database, start: datetime, calls: int) -> None:
    step = timedelta(days=DAYS) / calls
    for first in range(0, calls, BATCH):
        rows = []
        for i in range(first, min(calls, first + BATCH)):
            at = start + step * i
            missed = i % 20 == 0
            back = i % 40 == 1  # the caller of call i-1 calls again and gets through
            caller = f"139{(i - 1 if back else i):08d}"
            rows.append({
                "channel_id": f"bulk-{i}", "node": "", "channel": "phone", "caller": caller,
                "called": "12345", "arrived_at": at, "rings": 1 if not missed else 2,
                "answered_at": None if missed else at + timedelta(seconds=3),
                "answered_by": None if missed else "9000",
                "ended_at": at + timedelta(seconds=8 if missed else 90),
                "disposition": "abandoned" if missed else "resolved", "state": "ended",
                "summary": "", "caller_name": "", "caller_title": "", "callback_number": ""})
        async with db.unit() as s:
            await s.execute(insert(Call), rows)


async def run(url: str, calls: int, runs: int) -> None:
    db = await fresh_database(url)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    began = time.perf_counter()
    await fill(db, start, calls)
    if url.startswith("postgresql"):
        async with db.engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    clock = Clock(start + timedelta(days=DAYS))
    print(f"{calls} calls over {DAYS} days written in {time.perf_counter() - began:.0f} s "
          f"({url.split(':', 1)[0]}); the list of the last 7 days")
    figures: dict[str, list[float]] = {}
    lists = {}
    for label, store in (("baseline (every closed call of the window)", EveryCallStore(db)),
                         ("this tree (missed callers only)", CallbackStore(db))):
        service = CallbackService(store, clock, 7)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            listed = await service.current()
            times.append(time.perf_counter() - t)
        figures[label] = times
        lists[label] = ([(e.id, e.missed) for e in listed.entries],
                        [(c.entry_id, c.how) for c in listed.cleared])
    await db.close()
    (base_label, base), (this_label, this) = figures.items()
    base_list, this_list = lists.values()
    assert base_list == this_list, "the two derivations disagree"
    print(f"  {len(this_list[0])} entries open, {len(this_list[1])} cleared")
    for label, times in figures.items():
        print(f"  {label}: median {statistics.median(times) * 1000:.0f} ms "
              f"(runs: {', '.join(f'{t * 1000:.0f}' for t in times)})")
    print(f"  ratio baseline / this tree: "
          f"{statistics.median(base) / statistics.median(this):.1f}x")
    del base_label, this_label


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", default="sqlite", help="sqlite, or a postgresql+asyncpg URL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-callbacks-") as tmp:
        url = (f"sqlite+aiosqlite:///{Path(tmp) / 'callbacks.db'}" if args.db == "sqlite"
               else args.db)
        asyncio.run(run(url, args.calls, args.runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
