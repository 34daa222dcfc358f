"""The index in use: a base index (memory-mapped from its file, or built in memory) with the
entries changed since it was built laid over it. Changed entries (added or edited) are
searched in a small index of their own, built with the base's districts and industries so
that scores compare; removed and edited entries are masked out of the base. The overlay is
folded in at the next full rebuild. Each change makes a new LiveIndex: searches running in
worker threads keep the one they started with."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from hotline.directory.index import DirectoryIndex, SearchResult, confident
from hotline.directory.records import Entry

VOCABULARY_SAMPLE = 20_000  # entries handed to the recogniser's vocabulary beyond the hot ones


class LiveIndex:
    def __init__(self, base: DirectoryIndex,
                 changed: Mapping[str, Entry | None] | None = None) -> None:
        self.base = base
        self.changed: dict[str, Entry | None] = dict(changed or {})
        dead = np.zeros(len(base), dtype=bool)
        for entry_id in self.changed:
            n = base.find(entry_id)
            if n is not None:
                dead[n] = True
        self._dead = dead if dead.any() else None
        self._masked = int(dead.sum())
        fresh = [e for e in self.changed.values() if e is not None]
        self.delta = DirectoryIndex(fresh, base.home_district, base.districts,
                                    base.industries) if fresh else None

    def with_changes(self, more: Mapping[str, Entry | None]) -> LiveIndex:
        return LiveIndex(self.base, {**self.changed, **more})

    def __len__(self) -> int:
        return len(self.base) - self._masked + (len(self.delta) if self.delta else 0)

    @property
    def overlay_size(self) -> int:
        return len(self.changed)

    def search(self, query: str, limit: int = 5) -> SearchResult:
        r = self.base.search(query, limit, self._dead)
        if self.delta is None:
            return r
        d = self.delta.search(query, limit)
        if r.category or d.category:
            hits = (r.hits + d.hits)[:limit]
        else:  # stable: the base's hit first among equal scores
            hits = sorted(r.hits + d.hits, key=lambda h: -h.score)[:limit]
        return SearchResult(r.query, r.cleaned, not r.category and confident(hits), hits,
                            r.district or d.district, r.industry or d.industry, r.category)

    def entry(self, entry_id: str) -> Entry | None:
        if entry_id in self.changed:
            return self.changed[entry_id]
        n = self.base.find(entry_id)
        return None if n is None else self.base.entry(n)

    def related(self, entry: Entry, limit: int = 3) -> list[Entry]:
        found = self.base.related(entry, limit, self._dead)
        if self.delta is not None:
            found += self.delta.related(entry, limit)
        return found[:limit]

    def vocabulary_entries(self) -> Iterator[Entry]:
        """What the recogniser's vocabulary is made from: the hot entries, then the first
        VOCABULARY_SAMPLE others (the hint holds a few dozen names: the whole of a large
        directory is never needed, and would be a Python object per entry)."""
        dead = self._dead
        hot = [int(n) for n in self.base.hot_rows() if dead is None or not dead[n]]
        yield from self.base.entries(hot)
        if self.delta is not None:
            yield from self.delta.entries()
        taken = set(hot)
        rest = (n for n in range(min(len(self.base), VOCABULARY_SAMPLE + len(hot)))
                if n not in taken and (dead is None or not dead[n]))
        yield from self.base.entries(rest)
