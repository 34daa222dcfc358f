"""The Directory port for the running hotline: the saved index memory-mapped at start-up (or
rebuilt, when it is missing, damaged or stale), searched in a worker thread; changes by hand
laid over it within a poll (half a second); a new import rebuilt in the background (a child
process) while the old index keeps serving."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from hotline.directory import indexfile
from hotline.directory.build import IndexData
from hotline.directory.edits import changes_since, directory_state, latest_ids
from hotline.directory.index import DirectoryIndex, SearchResult
from hotline.directory.live import LiveIndex
from hotline.directory.rebuild import build_from, rebuild_in_child, stale_reason
from hotline.directory.records import Entry
from hotline.errors import StoreError
from hotline.store.database import Database

log = logging.getLogger(__name__)
FOLD_AT = 2000  # changed entries laid over the index before it is rebuilt with them


class DirectoryService:
    def __init__(self, index: DirectoryIndex | None = None, path: Path | None = None,
                 in_process: bool = False) -> None:
        """``path``: where the index is saved (None: built in memory at every start);
        ``in_process``: rebuild in this process rather than in a child."""
        self.live = LiveIndex(index or DirectoryIndex([]))
        self.path = path
        self.in_process = in_process or path is None
        self.version: tuple[int, int] = (-1, -1)  # (import, change) the live index shows
        self.on_lookup_ms: Callable[[float], None] | None = None  # the metrics
        self.home_district = self.live.base.home_district
        self._lock = asyncio.Lock()
        self._rebuild: asyncio.Task[None] | None = None
        self._vocabulary: tuple[tuple[int, int], list[Entry]] | None = None

    async def lookup(self, text: str) -> SearchResult:
        started = time.perf_counter()
        result = await asyncio.to_thread(self.live.search, text)
        if self.on_lookup_ms is not None:
            self.on_lookup_ms((time.perf_counter() - started) * 1000)
        return result

    async def entry(self, entry_id: str) -> Entry | None:
        return await asyncio.to_thread(self.live.entry, entry_id)

    async def related(self, entry: Entry) -> list[Entry]:
        return await asyncio.to_thread(self.live.related, entry)

    def vocabulary_entries(self) -> list[Entry]:
        """The entries the recogniser's vocabulary is made of (decoded once per version)."""
        if self._vocabulary is None or self._vocabulary[0] != self.version:
            self._vocabulary = (self.version, list(self.live.vocabulary_entries()))
        return self._vocabulary[1]

    # -- keeping the index ----------------------------------------------------------------------
    async def start(self, db: Database, home_district: str) -> None:
        """At start-up: the saved index if it can be trusted, else a rebuild (logged why)."""
        self.home_district = home_district
        try:
            data = await asyncio.to_thread(self._saved) if self.path else None
            if data is not None:
                why = await self._adopt(db, data, check=True)
                state = await directory_state(db)
                if why:
                    log.warning("directory index %s is stale (%s): rebuilding", self.path, why)
                elif state.changed == self.version[1] and len(self.live) != state.count:
                    log.warning("directory index %s is stale (it holds %s entries, the "
                                "database %s): rebuilding", self.path, f"{len(self.live):,}",
                                f"{state.count:,}")
                    why = "count"
                elif self.live.overlay_size > FOLD_AT:
                    why = "fold"  # too many changes laid over it: fold them in now
            if data is None or why:
                await self._adopt(db, await self._build(db))
        except StoreError as exc:
            log.error("cannot load the directory: %s", exc)
            return
        log.info("directory: %s entries, %d changed since the index was built",
                 f"{len(self.live):,}", self.live.overlay_size)

    def _saved(self) -> IndexData | None:
        """The saved index if its file is whole (what it was built from is checked next)."""
        assert self.path is not None
        if not self.path.exists():
            log.info("no saved directory index at %s: building it", self.path)
            return None
        try:
            return indexfile.load(self.path)
        except indexfile.IndexFileError as exc:
            log.warning("directory index not trusted: %s: rebuilding", exc)
            return None

    async def _adopt(self, db: Database, data: IndexData, check: bool = False) -> str:
        """Serve ``data`` with the changes made since it was built laid over it; with
        ``check``, not if it is stale (why, returned)."""
        async with self._lock:
            imported, changed = await latest_ids(db)
            why = stale_reason(data.meta.get("source"), db.url, imported, changed)
            if why and check:
                return why
            base = DirectoryIndex.over(data, self.home_district)
            seen, over = await changes_since(db, int(data.meta["source"]["change"]))
            self.live = await asyncio.to_thread(LiveIndex, base, over)
            self.version = (int(data.meta["source"]["import"]), seen)
        return ""

    async def _build(self, db: Database) -> IndexData:
        started = time.perf_counter()
        if self.in_process:
            data = await build_from(db, self.path)
        else:
            assert self.path is not None
            summary = await rebuild_in_child(db.url, self.path)
            data = await asyncio.to_thread(indexfile.load, self.path)
            log.info("directory index rebuilt in a child process in %.1f s (%.0f MB on disk; "
                     "the child peaked at %d MB)", summary["seconds"], summary["bytes"] / 2**20,
                     summary["peak_mb"])
        log.info("directory: %s entries indexed in %.1f s", f"{data.meta['count']:,}",
                 time.perf_counter() - started)
        return data

    async def apply_changes(self, db: Database) -> bool:
        """Lay the changes made by hand since the last look over the index in use."""
        async with self._lock:
            seen, more = await changes_since(db, self.version[1])
            if not more:
                return False
            self.live = await asyncio.to_thread(self.live.with_changes, more)
            self.version = (self.version[0], seen)
        return True

    async def refresh(self, db: Database, home_district: str) -> None:
        """Bring the index up to date now, waiting for a rebuild if one is due."""
        if self.version[0] < 0:
            await self.start(db, home_district)
            return
        self.home_district = home_district
        try:
            imported, _ = await latest_ids(db)
            await self.apply_changes(db)
        except StoreError as exc:
            log.error("cannot read the directory: %s", exc)
            return
        if imported != self.version[0] or self.live.overlay_size > FOLD_AT:
            await self._rebuild_now(db)

    async def poll(self, db: Database) -> None:
        """One look: changes by hand laid over at once; a new import (or too many changes)
        rebuilt in the background while the index in use keeps answering."""
        try:
            imported, _ = await latest_ids(db)
            await self.apply_changes(db)
        except StoreError as exc:
            log.error("cannot read the directory: %s", exc)
            return
        rebuilding = self._rebuild is not None and not self._rebuild.done()
        if not rebuilding and (imported != self.version[0]
                               or self.live.overlay_size > FOLD_AT):
            log.info("directory: %s; rebuilding the index in the background",
                     "a new import" if imported != self.version[0] else "many changes")
            self._rebuild = asyncio.create_task(self._rebuild_now(db))

    async def _rebuild_now(self, db: Database) -> None:
        try:
            await self._adopt(db, await self._build(db))
        except StoreError as exc:
            log.error("directory rebuild failed, the index in use stays: %s", exc)

    async def keep_fresh(self, db: Database, every_s: float = 0.5) -> None:
        """Look for changes every ``every_s`` (call start() once at start-up)."""
        try:
            while True:
                await asyncio.sleep(every_s)
                await self.poll(db)
        finally:
            if self._rebuild is not None:
                self._rebuild.cancel()
