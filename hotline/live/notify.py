"""One node's PostgreSQL LISTEN/NOTIFY connection, shared by what travels between nodes.

The live hub (``hotline_live``, pg_hub.py), the warm-transfer requests (``hotline_requests``,
pg_requests.py) and the session revocations (``hotline_sessions``, pg_revocations.py) each
register a channel and a handler here before ``run``; the bus then listens on all of them
over one connection and sends what they queue. Sending never holds the caller up: the outbox
is bounded and its oldest message is dropped when full. While the database is away the bus
reconnects every ``retry_s`` (a supervised task), and what it could not send goes after the
reconnect. Every node hears its own messages too: the handlers skip them by their node name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg  # type: ignore[import-untyped]

log = logging.getLogger(__name__)

MAX_PAYLOAD = 7999  # NOTIFY's limit is 8000 bytes
Handler = Callable[[str], None]


def asyncpg_dsn(url: str) -> str:
    """SQLAlchemy's postgresql+asyncpg://… as asyncpg takes it."""
    return "postgresql://" + url.split("://", 1)[1]


class NotifyBus:
    def __init__(self, db_url: str, outbox_size: int = 1024) -> None:
        self.dsn = asyncpg_dsn(db_url)
        self.outbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue(outbox_size)
        self.sent = 0
        self.unsent = 0  # dropped from a full outbox
        self.listening = asyncio.Event()
        self._handlers: dict[str, Handler] = {}

    def on(self, channel: str, handler: Handler) -> None:
        """Hand every payload heard on ``channel`` to ``handler`` (before ``run``)."""
        if channel in self._handlers:
            raise ValueError(f"channel {channel!r} already has a handler")
        self._handlers[channel] = handler

    def send(self, channel: str, payload: str) -> None:
        if len(payload.encode()) > MAX_PAYLOAD:
            raise ValueError(f"{len(payload.encode())} bytes: over NOTIFY's limit")
        if self.outbox.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.outbox.get_nowait()
            self.unsent += 1
        self.outbox.put_nowait((channel, payload))

    def _heard(self, _conn: Any, _pid: int, channel: str, payload: str) -> None:
        handler = self._handlers.get(channel)
        if handler is not None:
            handler(payload)

    async def run(self, retry_s: float = 1.0) -> None:
        """Listen and send, for ever; reconnects after the database is lost."""
        while True:
            try:
                await self._connected()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                self.listening.clear()
                log.warning("notify bus: database lost (%s); again in %.0f s", exc, retry_s)
                await asyncio.sleep(retry_s)

    async def _connected(self) -> None:
        conn = await asyncpg.connect(self.dsn, timeout=10)
        try:
            for channel in self._handlers:
                await conn.add_listener(channel, self._heard)
            self.listening.set()
            while True:
                channel, payload = await self.outbox.get()
                try:
                    await conn.execute("SELECT pg_notify($1, $2)", channel, payload)
                except BaseException:
                    with contextlib.suppress(asyncio.QueueFull):
                        self.outbox.put_nowait((channel, payload))  # sent after the reconnect
                    raise
                self.sent += 1
        finally:
            self.listening.clear()
            with contextlib.suppress(Exception):
                await asyncio.shield(conn.close(timeout=2))
