"""Session revocations across nodes: PostgreSQL LISTEN/NOTIFY on ``hotline_sessions``.

A node that ends sessions (a logout, a password change, a disable, a removal) deletes the
rows and then announces the user's name here; every other node drops that user's cached
sessions and re-checks that user's open WebSockets against the database at once
(hotline/web/sessions.py says why the name travels and not the session's key).

Messages are typed here and travel as explicit JSON; one that is not ours is logged and
ignored.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from hotline.live.notify import NotifyBus
from hotline.store.database import Database

log = logging.getLogger(__name__)

CHANNEL = "hotline_sessions"
VERSION = 1


@dataclass(frozen=True)
class Revocation:
    """``node`` ended sessions of ``user`` (some or all of them: the database says which)."""

    node: str
    user: str


def to_wire(revocation: Revocation) -> str:
    return json.dumps({"v": VERSION, "node": revocation.node, "user": revocation.user},
                      ensure_ascii=False, separators=(",", ":"))


def from_wire(text: str) -> Revocation:
    """The revocation, or ValueError naming what is wrong (never quoting the payload)."""
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError("not JSON") from None
    if not isinstance(body, dict) or body.get("v") != VERSION:
        raise ValueError("not a revocation of this version")
    node, user = body.get("node"), body.get("user")
    if not isinstance(node, str) or not isinstance(user, str) or not user:
        raise ValueError("node or user missing")
    return Revocation(node, user)


CLI_ORIGIN = "cli"  # not a node's name: every node, the command's own too, takes it up


async def announce_from_cli(db: Database, user: str) -> bool:
    """`hotline users passwd|disable|remove` ended ``user``'s sessions (the rows are gone):
    tell every running node at once, as a console's logout does. PostgreSQL only (a SQLite
    node is one process, which reads the rows again within recheck_s); False if not sent."""
    if db.engine.dialect.name != "postgresql":
        return False
    async with db.engine.begin() as conn:  # sent when this commits
        await conn.execute(text("SELECT pg_notify(:channel, :payload)"),
                           {"channel": CHANNEL,
                            "payload": to_wire(Revocation(CLI_ORIGIN, user))})
    return True


class PgRevocations:
    """The ``Revocations`` port of hotline/web/sessions.py over the node's NOTIFY bus."""

    def __init__(self, bus: NotifyBus, node: str) -> None:
        if not node:
            raise ValueError("revocations across nodes need this node's name (HOTLINE_NODE)")
        self.bus = bus
        self.node = node
        self.received = 0
        self._heard_by: Callable[[str], Coroutine[Any, Any, None]] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        bus.on(CHANNEL, self._heard)

    def listen(self, heard: Callable[[str], Coroutine[Any, Any, None]]) -> None:
        """``heard(user)`` is awaited for every other node's revocation (one listener)."""
        self._heard_by = heard

    def announce(self, user: str) -> None:
        self.bus.send(CHANNEL, to_wire(Revocation(self.node, user)))

    def _heard(self, payload: str) -> None:
        try:
            revocation = from_wire(payload)
        except ValueError as exc:
            log.warning("session revocations: ignored a message (%s)", exc)
            return
        if revocation.node == self.node or self._heard_by is None:
            return
        self.received += 1
        task = asyncio.get_running_loop().create_task(
            self._heard_by(revocation.user), name="session-revoked")
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("session revocations: %s", task.exception())
