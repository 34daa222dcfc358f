"""Knowledge-base search: latency and top-3 at 10k items, on SQLite (FTS5) and PostgreSQL
(tsvector + GIN), against the naive baseline (LIKE '%word%' over every item) in the same run.

    .venv/bin/python -m bench.knowledge [--items 10000] [--rounds 3] [--pg URL]

PostgreSQL is measured when --pg or HOTLINE_TEST_PG_URL gives a database (scripts/test.sh's
throw-away cluster: `source scripts/postgres.sh; start_test_postgres`); its schema is dropped
and recreated. Goal: search p95 <= 20 ms with 10k items on both databases.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from hotline.knowledge.search import search
from hotline.knowledge.store import KnowledgeStore
from hotline.knowledge.tokens import words
from hotline.store.database import Database
from tests.knowledge_fixture import bench_items, questions


def _pct(times: list[float], p: float) -> float:
    s = sorted(times)
    return s[min(len(s) - 1, int(len(s) * p))]


async def measure(url: str, count: int, rounds: int) -> dict[str, float]:
    db = Database(url)
    if db.engine.dialect.name == "postgresql":
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await db.upgrade()
    store = KnowledgeStore(db)
    items = bench_items(count)
    t = time.perf_counter()
    await store.save(items, "bench", "bench", datetime.now(UTC))
    import_s = time.perf_counter() - t
    asked = questions()
    for q, _ in asked[:10]:  # warm the caches (jieba, the database's pages)
        await search(store, q, 3)
    times: list[float] = []
    base_times: list[float] = []
    right = base_right = 0
    for _ in range(rounds):
        for q, expected in asked:
            t = time.perf_counter()
            hits = (await search(store, q, 3)).hits
            times.append((time.perf_counter() - t) * 1000)
            right += any(h.id == expected or h.id.startswith(expected + "-") for h in hits)
            t = time.perf_counter()
            base = await store.like_scan(words(q), 3)
            base_right += any(i == expected or i.startswith(expected + "-") for i in base)
            base_times.append((time.perf_counter() - t) * 1000)
    await db.close()
    return {"import_s": import_s, "p50": statistics.median(times), "p95": _pct(times, 0.95),
            "p99": _pct(times, 0.99), "top3": right / len(times),
            "base_top3": base_right / len(times),
            "base_p50": statistics.median(base_times), "base_p95": _pct(base_times, 0.95)}


def report(name: str, r: dict[str, float], count: int) -> None:
    print(f"{name}: {count} items imported in {r['import_s']:.1f} s")
    print(f"  search  p50 {r['p50']:6.2f} ms  p95 {r['p95']:6.2f} ms  p99 {r['p99']:6.2f} ms"
          f"  top-3 {r['top3']:.1%}  (goal p95 <= 20 ms: "
          f"{'met' if r['p95'] <= 20 else 'NOT met'})")
    print(f"  baseline LIKE scan  p50 {r['base_p50']:6.2f} ms  p95 {r['base_p95']:6.2f} ms"
          f"  top-3 {r['base_top3']:.1%}\n  -> search/baseline p50 ratio "
          f"{r['p50'] / r['base_p50']:.2f}, p95 ratio {r['p95'] / r['base_p95']:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pg", default=os.environ.get("HOTLINE_TEST_PG_URL", ""))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        report("SQLite FTS5", asyncio.run(measure(url, args.items, args.rounds)), args.items)
    if args.pg:
        report("PostgreSQL tsvector", asyncio.run(measure(args.pg, args.items, args.rounds)),
               args.items)
    else:
        print("PostgreSQL: not measured (give --pg URL or HOTLINE_TEST_PG_URL)")


if __name__ == "__main__":
    main()
