"""The call store the flow writes through when the database may be away.

Every write goes to the database; if the database is unavailable (StoreError), the write is
appended to a local journal (JSON Lines, fsynced) instead, and so is every later write until
the journal is empty again, so the order is kept. A record opened during the outage gets a
provisional negative id; the replay maps it to the real one. ``replay`` runs in the
background: when the database answers, the journal is applied in order and truncated. A
crash in the middle of a replay replays again from the first entry not yet applied: opening
a record is idempotent (by channel id) and so is an update; an event may be written twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hotline.domain.calls import NewCall
from hotline.errors import StoreError
from hotline.ports import CallStore

log = logging.getLogger(__name__)
_WHEN = "__datetime__"


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {_WHEN: value.isoformat()}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_WHEN}:
            return datetime.fromisoformat(value[_WHEN])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class JournalingCallStore:
    def __init__(self, inner: CallStore, path: Path) -> None:
        self.inner = inner
        self.path = path
        self._ids: dict[int, int] = {}  # provisional -> real
        self._next_provisional = -1
        self._lock = asyncio.Lock()
        kept = self._entries()  # read once at start
        self.pending = len(kept)
        self.replayed = 0
        if self.pending:
            last = min((e.get("provisional", 0) for e in kept), default=0)
            self._next_provisional = min(-1, last - 1)
            log.warning("%d call-record writes journaled before a restart; replaying them when "
                        "the database answers", self.pending)

    # -- the CallStore port ----------------------------------------------------------------
    async def open_call(self, call: NewCall) -> int:
        if not self.pending:  # the usual case: straight to the database, no lock
            try:
                return await self.inner.open_call(call)
            except StoreError as exc:
                log.error("database unavailable, journaling call records: %s", exc)
        async with self._lock:
            provisional = self._next_provisional
            self._next_provisional -= 1
            self._append({"op": "open", "provisional": provisional, "call": _encode(
                {"channel_id": call.channel_id, "caller": call.caller, "called": call.called,
                 "arrived_at": call.arrived_at, "node": call.node,
                 "channel": call.channel})})
            return provisional

    async def update_call(self, call_id: int, **fields: Any) -> None:
        await self._write({"op": "update", "id": call_id, "fields": _encode(fields)},
                          lambda real: self.inner.update_call(real, **fields), call_id)

    async def add_event(self, call_id: int, kind: str, data: dict[str, Any],
                        at: datetime | None = None) -> None:
        at = at or datetime.now(UTC)  # the moment it happened, not the moment replayed
        await self._write({"op": "event", "id": call_id, "kind": kind, "data": _encode(data),
                           "at": at.isoformat()},
                          lambda real: self.inner.add_event(real, kind, data, at), call_id)

    async def ping(self) -> None:
        await self.inner.ping()

    async def _write(self, entry: dict[str, Any], direct: Any, call_id: int) -> None:
        real = self._ids.get(call_id, call_id)
        if not self.pending and real > 0:
            try:
                await direct(real)
                return
            except StoreError as exc:
                log.error("database unavailable, journaling call records: %s", exc)
        async with self._lock:
            self._append(entry)

    # -- the journal -----------------------------------------------------------------------
    def _append(self, entry: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, (json.dumps(entry, ensure_ascii=False) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        self.pending += 1

    def _entries(self) -> list[dict[str, Any]]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        out = []
        for n, line in enumerate(lines, 1):
            try:
                out.append(json.loads(line))
            except ValueError:  # a torn last line from a crash mid-write
                log.error("%s:%d: unreadable journal line skipped", self.path, n)
        return out

    async def replay(self) -> int:
        """Apply the journal in order if the database answers; the entries applied."""
        async with self._lock:
            entries = self._entries()
            if not entries:
                self.pending = 0
                return 0
            done = 0
            try:
                await self.inner.ping()
                for entry in entries:
                    await self._apply(entry)
                    done += 1
            except StoreError as exc:
                log.warning("journal replay stopped after %d of %d: %s", done, len(entries),
                            exc)
            self._rewrite(entries[done:])
            self.pending = len(entries) - done
            self.replayed += done
            if done:
                log.warning("journal: %d call-record writes replayed, %d left", done,
                            self.pending)
            return done

    async def _apply(self, entry: dict[str, Any]) -> None:
        op = entry.get("op")
        if op == "open":
            call = _decode(entry["call"])
            self._ids[int(entry["provisional"])] = await self.inner.open_call(NewCall(**call))
            return
        real = self._ids.get(int(entry["id"]), int(entry["id"]))
        if real < 0:
            log.error("journal: a write for record %s whose opening was lost; skipped",
                      entry["id"])
        elif op == "update":
            await self.inner.update_call(real, **_decode(entry["fields"]))
        elif op == "event":
            when = datetime.fromisoformat(entry["at"]) if entry.get("at") else None
            await self.inner.add_event(real, str(entry["kind"]), _decode(entry["data"]), when)

    def _rewrite(self, rest: list[dict[str, Any]]) -> None:
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for entry in rest:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.path)

    async def keep_replaying(self, every_s: float = 2.0) -> None:
        while True:
            await asyncio.sleep(every_s)
            if self.pending:
                await self.replay()
