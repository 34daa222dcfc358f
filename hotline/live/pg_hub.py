"""The live hub across nodes: PostgreSQL LISTEN/NOTIFY (asyncpg).

Every happening is published to this node's subscribers at once, as ``LiveHub`` does, and
sent on the channel ``hotline_live``; each node listens and hands the other nodes'
happenings to its own subscribers (``origin`` names the node), so an operator's console on
any node sees the pop-ups and transcripts of their calls wherever they run.

Happenings travel as explicit JSON (``to_wire``/``from_wire``). NOTIFY carries at most 8000
bytes: a larger happening goes without its data, marked ``truncated`` (a console then
reloads the record, which holds everything). Sending never holds the call flow up: the
outbox is bounded and its oldest message is dropped when full; while the database is away
the sender and the listener reconnect with backoff (a supervised task). The connection is
the node's ``NotifyBus`` (notify.py), which carries its other channels too.
"""

from __future__ import annotations

import asyncio
import json
import logging

from hotline.live.hub import Happening, LiveHub
from hotline.live.notify import MAX_PAYLOAD, NotifyBus, asyncpg_dsn

log = logging.getLogger(__name__)

CHANNEL = "hotline_live"
__all__ = ["CHANNEL", "MAX_PAYLOAD", "PgLiveHub", "asyncpg_dsn", "from_wire", "to_wire"]


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


class PgLiveHub(LiveHub):
    """``bus``: the node's NOTIFY connection, shared with its other channels (one of its
    own when not given); ``run`` runs it."""

    def __init__(self, db_url: str, node: str, queue_size: int = 256,
                 outbox_size: int = 1024, bus: NotifyBus | None = None) -> None:
        super().__init__(queue_size)
        self.bus = bus or NotifyBus(db_url, outbox_size)
        self.node = node
        self.received = 0
        self.bus.on(CHANNEL, self._heard)

    @property
    def listening(self) -> asyncio.Event:
        return self.bus.listening

    def publish(self, happening: Happening) -> None:
        super().publish(happening)
        if not happening.origin:
            self.bus.send(CHANNEL, to_wire(self.node, happening))

    def _heard(self, payload: str) -> None:
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
        await self.bus.run(retry_s)
