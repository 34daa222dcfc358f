"""The live hub across nodes: PostgreSQL LISTEN/NOTIFY (asyncpg).

Every happening is published to this node's subscribers at once, as ``LiveHub`` does, and
sent on the channel ``hotline_live``; each node listens and hands the other nodes'
happenings to its own subscribers (``origin`` names the node), so an operator's console on
any node sees the pop-ups and transcripts of their calls wherever they run.

Happenings travel as explicit JSON (``to_wire``/``from_wire``). NOTIFY carries at most 8000
bytes: a larger happening goes without its data, marked ``truncated`` (a console then
reloads the record, which holds everything). Sending never holds the call flow up: the
outbox is bounded and its oldest message is dropped when full; while the database is away
the sender and the listener reconnect with backoff (a supervised task).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from hotline.live.hub import Happening, LiveHub

log = logging.getLogger(__name__)

CHANNEL = "hotline_live"
MAX_PAYLOAD = 7999  # NOTIFY's limit is 8000 bytes


def to_wire(node: str, h: Happening) -> str:
    body = {"v": 1, "node": node, "call": h.call_id, "kind": h.kind, "data": h.data}
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)
    if len(text.encode()) <= MAX_PAYLOAD:
        return text
    body["data"] = {"truncated": True}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def from_wire(text: str) -> tuple[str, Happening]:
    """(node, happening); ValueError when it is not a happening of ours."""
    try:
        body = json.loads(text)
        if body.get("v") != 1:
            raise ValueError(f"unknown version {body.get('v')!r}")
        data = body["data"]
        if not isinstance(data, dict):
            raise ValueError("data is not an object")
        return str(body["node"]), Happening(int(body["call"]), str(body["kind"]), data,
                                            origin=str(body["node"]))
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a happening: {exc}") from None


def asyncpg_dsn(url: str) -> str:
    """SQLAlchemy's postgresql+asyncpg://… as asyncpg takes it."""
    return "postgresql://" + url.split("://", 1)[1]


class PgLiveHub(LiveHub):
    def __init__(self, db_url: str, node: str, queue_size: int = 256,
                 outbox_size: int = 1024) -> None:
        super().__init__(queue_size)
        self.dsn = asyncpg_dsn(db_url)
        self.node = node
        self.outbox: asyncio.Queue[str] = asyncio.Queue(outbox_size)
        self.sent = 0
        self.received = 0
        self.unsent = 0  # dropped from a full outbox
        self.listening = asyncio.Event()

    def publish(self, happening: Happening) -> None:
        super().publish(happening)
        if happening.origin:
            return
        if self.outbox.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.outbox.get_nowait()
            self.unsent += 1
        self.outbox.put_nowait(to_wire(self.node, happening))

    def _heard(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            node, happening = from_wire(payload)
        except ValueError as exc:
            log.warning("live hub: %s", exc)
            return
        if node == self.node:
            return
        self.received += 1
        super().publish(happening)

    async def run(self, retry_s: float = 1.0) -> None:
        """Listen and send, for ever; reconnects after the database is lost."""
        while True:
            try:
                await self._connected()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                self.listening.clear()
                log.warning("live hub: database lost (%s); again in %.0f s", exc, retry_s)
                await asyncio.sleep(retry_s)

    async def _connected(self) -> None:
        conn = await asyncpg.connect(self.dsn, timeout=10)
        try:
            await conn.add_listener(CHANNEL, self._heard)
            self.listening.set()
            while True:
                payload = await self.outbox.get()
                try:
                    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
                except BaseException:
                    with contextlib.suppress(asyncio.QueueFull):
                        self.outbox.put_nowait(payload)  # sent after the reconnect
                    raise
                self.sent += 1
        finally:
            self.listening.clear()
            with contextlib.suppress(Exception):
                await asyncio.shield(conn.close(timeout=2))
