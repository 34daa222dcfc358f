"""The directory's words for the speech recogniser: what to expect when a caller names an
organisation. The entries marked ``hot`` in the CSV come first, then the entries callers
asked for most (from the lookups on record), each as its name and then its aliases
(人社局, 社保局: what callers say), without repeats."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select

from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.models import DirectoryEntry


class AskedNames:
    def __init__(self, db: Database, calls: CallRepository | None = None) -> None:
        self.db = db
        self.calls = calls or CallRepository(db)

    async def most_asked(self, limit: int, since: datetime | None = None,
                         aliases: bool = True) -> list[str]:
        """At most ``limit`` names: the hot entries (the more asked of them first), then
        the other entries by how many calls asked for them (since ``since``, if given);
        an entry asked for but no longer in the directory is left out."""
        if limit < 1:
            return []
        async with self.db.unit() as s:
            hot_count = await s.scalar(select(func.count()).select_from(DirectoryEntry)
                                       .where(DirectoryEntry.hot)) or 0
        asked = await self.calls.asked_entries(since, limit=hot_count + limit)
        counts = dict(asked)
        async with self.db.unit() as s:
            rows = list((await s.execute(select(
                DirectoryEntry.id, DirectoryEntry.name, DirectoryEntry.aliases,
                DirectoryEntry.hot).where(or_(DirectoryEntry.hot,
                                              DirectoryEntry.id.in_(list(counts)))))).all())
        rows.sort(key=lambda r: (not r[3], -counts.get(r[0], 0), r[1], r[0]))
        words: dict[str, None] = {}
        for _id, name, alias_text, _hot in rows:
            for word in [name, *(alias_text.split("|") if aliases else [])]:
                if word.strip():
                    words.setdefault(word.strip(), None)
                if len(words) == limit:
                    return list(words)
        return list(words)
