"""Building the directory index from the database, and saving it: in a child process for the
running hotline (``python -m hotline.directory.rebuild PATH``, the database URL in the
environment), so the server never holds the million entries as Python objects, only the
memory-mapped file; in the process itself where there is no file (tests, one-off searches).

The file records what it was built from (``meta["source"]``): which database, the latest
import and the latest change by hand, and the syllable alphabet. ``stale_reason`` says why a
file no longer describes the database."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hotline.config import hide_password
from hotline.directory import indexfile
from hotline.directory.build import Builder, IndexData
from hotline.directory.edits import latest_ids
from hotline.directory.pinyin import alphabet_digest
from hotline.directory.records import Entry
from hotline.errors import StoreError
from hotline.store.database import Database
from hotline.store.models import DirectoryEntry

_URL_ENV = "HOTLINE_REBUILD_DB_URL"
_CHUNK = 20_000


def database_id(url: str) -> str:
    return hashlib.blake2b(hide_password(url).encode(), digest_size=8).hexdigest()


def source_of(url: str, imported: int, changed: int) -> dict[str, Any]:
    return {"db": database_id(url), "import": imported, "change": changed,
            "alphabet": alphabet_digest()}


def stale_reason(saved: Any, url: str, imported: int, changed: int) -> str:
    """Why a file built from ``saved`` cannot serve the directory as it is now ("" if it can,
    changes by hand since it was built being laid over it)."""
    if not isinstance(saved, dict):
        return "it does not say what it was built from"
    if saved.get("db") != database_id(url):
        return "it was built from another database"
    if saved.get("alphabet") != alphabet_digest():
        return "it was built with another syllable alphabet"
    if saved.get("import") != imported:
        return (f"the directory was imported since (import {imported}, the file has "
                f"{saved.get('import')})")
    if not isinstance(saved.get("change"), int) or saved["change"] > changed:
        return (f"the database is older than the file (change {changed}, the file has "
                f"{saved.get('change')})")
    return ""


async def build_from(db: Database, path: Path | None) -> IndexData:
    """The index of the directory as it is in ``db`` (saved to ``path`` if given), its rows
    streamed into the builder in chunks."""
    # first: a change made while the entries load is laid over the new index again
    imported, changed = await latest_ids(db)
    async with db.unit() as s:
        districts = (await s.scalars(select(DirectoryEntry.district).distinct())).all()
        industries = (await s.scalars(select(DirectoryEntry.industry).distinct())).all()
        builder = Builder((d for d in districts if d), (i for i in industries if i))
        rows = await s.stream(select(
            DirectoryEntry.id, DirectoryEntry.name, DirectoryEntry.aliases,
            DirectoryEntry.industry, DirectoryEntry.district, DirectoryEntry.address,
            DirectoryEntry.phone, DirectoryEntry.transfer_to, DirectoryEntry.hot))
        async for chunk in rows.partitions(_CHUNK):
            for r in chunk:
                builder.add(Entry(r[0], r[1], tuple(a for a in r[2].split("|") if a), r[3],
                                  r[4], r[5], r[6], r[7], bool(r[8])))
    data = builder.finish()
    data.meta["source"] = source_of(db.url, imported, changed)
    if path is not None:
        await asyncio.to_thread(indexfile.save, data, path)
    return data


async def rebuild_in_child(url: str, path: Path) -> dict[str, Any]:
    """Run the rebuild in a child process; its summary (entries, bytes, seconds, and the
    child's peak memory in MB)."""
    env = {**os.environ, _URL_ENV: url}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hotline.directory.rebuild", str(path), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await proc.communicate()
    except asyncio.CancelledError:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    if proc.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-3:]
        raise StoreError(f"the directory index rebuild failed ({proc.returncode}): "
                         + " | ".join(tail))
    summary: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return summary


async def _main(path: Path) -> dict[str, Any]:
    started = time.perf_counter()
    db = Database(os.environ[_URL_ENV])
    try:
        data = await build_from(db, path)
    finally:
        await db.close()
    size = await asyncio.to_thread(lambda: path.stat().st_size)
    return {"entries": data.meta["count"], "bytes": size,
            "seconds": round(time.perf_counter() - started, 1),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_main(Path(sys.argv[1])))))
