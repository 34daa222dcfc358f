"""Directory lookup: accuracy and latency on noisy, recogniser-style queries, against the naive
baseline (rapidfuzz WRatio over every name), at 30k entries and at 1M entries, plus the time
to import 1M CSV rows.

    .venv/bin/python -m bench.directory [--small 30000] [--large 1000000] [--queries 1000]

(`bench.directory_serve` times `serve` itself with the saved index at 1M entries.)

Goals: 30k top-1 >= 97 %, absent rejected >= 90 %, present right and confident >= 90 %;
1M p99 <= 20 ms, top-1 >= 95 %, index <= 1 GB; import of 1M rows <= 120 s.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gc
import resource
import statistics
import tempfile
import time
from pathlib import Path

from rapidfuzz import fuzz, process

from bench.directory_data import Query, build_directory, build_queries
from hotline.directory.importer import import_csv
from hotline.directory.index import DirectoryIndex
from hotline.directory.query import clean_query
from hotline.directory.records import HEADER, Entry
from hotline.store.database import Database


def evaluate(index: DirectoryIndex, queries: list[Query]) -> dict[str, float]:
    right = confident_right = present = absent = rejected = 0
    times: list[float] = []
    for q in queries:
        t = time.perf_counter()
        r = index.search(q.text, limit=5)
        times.append((time.perf_counter() - t) * 1000)
        top = r.hits[0].entry if r.hits else None
        if q.expected is None:
            absent += 1
            rejected += not r.confident
            continue
        present += 1
        row = index.find(q.expected)
        assert row is not None, q.expected
        ok = top is not None and (top.id == q.expected or top.phone == index.entry(row).phone)
        right += ok
        confident_right += ok and r.confident
    times.sort()
    return {"top1": right / present, "confident_right": confident_right / present,
            "rejected": rejected / max(absent, 1), "p50": statistics.median(times),
            "p99": times[int(len(times) * 0.99) - 1]}


def naive(entries: list[Entry], queries: list[Query], limit: int) -> dict[str, float]:
    names = [e.name for e in entries]
    right = n = 0
    times: list[float] = []
    for q in [q for q in queries if q.expected is not None][:limit]:
        t = time.perf_counter()
        _, _, i = process.extractOne(clean_query(q.text), names, scorer=fuzz.WRatio)
        times.append((time.perf_counter() - t) * 1000)
        right += entries[i].id == q.expected
        n += 1
    return {"top1": right / n, "p50": statistics.median(times)}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(label: str, size: int, m: dict[str, float], base: dict[str, float],
           build_s: float, queries: list[Query]) -> None:
    present = [q for q in queries if q.expected is not None]
    print(f"{label}: {size:,} entries, index built in {build_s:.1f} s; {len(present)} present "
          f"and {len(queries) - len(present)} absent queries ({sum(q.redrawn for q in present)}"
          " present ones redrawn: their first noise sounded exactly like another listed name)")
    print(f"  hotline: top-1 {m['top1']:.1%}  right+confident {m['confident_right']:.1%}  "
          f"absent rejected {m['rejected']:.1%}  p50 {m['p50']:.2f} ms  p99 {m['p99']:.2f} ms")
    print(f"  naive WRatio scan: top-1 {base['top1']:.1%}  p50 {base['p50']:.1f} ms  "
          f"(speed-up at p50: {base['p50'] / m['p50']:.0f}x)")


async def time_import(entries: list[Entry], folder: Path) -> float:
    path = folder / "directory.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for e in entries:
            w.writerow([e.id, e.name, "|".join(e.aliases), e.industry, e.district, e.address,
                        e.phone, e.transfer_to])
    db = Database(f"sqlite+aiosqlite:///{folder / 'bench.db'}")
    await db.upgrade()
    t = time.perf_counter()
    await import_csv(db, path, replace=True, progress=False)
    took = time.perf_counter() - t
    await db.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=30_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()
    small = build_directory(args.small)
    queries = build_queries(small, present=args.queries, absent=args.queries // 4)
    t = time.perf_counter()
    index = DirectoryIndex(small, home_district="万州区")
    build = time.perf_counter() - t
    report("30k", len(small), evaluate(index, queries), naive(small, queries, 200), build,
           queries)
    print("  goals: top-1 >= 97%, right+confident >= 90%, absent rejected >= 90%")
    if args.large <= 0:
        return
    del index
    gc.collect()
    large = build_directory(args.large, seed=8)
    queries = build_queries(large, present=args.queries, absent=args.queries // 4, seed=12)
    with tempfile.TemporaryDirectory() as tmp:
        took = asyncio.run(time_import(large, Path(tmp)))
    print(f"import: {len(large):,} CSV rows into SQLite in {took:.1f} s (goal <= 120 s)")
    before = rss_mb()
    t = time.perf_counter()
    index = DirectoryIndex(large, home_district="万州区")
    build = time.perf_counter() - t
    grown = rss_mb() - before
    report("1M", len(large), evaluate(index, queries), naive(large, queries, 5), build,
           queries)
    print(f"  index memory: peak RSS grew {grown:.0f} MB while building (postings "
          f"{index.postings_bytes / 2**20:.0f} MB); goals: p99 <= 20 ms, top-1 >= 95%, "
          "<= 1 GB")


if __name__ == "__main__":
    main()
