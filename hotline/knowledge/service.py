"""The knowledge base for the running hotline (the desk, the console): searches, items, the
keepers' edits, and the 一次性告知 mark on a call's record."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any, Protocol

from hotline.knowledge.items import Item
from hotline.knowledge.search import KnowledgeResult, search
from hotline.knowledge.store import KnowledgeStore, Saved, Version
from hotline.knowledge.tokens import words

TOLD = "knowledge_told"  # the call event: which items the operator told the caller, all at once


class CallEvents(Protocol):
    async def add_event(self, call_id: int, kind: str, data: dict[str, Any],
                        at: datetime | None = None, *, key: str | None = None) -> None: ...


class KnowledgeService:
    def __init__(self, store: KnowledgeStore, calls: CallEvents) -> None:
        self.store = store
        self.calls = calls

    async def warm(self) -> None:
        """Load jieba's dictionary (about a second) before the first caller speaks."""
        await asyncio.to_thread(words, "一次性告知")

    async def search(self, question: str, limit: int = 5, unit: str = "") -> KnowledgeResult:
        return await search(self.store, question, limit, unit)

    async def item(self, item_id: str) -> Item:
        return await self.store.get(item_id)

    async def versions(self, item_id: str) -> list[Version]:
        return await self.store.versions(item_id)

    async def listing(self, unit: str = "", offset: int = 0, limit: int = 100,
                      review_before: date | None = None) -> tuple[list[Item], bool]:
        return await self.store.listing(unit, offset, limit, review_before)

    async def overdue_count(self, today: date, unit: str = "") -> int:
        """How many items (of one unit) are past their review date."""
        return await self.store.count_listed(unit, review_before=today)

    async def units(self) -> list[str]:
        return await self.store.units()

    async def edit(self, item: Item, by: str, now: datetime) -> Saved:
        return await self.store.save([item], by, "console", now)

    async def told(self, call_id: int, item_ids: list[str], by: str, now: datetime
                   ) -> list[Item]:
        """Mark on the call's record that ``by`` told the caller these items all at once
        (一次性告知): each with the version that was told. NotFoundError for an unknown item."""
        items = [await self.store.get(i) for i in dict.fromkeys(item_ids)]
        await self.calls.add_event(call_id, TOLD, {
            "by": by, "items": [{"id": i.id, "title": i.title, "version": i.version}
                                for i in items]}, now)
        return items
