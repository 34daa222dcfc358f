"""Import a directory CSV into the database in one transaction, and load it back.

The whole file is validated first; a single bad row stops the import with the list of bad
rows, and nothing is written. The rows then go in by chunks inside one transaction, so a
failure half-way (a full disk, a database outage) rolls everything back.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, insert, select
from tqdm import tqdm

from hotline.directory.records import DEFAULT_TRANSFER_PATTERN, CsvProblems, Entry, parse_csv
from hotline.errors import StoreError
from hotline.store.database import Database
from hotline.store.models import DirectoryEntry, DirectoryImport

CHUNK = 20_000


async def import_csv(db: Database, path: Path, *, replace: bool = False,
                     progress: bool = True,
                     transfer_pattern: str = DEFAULT_TRANSFER_PATTERN) -> int:
    """Validate and import ``path``; returns the number of rows. Raises CsvProblems."""
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    entries, problems = parse_csv(data, str(path), transfer_pattern)
    if problems:
        raise CsvProblems(str(path), problems)
    bar = tqdm(total=len(entries), unit="rows", desc="importing", file=sys.stderr,
               disable=not progress or len(entries) < 50_000)
    try:
        async with db.unit() as s:
            if replace:
                await s.execute(delete(DirectoryEntry))
            else:
                ids = [e.id for e in entries]
                clash: list[str] = []
                for i in range(0, len(ids), 900):
                    clash += (await s.scalars(select(DirectoryEntry.id).where(
                        DirectoryEntry.id.in_(ids[i:i + 900])))).all()
                if clash:
                    raise StoreError(f"{len(clash)} id(s) already in the directory (e.g. "
                                     f"{', '.join(sorted(clash)[:5])}); use --replace to "
                                     "replace the whole directory")
            for i in range(0, len(entries), CHUNK):
                chunk = entries[i:i + CHUNK]
                await s.execute(insert(DirectoryEntry), [row_values(e) for e in chunk])
                bar.update(len(chunk))
            s.add(DirectoryImport(at=datetime.now(UTC), source=path.name[:255],
                                  rows=len(entries), replaced=replace))
    finally:
        bar.close()
    return len(entries)


def row_values(e: Entry) -> dict[str, str | bool]:
    return {"id": e.id, "name": e.name, "aliases": "|".join(e.aliases), "industry": e.industry,
            "district": e.district, "address": e.address, "phone": e.phone,
            "transfer_to": e.transfer_to, "hot": e.hot}


async def load_entries(db: Database) -> list[Entry]:
    async with db.unit() as s:
        result = await s.execute(select(
            DirectoryEntry.id, DirectoryEntry.name, DirectoryEntry.aliases,
            DirectoryEntry.industry, DirectoryEntry.district, DirectoryEntry.address,
            DirectoryEntry.phone, DirectoryEntry.transfer_to, DirectoryEntry.hot))
        return [Entry(r[0], r[1], tuple(a for a in r[2].split("|") if a), r[3], r[4], r[5],
                      r[6], r[7], bool(r[8])) for r in result]
