"""The Directory port for the running hotline: the index built off the event loop, searched
in a worker thread, and rebuilt when a new import lands in the database."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from hotline.directory.importer import directory_version, load_entries
from hotline.directory.index import DirectoryIndex, SearchResult
from hotline.directory.records import Entry
from hotline.errors import StoreError
from hotline.store.database import Database

log = logging.getLogger(__name__)


class DirectoryService:
    def __init__(self, index: DirectoryIndex | None = None) -> None:
        self.index = index or DirectoryIndex([])
        self.version: tuple[int, int] = (-1, -1)
        self.on_lookup_ms: Callable[[float], None] | None = None  # the metrics

    async def lookup(self, text: str) -> SearchResult:
        started = time.perf_counter()
        result = await asyncio.to_thread(self.index.search, text)
        if self.on_lookup_ms is not None:
            self.on_lookup_ms((time.perf_counter() - started) * 1000)
        return result

    async def entry(self, entry_id: str) -> Entry | None:
        """One entry by its id (a scan off the loop: for the rare transfer, not lookups)."""
        entries = self.index.entries
        return await asyncio.to_thread(lambda: next(
            (e for e in entries if e.id == entry_id), None))

    async def related(self, entry: Entry) -> list[Entry]:
        return await asyncio.to_thread(self.index.related, entry)

    async def refresh(self, db: Database, home_district: str) -> bool:
        """Rebuild the index if the directory changed since the last build."""
        try:
            version = await directory_version(db)
            if version == self.version:
                return False
            entries = await load_entries(db)
        except StoreError as exc:
            log.error("cannot load the directory: %s", exc)
            return False
        self.index = await asyncio.to_thread(DirectoryIndex, entries, home_district)
        self.version = version
        log.info("directory: %d entries indexed", len(entries))
        return True

    async def keep_fresh(self, db: Database, home_district: str, every_s: float = 30) -> None:
        """Check for a new import every ``every_s`` (call refresh() once at start-up)."""
        while True:
            await asyncio.sleep(every_s)
            await self.refresh(db, home_district)
