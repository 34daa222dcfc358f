"""One directory entry added, edited or removed by hand, with a row in the change log in the
same transaction, and what changed since a given change (for the running index's overlay)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select

from hotline.directory.importer import row_values
from hotline.directory.records import DEFAULT_TRANSFER_PATTERN, Entry, check_entry
from hotline.errors import HotlineError
from hotline.store.database import Database
from hotline.store.models import DirectoryChange, DirectoryEntry, DirectoryImport


@dataclass(frozen=True)
class DirectoryVersion:
    """Where the directory stands: the latest import, the latest change by hand, and how
    many entries it has."""

    imported: int
    changed: int
    count: int


async def directory_state(db: Database) -> DirectoryVersion:
    async with db.unit() as s:
        imported = await s.scalar(select(func.max(DirectoryImport.id)))
        changed = await s.scalar(select(func.max(DirectoryChange.id)))
        count = await s.scalar(select(func.count()).select_from(DirectoryEntry))
    return DirectoryVersion(int(imported or 0), int(changed or 0), int(count or 0))


async def latest_ids(db: Database) -> tuple[int, int]:
    """(the latest import, the latest change by hand): two primary-key maxima, cheap enough
    to ask twice a second."""
    async with db.unit() as s:
        imported = await s.scalar(select(func.max(DirectoryImport.id)))
        changed = await s.scalar(select(func.max(DirectoryChange.id)))
    return int(imported or 0), int(changed or 0)


async def save_entry(db: Database, entry: Entry, *, by: str = "", must_exist: bool | None = None,
                     transfer_pattern: str = DEFAULT_TRANSFER_PATTERN) -> str:
    """Add or replace one entry (checked as an imported row); returns "add" or "edit".
    ``must_exist`` True refuses a new id, False refuses an existing one."""
    entry = check_entry(entry, transfer_pattern)
    async with db.unit() as s:
        row = await s.get(DirectoryEntry, entry.id)
        if must_exist is True and row is None:
            raise HotlineError(f"no directory entry with id {entry.id!r}")
        if must_exist is False and row is not None:
            raise HotlineError(f"id {entry.id!r} is already in the directory (use edit)")
        values = row_values(entry)
        if row is None:
            s.add(DirectoryEntry(**values))
            action = "add"
        else:
            for key, value in values.items():
                setattr(row, key, value)
            action = "edit"
        s.add(DirectoryChange(at=datetime.now(UTC), entry_id=entry.id, action=action,
                              by=by[:64]))
    return action


async def remove_entry(db: Database, entry_id: str, *, by: str = "") -> None:
    async with db.unit() as s:
        gone = await s.execute(delete(DirectoryEntry).where(DirectoryEntry.id == entry_id))
        if not gone.rowcount:  # type: ignore[attr-defined]
            raise HotlineError(f"no directory entry with id {entry_id!r}")
        s.add(DirectoryChange(at=datetime.now(UTC), entry_id=entry_id, action="remove",
                              by=by[:64]))


async def entry_by_id(db: Database, entry_id: str) -> Entry | None:
    async with db.unit() as s:
        row = await s.get(DirectoryEntry, entry_id)
        return None if row is None else _entry(row)


async def changes_since(db: Database, after: int) -> tuple[int, dict[str, Entry | None]]:
    """The latest change id, and every entry changed after ``after`` as it is now (None:
    removed)."""
    async with db.unit() as s:
        rows = (await s.execute(select(DirectoryChange.id, DirectoryChange.entry_id).where(
            DirectoryChange.id > after).order_by(DirectoryChange.id))).all()
        if not rows:
            return after, {}
        ids = sorted({r[1] for r in rows})
        now: dict[str, Entry | None] = dict.fromkeys(ids)
        for i in range(0, len(ids), 900):
            found = await s.scalars(select(DirectoryEntry).where(
                DirectoryEntry.id.in_(ids[i:i + 900])))
            for row in found:
                now[row.id] = _entry(row)
    return int(rows[-1][0]), now


def _entry(r: DirectoryEntry) -> Entry:
    return Entry(r.id, r.name, tuple(a for a in r.aliases.split("|") if a), r.industry,
                 r.district, r.address, r.phone, r.transfer_to, bool(r.hot))
