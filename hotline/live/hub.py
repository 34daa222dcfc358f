"""An in-process publish/subscribe hub for call happenings.

The call flow's record writes are published here (see ``publishing_store``); console
WebSockets subscribe. A slow subscriber never holds the flow up: its queue is bounded and
the oldest message is dropped (the page can always reload the record). One node's; with
several nodes on PostgreSQL, ``PgLiveHub`` (pg_hub.py) carries it to every node.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Happening:
    call_id: int
    kind: str  # a record event kind ("transcript", "seat_offered", ...), "arrived" or "update"
    data: dict[str, Any] = field(default_factory=dict)
    origin: str = ""  # the node it happened on, when another node's (hotline/live/pg_hub.py)


class LiveHub:
    def __init__(self, queue_size: int = 256) -> None:
        self.queue_size = queue_size
        self._queues: set[asyncio.Queue[Happening]] = set()
        self.dropped = 0

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def publish(self, happening: Happening) -> None:
        for q in self._queues:
            if q.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    q.get_nowait()
                self.dropped += 1
            q.put_nowait(happening)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Happening]]:
        q: asyncio.Queue[Happening] = asyncio.Queue(self.queue_size)
        self._queues.add(q)
        try:
            yield q
        finally:
            self._queues.discard(q)
